"""One HTTP policy for every client: backoff with jitter, Retry-After, "was the write applied?".

- `backoff(attempt)`: exponential with full jitter, so concurrent workers that failed
  together do not retry together.
- `retry_after(headers, attempt)`: the server's `Retry-After` (delta-seconds or an
  HTTP-date, RFC 9110 §10.2.3), capped so a hostile value cannot park a run; the backoff
  when the header is absent or unreadable.
- `write_outcome(status)`: after a non-idempotent write, whether the server surely did
  nothing (`REFUSED`: a 4xx, a 429 — safe to send again after waiting), surely did it
  (`APPLIED`: 2xx), or may have (`UNKNOWN`: a 5xx, a lost reply — look before sending
  again). `AmbiguousWriteError` is the one exception for the last case, raised by every
  write-back client and the DocSpace client alike.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

BACKOFF_BASE_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 30.0
MAX_RETRY_AFTER_SECONDS = 60.0
APPLIED, REFUSED, UNKNOWN = "applied", "refused", "unknown"


class AmbiguousWriteError(Exception):
    """A write whose outcome is unknown (lost reply, timeout, 5xx): look before sending again.

    `status` is the reply's HTTP status, 0 when no reply came. A client with its own error
    family subclasses both (`class X(ClientError, AmbiguousWriteError)`), so one `except
    AmbiguousWriteError` catches the case for every service."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


def backoff(
    attempt: int,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_MAX_SECONDS,
    jitter: bool = True,
) -> float:
    """Seconds to wait before retry number `attempt` (0-based)."""
    ceiling = min(cap, base * 2**attempt)
    return random.uniform(ceiling / 2, ceiling) if jitter else ceiling


def parse_retry_after(value: Any, now: dt.datetime | None = None) -> float | None:
    """Seconds a `Retry-After` value asks for (delta-seconds or HTTP-date); None if unreadable."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def retry_after(
    headers: Mapping[str, Any] | None, attempt: int, cap: float = MAX_RETRY_AFTER_SECONDS
) -> float:
    """How long to wait after a 429/503: the server's word (capped), else the backoff."""
    value = None
    for name, v in (headers or {}).items():
        if str(name).lower() == "retry-after":
            value = v
            break
    seconds = parse_retry_after(value)
    if seconds is None or seconds <= 0:
        seconds = backoff(attempt)
    return min(cap, seconds)


def write_outcome(status: int | None) -> str:
    """What a reply status says about a non-idempotent write (None/0: no reply at all)."""
    if not status or status >= 500:
        return UNKNOWN
    if status < 400:
        return APPLIED
    return REFUSED
