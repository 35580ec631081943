"""One HTTP policy for every client: what is retried, how long to wait, "was the write applied?".

Every client of the project (DocSpace, the Asana SDK, Trello's RESTClient session, the link
writers, the attachment listings and downloads) sends through what this module decides;
none keeps a retry loop of its own (tests/test_architecture.py holds them to it).

- `RetryPolicy.decide(reply, ...)`: after one send, whether to hand the reply on (`DONE`),
  wait and send again (`RETRY`), stop because a write may have been applied (`AMBIGUOUS`),
  stop because the retries are spent (`GAVE_UP`), or stop because the server asks for a
  wait longer than any run should sit through (`COME_BACK_LATER`, DocSpace's daily window).
- `send_with_retries(send, policy, ...)`: the one retry loop, for clients whose transport
  is ours (DocSpace over urllib3, Trello's requests session, the Asana link writer and
  batch listing over the SDK's calls).
- `urllib3_retry(policy, methods)`: the same decisions as a urllib3 `Retry`, for
  transports that run their own loop (the Asana SDK, the attachment downloads' sessions).

What counts as "surely not applied": a 429 (every service here answers it before running
the request) and a connection that never opened (`surely_not_sent`: refused, unknown host,
connect timeout). What counts as "may have been applied" for a write: a 5xx, a timeout
after the request went out, a connection reset after sending — raised as
`AmbiguousWriteError`, so the caller looks before it writes again.

Waiting: exponential backoff with full jitter (`backoff`), so workers that failed together
do not retry together; a server's `Retry-After` (delta-seconds or an HTTP-date, RFC 9110
§10.2.3) is honoured but capped, so a hostile value cannot park a run.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from pm_runtime.errors import exception_chain

log = logging.getLogger("pm_runtime.http")

BACKOFF_BASE_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 30.0
MAX_RETRY_AFTER_SECONDS = 60.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
THROTTLED = 429
APPLIED, REFUSED, UNKNOWN = "applied", "refused", "unknown"
# After an AmbiguousWriteError the caller looks (is the object there?) and writes again only
# if it is not: how many look-then-write rounds a record gets before it fails. Not a retry of
# the request — each round starts with a read only the caller knows how to make (rooms by
# marker, folders by title, links by URL) — but one number for all of them.
LOOK_THEN_WRITE_ATTEMPTS = 3

# what the policy says after one send
DONE, RETRY, AMBIGUOUS, GAVE_UP, COME_BACK_LATER = (
    "done",
    "retry",
    "ambiguous",
    "gave up",
    "come back later",
)


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


def header(headers: Mapping[str, Any] | None, name: str) -> Any:
    """A header's value from any mapping (case-insensitive, as HTTP names are); None if absent."""
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    return next((v for k, v in headers.items() if str(k).lower() == lowered), None)


def retry_after(
    headers: Mapping[str, Any] | None, attempt: int, cap: float = MAX_RETRY_AFTER_SECONDS
) -> float:
    """How long to wait after a 429/503: the server's word (capped), else the backoff."""
    seconds = parse_retry_after(header(headers, "Retry-After"))
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


_NOT_SENT_NAMES = {"ConnectTimeoutError", "NewConnectionError", "NameResolutionError"}


def surely_not_sent(exc: BaseException | None) -> bool:
    """The request never reached the server: the connection itself could not be opened.

    Looks through the wrappers (requests' ConnectionError → urllib3's MaxRetryError →
    NewConnectionError) for urllib3's connect failures (refused, unknown host, connect
    timeout). Anything else (a read timeout, a reset, a TLS failure) may have come after
    the request was sent."""
    for e in exception_chain(exc, ("reason",)):
        if any(c.__name__ in _NOT_SENT_NAMES for c in type(e).__mro__):
            return True
    return False


@dataclass
class Reply:
    """What one send came back with, as far as the policy needs to know."""

    status: int = 0  # the HTTP status; 0 when no reply came
    headers: Mapping[str, Any] = field(default_factory=dict)
    reached_server: bool = True  # False only when the connection surely never opened
    transport_retried: bool = False  # the transport below already spent its retries on it
    value: Any = None  # the client's own: the response, a parsed body, a cause's name


