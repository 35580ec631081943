"""The sync of a big run in a fresh process: the extract's memory is not under the plan.

After the extract and normalize of 200,000 Asana tasks (the load itself already runs in a
process of its own: `pm_runtime.load_phases`) the process holds ~300 MB that it does not give
back (pyarrow's and dlt's pools, a fragmented heap: `malloc_trim` and Arrow's
`release_unused` return ~40 MB, and the sync's peak did not move). The sync's plan, run
on top of that, peaked 305 → 339 MB from 52,502 to 210,002 tasks (+11%, issue 21), where
the same sync in a process of its own peaks 267 → 274 MB (+2.6%).

So when the load ran in a process of its own (the sign of a big extract), the command line
`exec`s itself as `--sync-only`: the same PID, terminal, flags and exit code, a fresh heap.
The run lock is not let go in between: its lock file's descriptor survives the exec
(`pm_runtime.sync_lock.hand_over` / `adopted_lock`), so no other run gets in between the
extract and the sync. The settings were checked before the extract and are not checked (or
warned about) again. Small runs (an incremental day, a watcher's cycle) sync in the process
that extracted: they pay no second start-up (~1 s). Only a process's own command line is
exec'd (`main()` reading `sys.argv`), never a caller's process such as a test's.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from pipelines.handover import project_environment
from pm_runtime.sync_lock import adopted_lock, hand_over

NO_LOCK = "-"

log = logging.getLogger("pipelines")


def sync_in_fresh_process(source: str, argv: list[str]) -> None:
    """Replaces this process with `python -m pipelines.fresh_sync <source> <lock> <argv> --sync-only`.

    Returns only if the exec failed (the interpreter gone, out of memory): the sync then runs
    here, as for a small run. Output written so far is flushed first; the lock travels as a
    descriptor.
    """
    lock = hand_over(source)
    log.info(
        "the sync continues in a fresh process (same PID %d), without the extract's memory",
        os.getpid(),
    )
    env = project_environment()  # `-m pipelines.fresh_sync` from any working directory
    command = [
        sys.executable,
        "-m",
        "pipelines.fresh_sync",
        source,
        NO_LOCK if lock is None else str(lock),
    ]
    sys.stdout.flush()
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, [*command, *argv, "--sync-only"], env)
    except OSError as exc:
        if lock is not None:
            os.set_inheritable(lock, False)
        log.warning("the sync runs in this process: a fresh one could not start (%s)", exc)


def continue_sync(source: str, lock: str, argv: list[str]) -> int:
    """The exec'd half of a run (`sync_in_fresh_process`): its sync, under the lock handed over."""
    from pipelines.command import build_parser, guarded, run

    def locked_run(source: str, args: argparse.Namespace) -> int:
        with adopted_lock(source, None if lock == NO_LOCK else int(lock)):
            return run(source, args)

    return guarded(source, build_parser(source).parse_args(argv), locked_run, checked=True)


if __name__ == "__main__":
    from pm_runtime.lean_start import lean_exit

    lean_exit(continue_sync(sys.argv[1], sys.argv[2], sys.argv[3:]))
