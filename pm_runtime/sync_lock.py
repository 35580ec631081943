"""One run per pipeline at a time, even across machines: a lock held in (or beside) the staging database.

Two runs of the same pipeline at once (an overlapping cron, a run beside a watcher, two machines
sharing a warehouse) would both plan from the same ledger and both create what is missing, and
before that share dlt's working folder: one loads a half-written file of the other, or finds its
package gone and reports "nothing staged". So the lock is taken before the source is extracted
and held until the last DocSpace write (`pipelines.run_lock`, the watcher's cycle, `Sync.run`).
The staging database is what the runs share, so the lock lives there:

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection kept open for the
  run. The server drops it when that connection ends, so a killed sync never leaves it behind. The
  connection's `application_name` carries host and PID, so the second sync can name the holder.
- DuckDB: an `flock` on a file beside the database file (`pm.duckdb.<pipeline>.lock`). DuckDB's own
  file lock cannot serve: the sync holds the database only for short transactions so that readers get
  in between. The kernel drops an flock when its process dies, so a crash leaves no stale lock; the
  file's text (host, PID, start time) names the holder. An flock belongs to the open file, so a
  run that execs itself for its sync (`pipelines.fresh_sync`) keeps it by keeping the descriptor
  (`hand_over`, `adopted_lock`).

The second run waits up to `timeout` seconds, then stops with one line naming the holder
(`--skip-if-running`: does not wait, and exits 0 saying so).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pm_runtime.errors import UserFacingError

POLL_SECONDS = 0.2


class SyncLockHeld(UserFacingError):
    """Another run of this pipeline holds the lock and did not let go in time."""

    holder: str = ""  # who holds it, as the lock says ("PID … on host, since …")


class RunSkipped(UserFacingError):
    """`--skip-if-running`: another run of this pipeline holds the lock, so this one does nothing."""


def _holder_text() -> str:
    return f"PID {os.getpid()} on {socket.gethostname()}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _lock_id(pipeline: str) -> int:
    """A stable signed 64-bit advisory-lock key for a pipeline name."""
    digest = hashlib.sha256(f"pm-docspace-sync:{pipeline}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _wait(
    try_acquire: Callable[[], bool],
    holder: Callable[[], str],
    pipeline: str,
    timeout: float,
    say: Callable[[str], None] | None,
    busy: type[UserFacingError] = SyncLockHeld,
) -> None:
    deadline = time.monotonic() + timeout
    told = False
    while not try_acquire():
        if busy is RunSkipped:
            raise RunSkipped(
                f"skipped: another run of the {pipeline} pipeline is running ({holder()}) (--skip-if-running)"
            )
        if not told and say is not None:
            say(
                f"waiting up to {timeout:g}s: another run of the {pipeline} pipeline is running ({holder()})"
            )
            told = True
        if time.monotonic() >= deadline:
            who = holder()
            error = busy(
                f"another run of the {pipeline} pipeline is still running ({who}); waited {timeout:g}s "
                "— try again when it has finished, or raise staging.lock_timeout"
            )
            error.holder = who  # type: ignore[attr-defined]
            raise error
        time.sleep(POLL_SECONDS)


_lock_files: dict[str, int] = {}  # pipeline → descriptor of the lock file this process holds


@contextlib.contextmanager
def file_sync_lock(
    database_path: str | Path,
    pipeline: str,
    timeout: float = 60.0,
    say: Callable[[str], None] | None = None,
    *,
    busy: type[UserFacingError] = SyncLockHeld,
) -> Iterator[None]:
    """Hold `<database>.<pipeline>.lock` for the duration of the block (DuckDB staging)."""
    path = _lock_path(database_path, pipeline)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

    def holder() -> str:
        text = path.read_text(errors="replace").strip()
        return text or "holder unknown"

    try:
        _wait(lambda: _try_flock(fd), holder, pipeline, timeout, say, busy)
    except BaseException:
        os.close(fd)
        raise
    with _holding(fd, pipeline):
        yield


def _lock_path(database_path: str | Path, pipeline: str) -> Path:
    return Path(f"{database_path}.{pipeline}.lock")


def _try_flock(fd: int) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def _holding(fd: int, pipeline: str, *, name_holder: bool = True) -> Iterator[None]:
    """The block, with the flock on `fd` held: the file names this process (unless it already
    does: `name_holder` False, when the lock came across an exec); let go and closed after."""
    import fcntl

    _lock_files[pipeline] = fd
    try:
        if name_holder:
            os.ftruncate(fd, 0)
            os.pwrite(fd, _holder_text().encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        _lock_files.pop(pipeline, None)
        os.close(fd)


def hand_over(pipeline: str) -> int | None:
    """The descriptor of `pipeline`'s lock file that this process holds, made to survive `exec`.

    The program exec'd in this process's place (same PID) goes on holding the lock through it
    (`adopted_lock`): no other run gets in between. None when this process holds no lock file
    for `pipeline` (PostgreSQL's lock lives in a connection, which an exec ends)."""
    fd = _lock_files.get(pipeline)
    if fd is not None:
        os.set_inheritable(fd, True)
    return fd


@contextlib.contextmanager
def adopted_lock(pipeline: str, fd: int | None) -> Iterator[None]:
    """`pipeline`'s lock for the block, through the descriptor that the program this process was
    before `exec` handed over (`hand_over`); an flock belongs to the open file, which the exec kept,
    so it is still held. Without one (or one that is not that lock file) the lock is taken as
    `sync_lock` takes it."""
    if fd is None or not _is_lock_file(fd, pipeline) or not _try_flock(fd):
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        with sync_lock(pipeline):
            yield
        return
    os.set_inheritable(fd, False)  # the processes this one starts do not hold it
    held = _held_here()
    held.add(pipeline)
    try:
        # the same PID named it at the run's start; "since" stays the run's, not the sync's
        with _holding(fd, pipeline, name_holder=False):
            yield
    finally:
        held.discard(pipeline)


def _is_lock_file(fd: int, pipeline: str) -> bool:
    from pm_runtime.staging import staging_database_path

    try:
        mine, lock = os.fstat(fd), os.stat(_lock_path(staging_database_path(), pipeline))
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (lock.st_dev, lock.st_ino)


@contextlib.contextmanager
def postgres_sync_lock(
    connect: Callable[[], Any],
    pipeline: str,
    timeout: float = 60.0,
    say: Callable[[str], None] | None = None,
    *,
    busy: type[UserFacingError] = SyncLockHeld,
) -> Iterator[None]:
    """Hold a session advisory lock on a connection of its own for the block (PostgreSQL staging).

    `connect` returns a new DB-API connection (psycopg2) to the staging database.
    """
    key = _lock_id(pipeline)
    con = connect()
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(
                "SELECT set_config('application_name', %s, false)",
                [f"pm-docspace-sync {_holder_text()}"[:63]],  # PostgreSQL keeps 63 bytes
            )

        def try_acquire() -> bool:
            with con.cursor() as cur:
                cur.execute("SELECT pg_try_advisory_lock(%s)", [key])
                return bool(cur.fetchone()[0])

        def holder() -> str:
            with con.cursor() as cur:
                cur.execute(
                    "SELECT a.application_name, host(a.client_addr), a.pid FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                    "AND l.granted AND l.objsubid = 1 AND l.classid = %s::oid AND l.objid = %s::oid",
                    # a bigint key shows in pg_locks as its high and low 32 bits
                    [(key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF],
                )
                row = cur.fetchone()
            if not row:
                return "holder unknown"
            name, addr, pid = row
            name = str(name or "").removeprefix("pm-docspace-sync ")
            return f"{name or 'a client'} (server backend {pid}, from {addr or 'local socket'})"

        _wait(try_acquire, holder, pipeline, timeout, say, busy)
        try:
            yield
        finally:
            with con.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [key])
    finally:
        con.close()


_held = threading.local()  # the pipelines this thread holds the lock of (the lock is re-entrant)


@contextlib.contextmanager
def sync_lock(
    pipeline: str, timeout: float | None = None, *, skip_if_held: bool = False
) -> Iterator[None]:
    """The lock for one run of `pipeline` (a source: `asana`) in whichever staging database is
    configured, from the extract to the last DocSpace write, waiting up to `[staging]
    lock_timeout` seconds and saying once, on stderr, who holds it.

    Re-entrant in one thread: the command line takes it before the extract and the sync inside
    finds it held. `skip_if_held` does not wait: `RunSkipped` at once when another run has it.
    The first holder in a process also takes over dlt state left in dlt's old default folder
    (`pm_runtime.dlt_state`), so no other process is between its steps while it moves.
    """
    held = _held_here()
    if pipeline in held:
        yield
        return
    with _acquired(pipeline, timeout, skip_if_held):
        held.add(pipeline)
        try:
            from pm_runtime.dlt_state import take_over_legacy_state

            take_over_legacy_state(pipeline, (pipeline, f"{pipeline}_docspace"))
            yield
        finally:
            held.discard(pipeline)


def _held_here() -> set[str]:
    held: set[str] = getattr(_held, "pipelines", None) or set()
    _held.pipelines = held
    return held


@contextlib.contextmanager
def _acquired(pipeline: str, timeout: float | None, skip_if_held: bool) -> Iterator[None]:
    from pm_runtime.staging import staging_database_path
    from pm_runtime.staging_database import configured_destination, open_warehouse
    from pm_runtime.staging_lock import lock_timeout

    wait = 0.0 if skip_if_held else (lock_timeout() if timeout is None else timeout)
    busy = RunSkipped if skip_if_held else SyncLockHeld

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    warehouse = configured_destination()
    if warehouse == "duckdb":
        with file_sync_lock(staging_database_path(), pipeline, wait, say, busy=busy):
            yield
        return
    if warehouse != "postgres":
        # MotherDuck has no advisory locks; a second run there is not stopped (documented)
        yield
        return
    with contextlib.ExitStack() as stack:

        def connect() -> Any:
            # a session of its own, held for the whole run: the lock lives as long as it does
            return stack.enter_context(open_warehouse(warehouse)).client.native_connection

        with postgres_sync_lock(connect, pipeline, wait, say, busy=busy):
            yield