@dataclass
class Decision:
    verdict: str
    wait: float = 0.0
    retry_after: float | None = None  # what the server asked for, uncapped (None: nothing)


@dataclass(frozen=True)
class RetryPolicy:
    """How one client retries. Defaults are the project's; clients state only what differs.

    `attempts` caps the sends while failures (5xx, lost replies) repeat; 429s count toward
    it too unless `throttled_attempts` gives them their own cap (DocSpace: its 1-minute
    window asks for more patience than an outage deserves)."""

    attempts: int = 6
    throttled_attempts: int | None = None
    backoff_base: float = BACKOFF_BASE_SECONDS
    backoff_cap: float = BACKOFF_MAX_SECONDS
    throttle_backoff_cap: float | None = None  # None: `backoff_cap`
    max_retry_after: float = MAX_RETRY_AFTER_SECONDS
    # a 429 whose Retry-After exceeds `max_retry_after`: wait the cap (False) or stop (True)
    stop_beyond_max_retry_after: bool = False
    retry_statuses: frozenset[int] = RETRY_STATUSES

    def wait(self, attempt: int, cap: float | None = None) -> float:
        """The jittered backoff before retry number `attempt` (0-based)."""
        return backoff(attempt, self.backoff_base, self.backoff_cap if cap is None else cap)

    def decide(
        self,
        reply: Reply,
        *,
        idempotent: bool,
        failures: int,
        throttles: int,
        throttle_wait: float | None = None,
    ) -> Decision:
        """What to do after `reply`; `failures`/`throttles` count the replies so far, this one
        included. `throttle_wait` is a client's own reading of a 429 that names no Retry-After
        (Trello's window headers)."""
        asked = parse_retry_after(header(reply.headers, "Retry-After"))
        if reply.status == THROTTLED:
            too_long = asked is not None and asked > self.max_retry_after
            if too_long and self.stop_beyond_max_retry_after:
                return Decision(COME_BACK_LATER, retry_after=asked)
            used, cap = (
                (throttles, self.throttled_attempts)
                if self.throttled_attempts is not None
                else (throttles + failures, self.attempts)
            )
            if used >= cap:
                return Decision(GAVE_UP, retry_after=asked)
            if asked:
                wait = min(asked, self.max_retry_after)
            elif throttle_wait is not None:
                wait = throttle_wait
            else:
                wait = self.wait(used - 1, self.throttle_backoff_cap)
            return Decision(RETRY, wait, asked)
        if reply.status == 0 or reply.status in self.retry_statuses:
            if not idempotent and reply.reached_server:
                return Decision(AMBIGUOUS, retry_after=asked)
            used = failures + (0 if self.throttled_attempts is not None else throttles)
            if reply.transport_retried or used >= self.attempts:
                return Decision(GAVE_UP, retry_after=asked)
            wait = min(asked, self.max_retry_after) if asked else self.wait(used - 1)
            return Decision(RETRY, wait, asked)
        return Decision(DONE)


@dataclass
class Result:
    """The last reply and what the policy made of it (`DONE`, `AMBIGUOUS`, `GAVE_UP`,
    `COME_BACK_LATER`): the client words the error in its own terms."""

    verdict: str
    reply: Reply
    failures: int = 0
    throttles: int = 0
    retry_after: float | None = None


