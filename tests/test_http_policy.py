"""The one HTTP policy: Retry-After in both forms, capped; jittered backoff; write outcomes."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

from pm_runtime.http_policy import (
    APPLIED,
    REFUSED,
    UNKNOWN,
    backoff,
    parse_retry_after,
    retry_after,
    write_outcome,
)


def test_retry_after_in_seconds_is_taken_as_given() -> None:
    assert parse_retry_after("7") == 7.0


def test_retry_after_as_an_http_date_is_the_time_until_then() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    when = format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(when, now=now) == 30.0


def test_an_unreadable_retry_after_falls_back_to_the_backoff() -> None:
    assert parse_retry_after("soon") is None
    assert 0 < retry_after({"Retry-After": "soon"}, attempt=0) <= 0.25


def test_a_hostile_retry_after_is_capped() -> None:
    assert retry_after({"retry-after": "86400"}, attempt=0, cap=60) == 60


def test_backoff_grows_with_jitter_below_its_cap() -> None:
    waits = [backoff(5, base=0.25, cap=4.0) for _ in range(50)]
    assert all(2.0 <= w <= 4.0 for w in waits) and len(set(waits)) > 1


def test_a_lost_reply_or_a_5xx_leaves_a_write_unknown_and_a_4xx_refused() -> None:
    assert write_outcome(None) == UNKNOWN
    assert write_outcome(502) == UNKNOWN
    assert write_outcome(429) == REFUSED
    assert write_outcome(404) == REFUSED
    assert write_outcome(201) == APPLIED
