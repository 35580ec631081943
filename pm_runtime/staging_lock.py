"""Waiting for the staging DuckDB file when another process has it open.

DuckDB lets one process write a database file, or any number of processes read it,
never both: a second process gets `IO Error: Could not set lock on file … Conflicting
lock is held in … (PID n)`. Every opener of the staging database (the sync's short
transactions, dlt's loads, `python -m pm_runtime.query`) goes through
`wait_while_locked`, so it waits up to `[staging] lock_timeout` seconds (default 60,
env STAGING__LOCK_TIMEOUT), says once who holds the file, and then stops with one
clear line instead of a traceback.

A file written by a newer DuckDB than the pinned one is reported the same way: one
line saying what to do.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb

from pm_runtime.errors import UserFacingError

PINNED_DUCKDB = duckdb.__version__

_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")
_NEWER = re.compile(
    r"version number (?P<found>\d+), but we can only read versions? (?:between )?"
    r"(?P<low>\d+)(?: and (?P<high>\d+))?"
)

T = TypeVar("T")


class StagingLocked(UserFacingError):
    """The staging database stayed locked by another process for the whole lock timeout."""


class StagingTooNew(UserFacingError):
    """The staging database was written by a newer DuckDB than this project pins."""


def lock_timeout() -> float:
    """`[staging] lock_timeout` (env STAGING__LOCK_TIMEOUT): seconds to wait for a locked file."""
    from pm_runtime.staging_config import staging_config

    return staging_config().lock_timeout


def shown_path(path: str) -> str:
    """The database path as the user typed it: relative to the working directory when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith("..") else relative


def lock_holder(exc: BaseException) -> str | None:
    """'PID 1234 (python3.11)' when `exc` is DuckDB's file-lock conflict, else None."""
    found = _HOLDER.search(str(exc))
    if not isinstance(exc, duckdb.IOException) or found is None:
        return None
    return f"PID {found['pid']} ({os.path.basename(found['exe'])})"


def too_new(exc: BaseException, path: str) -> StagingTooNew | None:
    """The one-line explanation when `exc` says the file comes from a newer DuckDB."""
    found = _NEWER.search(str(exc))
    if not isinstance(exc, duckdb.IOException) or found is None:
        return None
    readable = found["low"] + (f"–{found['high']}" if found["high"] else "")
    return StagingTooNew(
        f"{shown_path(path)} was written by a newer DuckDB (storage version {found['found']}; "
        f"duckdb {PINNED_DUCKDB} reads {readable}); this project pins duckdb {PINNED_DUCKDB}: "
        "delete the file and re-run to reload it (rooms and folders already in DocSpace are "
        "adopted, not duplicated), or copy the data over with that newer DuckDB "
        "(EXPORT DATABASE there, IMPORT DATABASE here)"
    )


_announced: set[tuple[str, str]] = set()
_announced_lock = threading.Lock()


def _announce(path: str, holder: str, timeout: float) -> None:
    """Say once per process and holder who has the file, so a wait is never a silent hang."""
    with _announced_lock:
        if (path, holder) in _announced:
            return
        _announced.add((path, holder))
    print(
        f"{shown_path(path)} is in use by another process, {holder}; "
        f"waiting up to {timeout:g} s (staging.lock_timeout)",
        file=sys.stderr,
        flush=True,
    )


def wait_while_locked(open_database: Callable[[], T], path: str, timeout: float | None = None) -> T:
    """`open_database()`, retried while another process holds the file, for up to `timeout` s.

    Only the lock conflict is retried; a file from a newer DuckDB becomes StagingTooNew and
    any other error propagates unchanged.
    """
    limit = lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + limit
    delay = 0.02
    while True:
        try:
            return open_database()
        except duckdb.Error as exc:
            newer = too_new(exc, path)
            if newer is not None:
                raise newer from None
            holder = lock_holder(exc)
            if holder is None:
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                raise StagingLocked(
                    f"{shown_path(path)} is locked by another process, {holder}, and stayed "
                    f"locked for {limit:g} s; try again when it is done, or wait longer with "
                    f"[staging] lock_timeout in .dlt/config.toml (env STAGING__LOCK_TIMEOUT)"
                ) from None
            _announce(path, holder, limit)
            # short first retries (a sync's transactions last milliseconds), then a steady poll
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.25)