def send_with_retries(
    send: Callable[[], Reply],
    policy: RetryPolicy,
    *,
    idempotent: bool,
    sleep: Callable[[float], None] = time.sleep,
    throttle_wait: Callable[[Reply], float | None] | None = None,
    on_retry: Callable[[Reply, float, int], None] | None = None,
) -> Result:
    """The one retry loop: `send` once, ask the policy, wait, send again.

    `send` makes one attempt and describes it as a `Reply`; an exception it does not turn
    into a Reply is not the policy's business and propagates. The wait happens here,
    outside whatever `send` holds (a pacer's slot, a write semaphore)."""
    failures = throttles = 0
    while True:
        reply = send()
        if reply.status == THROTTLED:
            throttles += 1
        elif reply.status == 0 or reply.status in policy.retry_statuses:
            failures += 1
        own = throttle_wait(reply) if throttle_wait and reply.status == THROTTLED else None
        decision = policy.decide(
            reply,
            idempotent=idempotent,
            failures=failures,
            throttles=throttles,
            throttle_wait=own,
        )
        if decision.verdict != RETRY:
            return Result(decision.verdict, reply, failures, throttles, decision.retry_after)
        if on_retry is not None:  # the reply, the wait before the next send, that send's number
            on_retry(reply, decision.wait, failures + throttles + 1)
        sleep(decision.wait)


def tries(count: int) -> str:
    """How many requests a failure took, as the error line says it: "1 try", "9 tries"."""
    return "1 try" if count == 1 else f"{count} tries"


def announce_retry(service: str, cause: str, wait: float, attempt: int, attempts: int) -> None:
    """One line for a connection that failed and will be tried again: a run that waits on an
    unreachable service says so while it waits, not only when it gives up."""
    when = "at once" if wait < 0.05 else f"in {wait:.1f} s"
    log.warning("%s: %s; trying again %s (try %d of %d)", service, cause, when, attempt, attempts)


class _OwnRetryLines(logging.Filter):
    """Drops urllib3's "Retrying (PolicyRetry(total=…)) after connection broken by …" line
    (its repr of the policy and the raw exception, with the URL): `PolicyRetry` says it in
    one line of its own (`announce_retry`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (args and getattr(args[0], "announces", False))


def urllib3_retry(
    policy: RetryPolicy, methods: Collection[str], service: str = "", base_url: str = ""
) -> Any:
    """The policy as a urllib3 `Retry`, for a transport that loops on its own (the Asana SDK,
    a requests session's adapter): retries `policy.retry_statuses` and lost replies for
    `methods`, connect failures for any method (urllib3's rule: nothing was sent), waits the
    policy's jittered backoff or the server's Retry-After (capped), and hands back the last
    response instead of raising, so the client's own error handling words it. With `service`
    and `base_url` ("Asana", its URL), each retry after a failed connection is one line of
    ours (`announce_retry`) instead of urllib3's."""
    from urllib3.util.retry import Retry

    from pm_runtime.unreachable import connection_cause

    if service:
        connection_log = logging.getLogger("urllib3.connectionpool")
        if not any(isinstance(f, _OwnRetryLines) for f in connection_log.filters):
            connection_log.addFilter(_OwnRetryLines())

    class PolicyRetry(Retry):
        announces = bool(service)

        def increment(self, method=None, url=None, response=None, error=None, *args, **kwargs):  # type: ignore[no-untyped-def]
            after = super().increment(method, url, response, error, *args, **kwargs)
            if service and error is not None and response is None:
                tries = policy.attempts - (after.total or 0)
                cause = connection_cause(error, base_url)
                after.waits = after.get_backoff_time()  # drawn once: the wait said is the wait
                announce_retry(
                    f"{service} at {base_url}", cause, after.waits, tries, policy.attempts
                )
            return after

        def parse_retry_after(self, retry_after: str) -> float:
            # a hostile or buggy Retry-After must not park the run for hours
            seconds = parse_retry_after(retry_after)
            if seconds is None:
                return super().parse_retry_after(retry_after)  # raises InvalidHeader
            return min(seconds, policy.max_retry_after)

        waits: float | None = None

        def get_backoff_time(self) -> float:
            if self.waits is not None:
                return self.waits
            failed = 0
            for entry in reversed(self.history):
                if entry.redirect_location is not None:
                    break
                failed += 1
            # urllib3's shape (the first retry at once, then doubling), with the jitter
            return 0.0 if failed <= 1 else policy.wait(failed - 1)

    return PolicyRetry(
        total=policy.attempts - 1,
        status_forcelist=policy.retry_statuses,
        allowed_methods=frozenset(m.upper() for m in methods),
        backoff_max=policy.backoff_cap,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
