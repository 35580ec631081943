"""The command line both entry points share: extract & load a source, plan, apply.

    python pipelines/asana_to_docspace.py [--plan] [--refresh] [--max-writes N] ...

Exit codes: 0 done (or, with --plan, nothing to do); 1 an error or a failed record;
2 with --plan when there are changes (like `terraform plan -detailed-exitcode`);
3 stopped at DocSpace's daily write limit (run again after the reset time it prints).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import Any

from pipelines.flags import build_parser, limits_flag_problem
from pipelines.handover import hand_over_to_sandbox
from pipelines.preflight import check_before_running
from pipelines.report import LISTED, format_plan, format_summary
from pipelines.run_lock import one_run_at_a_time
from pipelines.terminal_log import log_to_terminal
from pm_runtime.errors import ConfigurationError
from pm_runtime.failures import coercion_problem, describe_failure
from pm_runtime.source_spec import spec_for

EXIT_OK, EXIT_FAILED, EXIT_CHANGES, EXIT_LIMITED = 0, 1, 2, 3

log = logging.getLogger("pipelines")


# --------------------------------------------------------------------------- steps


def extract(source: str, progress: bool) -> Any:
    from pm_runtime.load_phases import run_pipeline
    from pm_runtime.staging import fit_file_formats, staging_label, staging_pipeline

    spec = spec_for(source)
    assert spec.dlt_source is not None, f"{source} states no dlt source"
    pipeline = staging_pipeline(spec.name, spec.dataset, progress="tqdm" if progress else None)
    # the destination may ask for more (attachments staged when it copies documents)
    from docspace_destination.settings import source_options

    try:
        make_source = spec.dlt_source(**source_options(spec.name))
    except Exception as exc:  # dlt names a setting it cannot read without its section
        said = coercion_problem(exc, f"sources.{spec.name}")
        if said is None:
            raise
        raise ConfigurationError(said) from None
    info = run_pipeline(pipeline, fit_file_formats(pipeline, make_source))  # big: own process
    counts = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    rows = {t: n for t, n in sorted(counts.items()) if not t.startswith("_dlt")}
    shown = ", ".join(f"{t} {n}" for t, n in rows.items()) or "no changes"
    print(f"{spec.display_title} → {staging_label()} ({spec.dataset}): {shown}", flush=True)
    return info


# --------------------------------------------------------------------------- main


def _progress_bar(total: int, enabled: bool) -> Any:
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="DocSpace", unit="action", file=sys.stderr)


@one_run_at_a_time  # the pipeline's lock from before the extract to the last write
def run(source: str, args: argparse.Namespace) -> int:
    from docspace_destination.desired import NothingStaged
    from docspace_destination.sync import Sync
    from pipelines.fresh_sync import sync_in_fresh_process
    from pm_runtime.load_phases import ChildLoad

    if args.watch:
        from pipelines.watch.process import watch

        return watch(source, args)
    interactive = sys.stderr.isatty()
    if not args.sync_only:
        info = extract(source, progress=interactive)
        if args.verbose:
            print(info, file=sys.stderr)
        if args.extract_only:
            spec = spec_for(source)
            print(f"{spec.display_title} loaded into DuckDB (dataset {spec.dataset}).")
            return EXIT_OK
        if isinstance(info, ChildLoad) and args.command_line is not None:
            # a big extract: the sync in a fresh process (this call returns only if exec failed)
            sync_in_fresh_process(source, args.command_line)

    bar: Any = None

    def on_plan(the_plan: Any) -> None:
        nonlocal bar
        bar = _progress_bar(the_plan.change_count, interactive)

    def progress(action: Any, outcome: str) -> None:
        if bar is not None:
            bar.update(1)

    sync = Sync(
        spec_for(source),  # the destination knows a source only by the spec its package states
        concurrency=args.concurrency,
        max_writes=args.max_writes,
        on_progress=progress,
        on_plan=on_plan,
        listed=None if args.verbose else LISTED,  # a plan keeps what it prints (memory: issue 21)
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


def main(source: str, argv: list[str] | None = None) -> int:
    """The command line `argv`, or this process's own (`sys.argv`): only that one may be
    replaced by a fresh process for the sync of a big run (`pipelines.fresh_sync`)."""
    own = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(source).parse_args(argv)
    if args.sandbox:
        return hand_over_to_sandbox(source, argv)
    args.command_line = argv if own else None
    return guarded(source, args, run)


def guarded(
    source: str,
    args: argparse.Namespace,
    body: Callable[[str, argparse.Namespace], int],
    *,
    checked: bool = False,
) -> int:
    """`body(source, args)` once the flags are known to fit together and (unless `checked`:
    the settings were checked by the run this one continues) the settings; any error becomes
    one line."""
    log_to_terminal(args.verbose)
    problem = limits_flag_problem(args.concurrency, args.max_writes)
    if problem:
        print(f"error: {problem}")
        return EXIT_FAILED
    if args.watch and (args.plan or args.extract_only or args.sync_only):
        print("error: --watch cannot be combined with --plan, --extract-only or --sync-only")
        return EXIT_FAILED
    try:
        if not checked:
            check_before_running(source, args)  # settings, then DocSpace: before the source is read
        return body(source, args)
    except KeyboardInterrupt:
        print("interrupted: the next run continues where this one stopped")
        return EXIT_FAILED
    except Exception as exc:
        if args.verbose > 1:
            raise
        spec = spec_for(source)
        hints = {spec.display_title: spec.credentials_hint}
        print(f"error: {describe_failure(exc, hints)}")
        return EXIT_FAILED
