"""One apply per pipeline at a time, even across machines: a lock held in (or beside) the staging database.

Two syncs of the same pipeline that apply at once (an overlapping cron, two machines sharing a
warehouse) would both plan from the same ledger and both create what is missing. The staging database
is what they share, so the lock lives there:

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) on a connection kept open for the
  run. The server drops it when that connection ends, so a killed sync never leaves it behind. The
  connection's `application_name` carries host and PID, so the second sync can name the holder.
- DuckDB: an `flock` on a file beside the database file (`pm.duckdb.<pipeline>.lock`). DuckDB's own
  file lock cannot serve: the sync holds the database only for short transactions so that readers get
  in between. The kernel drops an flock when its process dies, so a crash leaves no stale lock; the
  file's text (host, PID, start time) names the holder.

The second sync waits up to `timeout` seconds, then stops with one line naming the holder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pm_runtime.errors import UserFacingError

POLL_SECONDS = 0.2


class SyncLockHeld(UserFacingError):
    """Another sync of this pipeline holds the lock and did not let go in time."""


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
) -> None:
    deadline = time.monotonic() + timeout
    told = False
    while not try_acquire():
        if not told and say is not None:
            say(f"waiting up to {timeout:.0f}s: another sync of {pipeline} is running ({holder()})")
            told = True
        if time.monotonic() >= deadline:
            raise SyncLockHeld(
                f"another sync of {pipeline} is still running ({holder()}); waited {timeout:.0f}s "
                "— try again when it has finished, or raise staging.lock_timeout"
            )
        time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def file_sync_lock(
    database_path: str | Path,
    pipeline: str,
    timeout: float = 60.0,
    say: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold `<database>.<pipeline>.lock` for the duration of the block (DuckDB staging)."""
    import fcntl

    path = Path(f"{database_path}.{pipeline}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)

    def try_acquire() -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def holder() -> str:
        text = path.read_text(errors="replace").strip()
        return text or "holder unknown"

    try:
        _wait(try_acquire, holder, pipeline, timeout, say)
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder_text().encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def postgres_sync_lock(
    connect: Callable[[], Any],
    pipeline: str,
    timeout: float = 60.0,
    say: Callable[[str], None] | None = None,
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

        _wait(try_acquire, holder, pipeline, timeout, say)
        try:
            yield
        finally:
            with con.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [key])
    finally:
        con.close()


@contextlib.contextmanager
def sync_lock(pipeline: str, timeout: float | None = None) -> Iterator[None]:
    """The lock for `pipeline` in whichever staging database is configured, waiting up to
    `[staging] lock_timeout` seconds and saying once, on stderr, who holds it."""
    from pm_runtime.staging import staging_database_path
    from pm_runtime.staging_database import configured_destination, open_warehouse
    from pm_runtime.staging_lock import lock_timeout

    wait = lock_timeout() if timeout is None else timeout

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    warehouse = configured_destination()
    if warehouse == "duckdb":
        with file_sync_lock(staging_database_path(), pipeline, wait, say):
            yield
        return
    if warehouse != "postgres":
        # MotherDuck has no advisory locks; a second sync there is not stopped (documented)
        yield
        return
    with contextlib.ExitStack() as stack:

        def connect() -> Any:
            # a session of its own, held for the whole run: the lock lives as long as it does
            return stack.enter_context(open_warehouse(warehouse)).client.native_connection

        with postgres_sync_lock(connect, pipeline, wait, say):
            yield
