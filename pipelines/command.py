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
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.report import format_plan, format_summary
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
SANDBOX_DIR = Path("data") / "sandbox"  # where `python -m sandbox demo` keeps its state
PROJECT_DIR = Path(__file__).resolve().parents[1]

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
    from pm_runtime.staging import staging_pipeline

    spec = SOURCES[source]
    module = importlib.import_module(spec["module"])
    make_source = getattr(module, spec["function"])
    pipeline = staging_pipeline(source, spec["dataset"], progress="tqdm" if progress else None)
    info = pipeline.run(make_source())
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    rows = {t: n for t, n in sorted(counts.items()) if not t.startswith("_dlt")}
    shown = ", ".join(f"{t} {n}" for t, n in rows.items()) or "no changes"
    print(f"{spec['title']} → DuckDB ({spec['dataset']}): {shown}", flush=True)
    return info


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
            print(format_plan(the_plan, args.verbose))
            return EXIT_CHANGES if the_plan.has_changes else EXIT_OK
        result = sync.run(refresh=args.refresh)
    except NothingStaged as exc:
        print(f"{exc}: nothing to sync yet (run without --sync-only to load the source first)")
        return EXIT_OK
    finally:
        if bar is not None:
            bar.close()
    if args.verbose:
        print(format_plan(result.plan, args.verbose))
    print(format_summary(result))
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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(source).parse_args(argv)
    if args.sandbox:
        return hand_over_to_sandbox(source, argv)
    return guarded(source, args, run)


def guarded(
    source: str, args: argparse.Namespace, body: Callable[[str, argparse.Namespace], int]
) -> int:
    """`body(source, args)` once the flags are known to fit together; any error becomes one line."""
    from docspace_destination.apply import ApplySettings

    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    problem = ApplySettings.limits_problem(args.concurrency, args.max_writes, as_flags=True)
    if problem:
        print(f"error: {problem}")
        return EXIT_FAILED
    if args.watch and (args.plan or args.extract_only or args.sync_only):
        print("error: --watch cannot be combined with --plan, --extract-only or --sync-only")
        return EXIT_FAILED
    try:
        return body(source, args)
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


def hand_over_to_sandbox(source: str, argv: list[str]) -> int:
    """`--sandbox`: the same command line, run by `python -m sandbox demo` in a child process.

    The product never imports the emulators; the child shares this terminal (stdout/stderr)
    and its exit code is ours. SIGTERM is passed on; so is SIGINT unless the terminal already
    sent Ctrl-C to the child (it is in the terminal's foreground process group with us).
    """
    env = dict(os.environ)  # the child finds the project's packages from any working directory
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")]))
    sys.stdout.flush()
    child = subprocess.Popen([sys.executable, "-m", "sandbox", "demo", source, *argv], env=env)

    def pass_on(signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and _in_foreground():
            return
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, pass_on)
    while True:
        with contextlib.suppress(InterruptedError):
            return child.wait()


def _in_foreground() -> bool:
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError):
        return False
