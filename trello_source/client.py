"""A small Trello client on dlt's RESTClient: key/token auth, `before` paging, pacing, retries.

Trello answers 429 without Retry-After, so the session paces itself under the per-token
window and backs off from the `x-rate-limit-*` headers (exponentially when they are
absent). Error messages carry the path only: the key and token travel in the query
string and must never reach a log, an exception or a trace.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator

from pm_runtime.errors import UserFacingError
from pm_runtime.http_policy import (
    AMBIGUOUS,
    DONE,
    AmbiguousWriteError,
    Reply,
    RetryPolicy,
    announce_retry,
    send_with_retries,
    surely_not_sent,
    tries,
)
from pm_runtime.log_redaction import redact_request_logs
from pm_runtime.unreachable import ConnectionFailure
from trello_source import settings

log = logging.getLogger(__name__)


def trello_policy(max_retries: int = settings.MAX_RETRIES) -> RetryPolicy:
    """Trello's share of the one HTTP policy: one count for 429s and failures alike
    (`sources.trello.max_retries` retries after the first request)."""
    return RetryPolicy(
        attempts=max_retries + 1,
        backoff_base=settings.BACKOFF_BASE_SECONDS,
        backoff_cap=settings.BACKOFF_MAX_SECONDS,
    )


# Bodies of a 401 that mean the credentials themselves are bad (not just this board).
CREDENTIAL_ERRORS = ("invalid token", "invalid key", "invalid app key", "expired token")


class TrelloAuthError(UserFacingError):
    """The key or token was rejected: nothing can be read."""


class TrelloApiError(UserFacingError):
    """Trello kept failing (429/5xx/connection) after every retry."""


class TrelloAccessError(Exception):
    """One object (a board) cannot be read with this token: skip it, keep going."""

    def __init__(self, status: int, message: str, path: str) -> None:
        super().__init__(f"{status} {message} ({path})")
        self.status, self.message, self.path = status, message, path


class RateLimiter:
    """At most `max_requests` sends in any `interval` seconds (thread-safe)."""

    def __init__(
        self,
        max_requests: int = settings.REQUESTS_PER_WINDOW,
        interval: float = settings.WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_requests, self.interval = max_requests, interval
        self._clock, self._sleep = clock, sleep
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()
        self.waited = 0.0

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and self._sent[0] <= now - self.interval:
                    self._sent.popleft()
                if len(self._sent) < self.max_requests:
                    self._sent.append(now)
                    return
                wait = self._sent[0] + self.interval - now
            self.waited += wait
            self._sleep(wait)


redact_request_logs()  # urllib3 logs each request line, key and token in its query string


class TrelloAuth(requests.auth.AuthBase):
    """`?key=&token=` on every request; the repr never shows them."""

    def __init__(self, api_key: str, token: str) -> None:
        self._params = {"key": str(api_key), "token": str(token)}

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.prepare_url(request.url, self._params)
        return request

    def __repr__(self) -> str:
        return "TrelloAuth(key=***, token=***)"


def _path(request: requests.PreparedRequest | requests.Request) -> str:
    return urlsplit(request.url or "").path


def _origin(request: requests.PreparedRequest | requests.Request) -> str:
    """scheme://host[:port] of the request: never its query, which carries the key and token."""
    parts = urlsplit(request.url or "")
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _header_int(response: requests.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


def window_wait(response: requests.Response) -> float | None:
    """How long to wait after a 429 that names no Retry-After, read from Trello's headers.

    When a window reports nothing remaining, wait one whole window (it has refilled by
    then); otherwise (None) the 429 was not our window's doing: the policy backs off."""
    waits = []
    for scope in ("token", "key"):
        remaining = _header_int(response, f"x-rate-limit-api-{scope}-remaining")
        interval_ms = _header_int(response, f"x-rate-limit-api-{scope}-interval-ms")
        if remaining is not None and interval_ms is not None and remaining <= 0:
            waits.append(interval_ms / 1000)
    return max(waits) if waits else None


class TrelloSession(requests.Session):
    """Paces every send; retries what the one HTTP policy retries (`pm_runtime.http_policy`):
    429 always, 5xx and lost replies for reads, a connection that never opened for any method.

    A POST whose reply was lost (dropped connection, timeout, 5xx) may have been applied:
    it is never sent again blindly but raised as `AmbiguousWriteError`, so the caller
    looks before posting again (an attachment must not be made twice)."""

    def __init__(
        self,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        policy: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.limiter = limiter or RateLimiter()
        self.policy = policy or trello_policy()
        self._sleep = sleep
        self.requests_sent = 0
        self.retries = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", settings.REQUEST_TIMEOUT_SECONDS)

        def send_once() -> Reply:
            self.limiter.acquire()
            self.requests_sent += 1
            try:
                response = super(TrelloSession, self).send(request, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                # the exception text contains the full URL with key and token: only its cause
                # is kept, in words naming the host (`pm_runtime.unreachable`)
                sent = not surely_not_sent(exc)
                failure = ConnectionFailure.of(
                    exc, request.url or "", settings.REQUEST_TIMEOUT_SECONDS
                )
                return Reply(0, reached_server=sent, value=failure)
            return Reply(response.status_code, response.headers, value=response)

        result = send_with_retries(
            send_once,
            self.policy,
            idempotent=request.method != "POST",
            sleep=self._sleep,
            throttle_wait=lambda reply: window_wait(reply.value),
            on_retry=lambda reply, wait, number: self._count_retry(request, reply, wait, number),
        )
        reply = result.reply
        if result.verdict == DONE:
            return reply.value
        problem = (
            str(reply.value)
            if not reply.status
            else "429 rate limited"
            if reply.status == 429
            else f"{reply.status} server error"
        )
        if result.verdict == AMBIGUOUS:
            if not reply.status:
                raise AmbiguousWriteError(f"no reply ({reply.value})")
            raise AmbiguousWriteError(problem, reply.status)
        took = tries(result.failures + result.throttles)
        if isinstance(reply.value, ConnectionFailure) and reply.value.unreachable:
            raise TrelloApiError(
                f"Trello at {_origin(request)} cannot be reached ({took}): {problem} — "
                "check sources.trello.base_url"
            )
        raise TrelloApiError(
            f"Trello kept failing on {request.method} {_path(request)}: {problem} after {took}"
        )

    def _count_retry(
        self, request: requests.PreparedRequest, reply: Reply, wait: float, number: int
    ) -> None:
        self.retries += 1
        if not reply.status:  # a connection that failed: said while the run waits on it
            service = f"Trello at {_origin(request)}"
            announce_retry(service, str(reply.value), wait, number, self.policy.attempts)


def check_response(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """Turn Trello's plain-text 4xx bodies into our errors (a response hook)."""
    status = response.status_code
    if status < 400 or status == 429 or status >= 500:
        return  # success, or the session's retry loop handles it
    body = (response.text or "").strip()[:200] or (response.reason or "")
    if status == 401 and body.lower() in CREDENTIAL_ERRORS:
        what = "API key" if "key" in body.lower() else "token"
        raise TrelloAuthError(f"Trello rejected the {what}: {body}")
    raise TrelloAccessError(status, body, _path(response.request))


class BeforePaginator(BasePaginator):
    """Trello's paging: newest first, `before=<oldest id seen>` until a short page."""

    def __init__(self, limit: int = settings.PAGE_LIMIT) -> None:
        super().__init__()
        self.limit = limit
        self.before: str | None = None

    def init_request(self, request: requests.Request) -> None:
        request.params = {**(request.params or {}), "limit": self.limit}

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        if not data or len(data) < self.limit:
            self._has_next_page = False
        else:
            self.before = min(item["id"] for item in data)

    def update_request(self, request: requests.Request) -> None:
        request.params["before"] = self.before

    def __str__(self) -> str:
        return f"BeforePaginator(limit={self.limit})"


class TrelloClient:
    """The calls the source makes; each returns parsed JSON."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        token: str,
        limiter: RateLimiter | None = None,
        max_retries: int = settings.MAX_RETRIES,
    ) -> None:
        self.session = TrelloSession(limiter, policy=trello_policy(max_retries))
        self.rest = RESTClient(
            base_url=base_url, auth=TrelloAuth(api_key, token), session=self.session
        )

    @property
    def requests_sent(self) -> int:
        return self.session.requests_sent

    def get(self, path: str, **params: Any) -> Any:
        response = self.rest.get(path, params=params, hooks={"response": [check_response]})
        return response.json()

    def request(self, method: str, path: str, **params: Any) -> Any:
        """Any call; the parsed JSON, or None for an empty reply (a DELETE)."""
        response = self.rest.request(
            path, method=method, params=params, hooks={"response": [check_response]}
        )
        return response.json() if response.content else None

    def close(self) -> None:
        self.session.close()

    def pages(self, path: str, **params: Any) -> Iterator[list[dict[str, Any]]]:
        """Every item of a capped list call, page by page (newest first)."""
        for page in self.rest.paginate(
            path,
            params=params,
            paginator=BeforePaginator(),
            data_selector="$",
            hooks={"response": [check_response]},
        ):
            yield list(page)

    def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return [item for page in self.pages(path, **params) for item in page]
