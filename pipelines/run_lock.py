"""One run of a pipeline at a time, from the extract to the last DocSpace write.

The command line takes the pipeline's lock (`pm_runtime.sync_lock`: a lock file beside the
DuckDB file, a session advisory lock on PostgreSQL) before the source is extracted and holds it
until the sync ends; the sync inside finds it already held (so does the fresh process that a
big run execs into for its sync, handed the lock's file descriptor: `pipelines.fresh_sync`).
A second run waits up to `[staging] lock_timeout` and then stops with one `error:` line naming
the holder (exit 1), or, with `--skip-if-running`, says so in one line at once and exits 0 —
what a scheduler wants, so a cron line needs no `flock`. `--watch` takes the same lock for each
cycle instead (see `pipelines.watch.process`); `--plan --sync-only` reads only and takes none.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable

from pm_runtime.sync_lock import RunSkipped, sync_lock

Body = Callable[[str, argparse.Namespace], int]


def needs_lock(args: argparse.Namespace) -> bool:
    """A run that extracts or writes; a watcher locks per cycle, a pure plan of staged data reads."""
    return not (args.watch or (args.plan and args.sync_only))


def one_run_at_a_time(body: Body) -> Body:
    """`body(source, args)` holding the pipeline's lock for its whole length."""

    @functools.wraps(body)
    def locked(source: str, args: argparse.Namespace) -> int:
        if not needs_lock(args):
            return body(source, args)
        try:
            with sync_lock(source, skip_if_held=bool(getattr(args, "skip_if_running", False))):
                return body(source, args)
        except RunSkipped as exc:
            print(exc, flush=True)
            return 0

    return locked
