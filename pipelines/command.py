"""The command line both entry points share: extract & load a source, plan, apply.

    python pipelines/asana_to_docspace.py [--plan] [--refresh] [--max-writes N] ...

Exit codes: 0 done (or, with --plan, nothing to do); 1 an error or a failed record;
2 with --plan when there are changes (like `terraform plan -detailed-exitcode`);
3 stopped at DocSpace's daily write limit (run again after the reset time it prints).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import logging
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pm_runtime.errors import UserFacingError, find_user_error

SOURCES: dict[str, dict[str, str]] = {
    "asana": {
        "module": "asana_source",
        "function": "asana_source",
        "dataset": "asana_data",
        "title": "Asana",
        "secret_hint": "SOURCES__ASANA__ACCESS_TOKEN (or access_token under [sources.asana] in .dlt/secrets.toml)",
    },
    "trello": {
        "module": "trello_source",
        "function": "trello_source",
        "dataset": "trello_data",
        "title": "Trello",
        "secret_hint": "SOURCES__TRELLO__API_KEY and SOURCES__TRELLO__TOKEN "
        "(or api_key/token under [sources.trello] in .dlt/secrets.toml)",
    },
}
EXIT_OK, EXIT_FAILED, EXIT_CHANGES, EXIT_LIMITED = 0, 1, 2, 3
SANDBOX_DIR = Path("data") / "sandbox"

log = logging.getLogger("pipelines")


def build_parser(source: str) -> argparse.ArgumentParser:
    title = SOURCES[source]["title"]
    parser = argparse.ArgumentParser(
        prog=f"python pipelines/{source}_to_docspace.py",
        description=(
            f"Load {title} into DuckDB (pipeline '{source}', dataset '{SOURCES[source]['dataset']}'), then make "
            f"ONLYOFFICE DocSpace match it (pipeline '{source}_docspace'): a room per "
            f"{'project' if source == 'asana' else 'board'}, a folder per {'task' if source == 'asana' else 'card'}."
        ),
        epilog="Exit codes: 0 ok / nothing to do, 1 error or failed records, 2 --plan found changes, "
        "3 stopped at DocSpace's daily write limit.",
    )
    parser.add_argument(
        "--plan",
        action="store_true",
        help="load the source, then print what would change in DocSpace and change nothing "
        "(exit 0: nothing to do, 2: changes pending)",
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="read DocSpace before planning, so hand-made renames, moves and deletions are corrected",
    )
    parser.add_argument(
        "--max-writes",
        type=int,
        metavar="N",
        help="stop cleanly after N DocSpace writes; the next run continues (default 9000; DocSpace allows 10,000/day)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="concurrent DocSpace writes, 1..15 (default 8; DocSpace rejects more than 15)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--extract-only",
        action="store_true",
        help="only load the source into DuckDB; do not touch DocSpace",
    )
    mode.add_argument(
        "--sync-only",
        action="store_true",
        help="skip the source; plan and apply from what DuckDB already holds",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="run everything against embedded local emulators with sample data (no account needed); "
        f"state goes to {SANDBOX_DIR}/",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="keep running: poll the source's change signal every --interval seconds and apply "
        "what changed within seconds (SIGTERM/Ctrl-C stops; see README, 'Running continuously')",
    )
    parser.add_argument(
        "--interval",
        type=float,
        metavar="S",
        help="with --watch: seconds between looks (default 30; stretched to stay within --api-share)",
    )
    parser.add_argument(
        "--api-share",
        type=float,
        metavar="F",
        help="with --watch: share of each API's quota the watcher may use (default 0.5)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail (-vv: debug logs)"
    )
    return parser


# --------------------------------------------------------------------------- steps


def extract(source: str, progress: bool) -> Any:
    from pm_runtime.staging import fit_file_formats, staging_label, staging_pipeline

    spec = SOURCES[source]
    module = importlib.import_module(spec["module"])
    make_source = getattr(module, spec["function"])
    pipeline = staging_pipeline(source, spec["dataset"], progress="tqdm" if progress else None)
    info = pipeline.run(fit_file_formats(pipeline, make_source()))
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    rows = {t: n for t, n in sorted(counts.items()) if not t.startswith("_dlt")}
    shown = ", ".join(f"{t} {n}" for t, n in rows.items()) or "no changes"
    print(f"{spec['title']} → {staging_label()} ({spec['dataset']}): {shown}", flush=True)
    return info


def print_plan(the_plan: Any, verbose: int, out: Any = None) -> None:
    out = out or sys.stdout
    counts = the_plan.counts()
    changes = the_plan.changes
    print(
        f"\nPlan for {the_plan.source}: {len(changes)} change(s), {the_plan.writes} DocSpace write(s)",
        file=out,
    )
    if counts.get("adopt"):
        print(
            "  (folders inside adopted rooms are adopted by title where they exist: "
            "the writes are at most this many)",
            file=out,
        )
    order = [
        "create",
        "create from template",
        "adopt",
        "move",
        "rename",
        "unarchive",
        "archive",
        "orphan",
        "restore",
        "blocked",
        "skip",
        "noop",
    ]
    for op in order:
        if not counts.get(op):
            continue
        if op == "skip":  # counted in projects; their folders are skipped with them
            shown = [a for a in the_plan.actions if a.op == op and a.kind == "room"]
            note = 'archived before their first sync: no room (archived_projects = "mirror" makes them)'
            print(f"  {op:<20} {len(shown):>6}  {note}", file=out)
        else:
            print(f"  {op:<20} {counts[op]:>6}", file=out)
            shown = [a for a in changes if a.label == op]
        if op == "noop":
            continue
        limit = None if verbose else 10
        for a in shown[:limit]:
            extra = f"  ({a.reason})" if a.reason and a.op != "skip" else ""
            where = (
                f" ← {a.from_key}" if a.op == "move" and a.from_key and a.from_key != a.key else ""
            )
            if a.template:
                where += f" from template {a.template!r}"
            if a.op == "adopt":
                how = "by title" if (a.found or "").startswith("title") else "by its marker tag"
                archived = ", archived" if a.found_in_archive else ""
                where += f" ← existing room {a.docspace_id} ({how}{archived})"
            print(f"      {a.kind:<6} {a.title!r}  [{a.key}]{where}{extra}", file=out)
        if limit and len(shown) > limit:
            print(f"      … and {len(shown) - limit} more (-v lists all)", file=out)


def print_summary(result: Any, out: Any = None) -> None:
    out = out or sys.stdout
    counts = result.report.counts if result.report else {}
    print(f"\nDocSpace sync summary ({result.source}, {result.seconds:.1f}s)", file=out)
    from docspace_destination.apply import OUTCOMES

    for name in OUTCOMES:
        if counts.get(name) or name in ("created", "failed", "unchanged"):
            print(f"  {name:<11} {counts.get(name, 0):>6}", file=out)
    skipped = result.plan.skipped_projects
    if skipped:
        note = "archived before their first sync: no room"
        print(f"  {'skipped':<11} {skipped:>6}  ({note})", file=out)
    print(
        f"  {'requests':<11} {result.reads + result.writes:>6}  ({result.writes} writes)", file=out
    )
    if result.resumed:
        print("  (finished a load left by an interrupted run first)", file=out)
    resets_at = result.report.write_limit_resets_at if result.report else None
    if resets_at is not None:
        print(
            f"  DocSpace's daily write limit reached; it resets at {resets_at:%Y-%m-%d %H:%M:%S} UTC: "
            "run again after that and it continues where this one stopped",
            file=out,
        )
    elif result.report and result.report.budget_exhausted:
        print("  write budget reached: the next run continues where this one stopped", file=out)
    for key, title, reason in (result.report.failures if result.report else [])[:50]:
        print(f"  FAILED {key} {title!r}: {reason}", file=out)
    print_steps(result, out)


def print_steps(result: Any, out: Any) -> None:
    """Counts of the opt-in write-back and members steps, their failures and unknown people."""
    for step in (getattr(result, "writeback", None), getattr(result, "members", None)):
        if step is None:
            continue
        counts = {k: v for k, v in step.counts.items() if k != "unknown people"}
        text = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to do"
        print(f"  {step.step:<11} {text}", file=out)
        for key, reason in step.failures[:50]:
            print(f"  FAILED {step.step} {key}: {reason}", file=out)
        if step.unknown_people:
            print(
                f"  people with no DocSpace account ({len(step.unknown_people)}, not invited):",
                file=out,
            )
            for who in step.unknown_people[:50]:
                print(f"    {who}", file=out)


def print_tree(source: str, out: Any = None) -> None:
    """The DocSpace tree this source maps to, read back from DocSpace."""
    out = out or sys.stdout
    from docspace_destination.client import DocSpaceClient
    from docspace_destination.ledger import Ledger
    from docspace_destination.settings import load_settings

    settings = load_settings(source)
    client = DocSpaceClient(settings.base_url, settings.api_key)
    try:
        rooms = sorted(
            (  # the ledger is read in one short transaction; the walk below only asks DocSpace
                e
                for e in Ledger().load(source).values()
                if e.kind == "room" and e.docspace_id is not None
            ),
            key=lambda e: e.title or "",
        )
        print(f"\nDocSpace tree for {source} ({len(rooms)} rooms):", file=out)

        def walk(folder_id: int, depth: int) -> None:
            for child in sorted(client.subfolders(folder_id), key=lambda c: c.get("title", "")):
                print(f"{'    ' * depth}📁 {child.get('title')}", file=out)
                walk(int(child["id"]), depth + 1)

        for room in rooms:
            state = " (archived)" if room.archived else ""
            print(f"  🏠 {room.title}{state}", file=out)
            walk(room.docspace_id, 2)
    finally:
        client.close()


def print_next_steps(source: str, out: Any = None) -> None:
    """Commands to look at what the run left, each runnable as printed from the project directory.

    No activated venv is assumed: Python is called by its path and `dlt` gets .venv/bin on PATH
    (it starts `marimo` from there for `show`). A sandbox run names its own data directories.
    """
    out = out or sys.stdout
    dataset = SOURCES[source]["dataset"]
    table = "projects" if source == "asana" else "boards"
    env = ""
    if os.environ.get("DLT_DATA_DIR"):
        db = os.path.relpath(os.environ.get("DESTINATION__DUCKDB__CREDENTIALS", ""))
        env = f"DESTINATION__DUCKDB__CREDENTIALS={db} "
        dlt_env = f"DLT_DATA_DIR={os.path.relpath(os.environ['DLT_DATA_DIR'])} {env}"
    else:
        dlt_env = ""
    in_venv = ".venv" in sys.executable
    python = os.path.relpath(sys.executable) if in_venv else "python"
    bin_dir = os.path.dirname(python)
    dlt_cli = f"PATH={bin_dir}:$PATH {dlt_env}dlt" if in_venv else f"{dlt_env}dlt"
    demo = " DEMO=1" if dlt_env else ""
    print(
        f"""
