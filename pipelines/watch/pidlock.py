"""One long-running process per pipeline: an exclusive lock on a pid file.

`flock` is released by the kernel when the process dies (even by SIGKILL), so a stale
file never blocks a restart; the file holds the holder's PID so a second start can say
who is running.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from pm_runtime.errors import UserFacingError


class AlreadyRunning(UserFacingError):
    """Another process holds the lock; the message names its PID."""


class PidLock:
    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._fd: int | None = None

    def acquire(self) -> PidLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyRunning(
                f"{self.what} is already running (PID {holder}, lock {self.path})"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the lock goes with the descriptor; the file stays (harmless)
            self._fd = None

    def __enter__(self) -> PidLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
