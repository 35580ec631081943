"""`python -m sandbox demo <source> [flags]`: the product's command line against embedded emulators.

What `python pipelines/<source>_to_docspace.py --sandbox` hands over to (as a child process, so
the product never imports this package): local Asana, Trello and DocSpace emulators with the
demo sample, the environment pointing the pipelines at them (state under data/sandbox, fresh each
time), the opt-in features switched on (documents copied too), then the very run the flags ask
for. A full run ends with the DocSpace tree read back from the emulator (folders, files, the
attachments not copied: sandbox.demo_tree) and the commands to look further; `--watch` also
changes the sample now and then, so folders are seen to follow.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from pipelines.command import EXIT_FAILED, guarded, run
from pipelines.flags import SANDBOX_DIR, build_parser
from pipelines.preflight import check_before_running
from pm_runtime.errors import UserFacingError
from pm_runtime.source_spec import SourceSpec, source_names, spec_for
from sandbox import Sandbox
from sandbox.demo_tree import format_tree


def demo_environment(sb: Sandbox, state_dir: Path) -> dict[str, str]:
    """The demo's environment: the pipelines pointed at `sb`'s emulators, their state in
    `state_dir`, and the opt-in features switched on to show them off on the sample."""
    from sandbox.docspace_sample import template_rules

    env = sb.environment()
    env["DESTINATION__DUCKDB__CREDENTIALS"] = str((state_dir / "pm.duckdb").resolve())
    env["DLT_DATA_DIR"] = str((state_dir / "dlt").resolve())
    # rooms from templates by project type, members
    env["DESTINATION__DOCSPACE__ROOM_TEMPLATES"] = json.dumps(template_rules())
    env["DESTINATION__DOCSPACE__SYNC_MEMBERS"] = "add"
    # documents: the sample's attachments copied into their task folders (shipped default "off")
    env["DESTINATION__DOCSPACE__ATTACHMENTS"] = "copy"
    return env


class DemoRunning(UserFacingError):
    """Another `--sandbox` demo holds data/sandbox."""


@contextlib.contextmanager
def embedded_sandbox() -> Iterator[Sandbox]:
    """Local emulators with sample data; state under data/sandbox, fresh each time."""
    with contextlib.ExitStack() as held:
        held.enter_context(_the_only_demo())
        if SANDBOX_DIR.exists():
            shutil.rmtree(SANDBOX_DIR)
        SANDBOX_DIR.mkdir(parents=True)
        yield held.enter_context(_demo_sandbox())


@contextlib.contextmanager
def _the_only_demo() -> Iterator[None]:
    """Each demo starts data/sandbox afresh: a second one beside the first would delete the
    state the first is loading (it ended in "Package … could not be found"). The second one
    stops instead, before touching anything (a lock file beside the directory, not in it)."""
    from pm_runtime.sync_lock import SyncLockHeld, file_sync_lock

    with contextlib.ExitStack() as held:
        try:
            held.enter_context(file_sync_lock(SANDBOX_DIR, "demo", timeout=0))
        except SyncLockHeld as held_by:
            raise DemoRunning(
                f"another --sandbox demo is running ({held_by.holder}) and uses "
                f"{SANDBOX_DIR}, which each demo starts afresh: try again when it has finished"
            ) from None
        yield


@contextlib.contextmanager
def _demo_sandbox() -> Iterator[Sandbox]:
    from sandbox.sample import populate

    with Sandbox() as sb:
        populate(sb, size="demo")
        env = demo_environment(sb, SANDBOX_DIR)
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


def run_demo(source: str, args: argparse.Namespace) -> int:
    with embedded_sandbox() as sb:
        return run_in_sandbox(sb, source, args)


def run_in_sandbox(sb: Sandbox, source: str, args: argparse.Namespace) -> int:
    """The demo's run against `sb` (from `embedded_sandbox`), which outlives it: a test reads
    the emulators afterwards."""
    print("Sandbox: local Asana, Trello and DocSpace emulators with sample data.", flush=True)
    # the settings are checked once the emulators are there to check them against, before
    # anything is loaded (as a run against real accounts checks them before its extract)
    check_before_running(source, argparse.Namespace(**{**vars(args), "sandbox": False}))
    if args.watch:
        return watch_with_changes(sb, source, args)
    code = run(source, args)
    if code != EXIT_FAILED and not args.extract_only and not args.plan:
        print(format_tree(source))
        print(format_next_steps(source, os.environ, sys.executable))
    return code


def watch_with_changes(sb: Sandbox, source: str, args: argparse.Namespace) -> int:
    """The product's watcher, while the sample changes now and then so folders are seen to follow.

    The changes run beside the watcher, not inside it: they start with it and stop when it
    returns (the watcher's own signal handling ends it; a change in flight is let finish)."""
    from pipelines.watch.process import watch
    from sandbox.mutations import SampleMutations

    stop = threading.Event()
    changes = SampleMutations(sb, source, stop, sys.stdout).start()
    try:
        return watch(source, args)
    finally:
        stop.set()
        changes.join(2.0)


def main(argv: list[str]) -> int:
    """`argv`: the source, then the product command line's own flags (`--sandbox` may be among them)."""
    if not argv or argv[0] not in source_names():
        print(
            f"usage: python -m sandbox demo {{{','.join(source_names())}}} [flags of the pipeline]"
        )
        return 2
    source = argv[0]
    args = build_parser(source).parse_args(argv[1:])
    # the demo is the sandbox, with or without `--sandbox`: its settings are checked once its
    # emulators are up (run_in_sandbox), not before (there is no portal to check yet)
    args.sandbox = True
    return guarded(source, args, run_demo)


def format_next_steps(source: str | SourceSpec, env: Mapping[str, str], executable: str) -> str:
    """Commands to look at what the run left, each runnable as printed from the project directory.

    No activated venv is assumed: Python is called by its path and `dlt` gets .venv/bin on PATH
    (it starts `marimo` from there for `show`). A sandbox run names its own data directories
    (`env` holds DLT_DATA_DIR and the DuckDB file then).
    """
    spec = spec_for(source)
    source, dataset, table = spec.name, spec.dataset, spec.nouns.rooms_table
    db_env = ""
    if env.get("DLT_DATA_DIR"):
        db = os.path.relpath(env.get("DESTINATION__DUCKDB__CREDENTIALS", ""))
        db_env = f"DESTINATION__DUCKDB__CREDENTIALS={db} "
        dlt_env = f"DLT_DATA_DIR={os.path.relpath(env['DLT_DATA_DIR'])} {db_env}"
    else:
        dlt_env = ""
    in_venv = ".venv" in executable
    python = os.path.relpath(executable) if in_venv else "python"
    bin_dir = os.path.dirname(python)
    dlt_cli = f"PATH={bin_dir}:$PATH {dlt_env}dlt" if in_venv else f"{dlt_env}dlt"
    demo = " DEMO=1" if dlt_env else ""
    return f"""
Next, query the staged data and the sync ledger with SQL:
  {db_env}{python} -m pm_runtime.query "SELECT name, archived FROM {dataset}.{table}"
  {db_env}{python} -m pm_runtime.query "SELECT status, count(*) FROM docspace_state.ledger GROUP BY ALL"
  {db_env}{python} -m pm_runtime.query "SELECT * FROM docspace_state.runs ORDER BY started_at DESC"
browse it in dlt's dashboard (Ctrl-C stops it):
  make show PIPELINE={source}{demo}
and inspect the loads into DuckDB and the runs into DocSpace:
  {dlt_cli} pipeline {source} info
  {dlt_cli} pipeline {source}_docspace trace"""