Next, query the staged data and the sync ledger with SQL:
  {env}{python} -m pm_runtime.query "SELECT name, archived FROM {dataset}.{table}"
  {env}{python} -m pm_runtime.query "SELECT status, count(*) FROM docspace_state.ledger GROUP BY ALL"
  {env}{python} -m pm_runtime.query "SELECT * FROM docspace_state.runs ORDER BY started_at DESC"
browse it in dlt's dashboard (Ctrl-C stops it):
  make show PIPELINE={source}{demo}
and inspect the loads into DuckDB and the runs into DocSpace:
  {dlt_cli} pipeline {source} info
  {dlt_cli} pipeline {source}_docspace trace""",
        file=out,
    )


# --------------------------------------------------------------------------- sandbox


@contextlib.contextmanager
def embedded_sandbox() -> Iterator[Any]:
    """Local emulators with sample data; state under data/sandbox, fresh each time."""
    from sandbox import Sandbox
    from sandbox.docspace_sample import template_rules
    from sandbox.sample import populate

    if SANDBOX_DIR.exists():
        shutil.rmtree(SANDBOX_DIR)
    SANDBOX_DIR.mkdir(parents=True)
    with Sandbox() as sb:
        populate(sb, size="demo")
        env = sb.environment()
        env["DESTINATION__DUCKDB__CREDENTIALS"] = str((SANDBOX_DIR / "pm.duckdb").resolve())
        env["DLT_DATA_DIR"] = str((SANDBOX_DIR / "dlt").resolve())
        # show off the opt-in features on the sample: rooms from templates by project type, members
        env["DESTINATION__DOCSPACE__ROOM_TEMPLATES"] = json.dumps(template_rules())
        env["DESTINATION__DOCSPACE__SYNC_MEMBERS"] = "add"
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield sb
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


# --------------------------------------------------------------------------- main


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="DocSpace", unit="action", file=sys.stderr)


def run(source: str, args: argparse.Namespace) -> int:
    from docspace_destination.desired import NothingStaged
    from docspace_destination.sync import Sync

    if args.watch:
        from pipelines.watch import watch

        return watch(source, args)
    interactive = sys.stderr.isatty()
    if not args.sync_only:
        info = extract(source, progress=interactive)
        if args.verbose:
            print(info, file=sys.stderr)
        if args.extract_only:
            print(
                f"{SOURCES[source]['title']} loaded into DuckDB (dataset {SOURCES[source]['dataset']})."
            )
            return EXIT_OK

    bar: Any = None

    def on_plan(the_plan: Any) -> None:
        nonlocal bar
        bar = _progress_bar(len(the_plan.changes), interactive)

    def progress(action: Any, outcome: str) -> None:
        if bar is not None:
            bar.update(1)

    sync = Sync(
        # the destination knows a source only by the spec its package states
        importlib.import_module(SOURCES[source]["module"]).DOCSPACE_SPEC,
        concurrency=args.concurrency,
        max_writes=args.max_writes,
        on_progress=progress,
        on_plan=on_plan,
    )
    try:
        if args.plan:
            the_plan = sync.run(plan_only=True, refresh=args.refresh).plan
            print_plan(the_plan, args.verbose)
            return EXIT_CHANGES if the_plan.has_changes else EXIT_OK
        result = sync.run(refresh=args.refresh)
    except NothingStaged as exc:
        print(f"{exc}: nothing to sync yet (run without --sync-only to load the source first)")
        return EXIT_OK
    finally:
        if bar is not None:
            bar.close()
    if args.verbose:
        print_plan(result.plan, args.verbose)
    print_summary(result)
    if result.failed:
        return EXIT_FAILED
    if result.report and result.report.write_limit_resets_at is not None:
        return EXIT_LIMITED
    return EXIT_OK


def _missing_config_message(exc: BaseException, source: str) -> str | None:
    from dlt.common.configuration.exceptions import ConfigFieldMissingException

    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ConfigFieldMissingException):
            fields = ", ".join(getattr(e, "fields", []) or [])
            return (
                f"Missing {SOURCES[source]['title']} credentials ({fields}): set "
                f"{SOURCES[source]['secret_hint']}"
            )
        e = e.__cause__ or e.__context__
    return None


def main(source: str, argv: list[str] | None = None) -> int:
    args = build_parser(source).parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if args.concurrency is not None and not 1 <= args.concurrency <= 15:
        print(
            "error: --concurrency must be between 1 and 15 (DocSpace rejects more than 15 concurrent writes)"
        )
        return EXIT_FAILED
    if args.max_writes is not None and args.max_writes < 0:
        print("error: --max-writes must be 0 or more")
        return EXIT_FAILED
    if args.watch and (args.plan or args.extract_only or args.sync_only):
        print("error: --watch cannot be combined with --plan, --extract-only or --sync-only")
        return EXIT_FAILED
    try:
        if args.sandbox:
            with embedded_sandbox() as sb:
                print(
                    "Sandbox: local Asana, Trello and DocSpace emulators with sample data.",
                    flush=True,
                )
                if args.watch:  # the sample changes now and then, so folders are seen to follow
                    from pipelines.watch import watch

                    return watch(source, args, sandbox=sb)
                code = run(source, args)
                if code != EXIT_FAILED and not args.extract_only and not args.plan:
                    print_tree(source)
                    print_next_steps(source)
                return code
        return run(source, args)
    except KeyboardInterrupt:
        print("interrupted: the next run continues where this one stopped")
        return EXIT_FAILED
    except Exception as exc:
        if args.verbose > 1:
            raise
        user = find_user_error(exc)
        message = str(user) if user else _missing_config_message(exc, source)
        if message is None:
            if isinstance(exc, UserFacingError):
                message = str(exc)
            else:
                message = (
                    f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                    + "  (-vv shows the traceback)"
                )
        print(f"error: {message}")
        return EXIT_FAILED
