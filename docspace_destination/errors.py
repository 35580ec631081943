"""What the DocSpace client raises: the server's refusals, an unknown outcome, the daily limit."""

from __future__ import annotations

from datetime import datetime

from pm_runtime import http_policy
from pm_runtime.errors import UserFacingError


class DocSpaceError(Exception):
    """DocSpace refused a request; `status` is the HTTP status, the message is the server's."""

    service = "DocSpace"  # how `pm_runtime.failures` names it in the one-line error

    def __init__(self, status: int, message: str, where: str) -> None:
        super().__init__(f"{where}: {status} {message}")
        self.status = status
        self.message = message
        self.where = where


class AmbiguousWriteError(DocSpaceError, http_policy.AmbiguousWriteError):
    """A write whose outcome is unknown: it may have been applied. Look before retrying.

    A DocSpaceError (status, message, where) that is also the one "outcome unknown" error of
    every client (`pm_runtime.http_policy`)."""


class WriteLimitReached(DocSpaceError):
    """DocSpace's daily write limit (10,000 POST+PUT per user) is spent until `resets_at`.

    Nothing more can be written today: the run stops cleanly, the next run continues.
    """

    def __init__(self, resets_at: datetime, where: str) -> None:
        super().__init__(
            429, f"daily write limit reached; it resets at {resets_at:%Y-%m-%d %H:%M} UTC", where
        )
        self.resets_at = resets_at


class DocSpaceAuthError(UserFacingError):
    """Bad or missing API key: nothing can proceed."""
