"""One DocSpace API v2.0 call: the envelope, the errors, pacing, and the one HTTP policy.

Reads and idempotent writes are retried on 429/5xx/lost replies; a create whose reply was
lost (timeout, dropped connection after sending, 5xx) is never re-sent blindly but raised
as :class:`AmbiguousWriteError`, so the caller looks before it creates again; a connection
that never opened is safe to retry for every method. 429 is safe to retry for every method:
the portal rejects the request before doing anything. The daily write limit's 429 (a
Retry-After of hours) is not retried: it raises :class:`WriteLimitReached` with the reset
time, and the apply stops. What is retried and how long to wait is
`pm_runtime.http_policy`'s; the pacer and the daily limit are ours (measured against the
server's limiter chain, docs/docspace-behaviour.md).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import HTTPError as TransportError
from urllib3.filepost import encode_multipart_formdata

from docspace_destination.errors import (
    AmbiguousWriteError,
    DocSpaceAuthError,
    DocSpaceError,
    WriteLimitReached,
)
from docspace_destination.pacer import Pacer, RequestStats
from pm_runtime import http_policy
from pm_runtime.http_policy import Reply, tries
from pm_runtime.transport import require_secure_url
from pm_runtime.unreachable import ConnectionFailure

# a 429 whose Retry-After is longer than this is the daily window: stop, don't wait
MAX_RETRY_AFTER = 60.0
# 429s without Retry-After: ~2 minutes of backing off at most, enough for the 1-minute window
MAX_THROTTLED_RETRIES = 12
THROTTLE_WAIT_CAP = 16.0
FAILURE_WAIT_CAP = 60.0


def docspace_policy(
    max_attempts: int, backoff: float, max_retry_after: float, max_throttled_retries: int
) -> http_policy.RetryPolicy:
    """The project's policy with DocSpace's limits (BaseStartup.AddRateLimiter).

    The server's limiter chain answers 429 with an empty body from three limiters:
    concurrency (15 non-GET / 50 GET in flight) and the 1-minute sliding window send only
    X-RateLimit-Limit/Remaining, so the client backs off on its own (jittered, up to
    `THROTTLE_WAIT_CAP`, `max_throttled_retries` times: the 1-minute window needs about two
    minutes of patience); the daily fixed window (10,000 POST+PUT) also sends Retry-After
    (seconds to the window's end, up to a day) and X-RateLimit-Reset (its end as Unix
    seconds) — RedisRateLimiting 1.2.1, RedisFixedWindowRateLimiter.TryGetMetadata. A
    Retry-After beyond `max_retry_after` means "come back tomorrow": retrying would only
    spend the run, so the caller stops. The backoff's ceiling grows 1.5x `backoff` per
    doubling, as this client always waited.
    """
    return http_policy.RetryPolicy(
        attempts=max_attempts,
        throttled_attempts=max_throttled_retries + 1,
        backoff_base=1.5 * backoff,
        backoff_cap=FAILURE_WAIT_CAP,
        throttle_backoff_cap=THROTTLE_WAIT_CAP,
        max_retry_after=max_retry_after,
        stop_beyond_max_retry_after=True,
    )


def _reset_time(headers: Any, retry_after: float) -> datetime:
    """When the daily window ends: X-RateLimit-Reset (Unix seconds), else now + Retry-After."""
    try:
        epoch = float(headers.get("X-RateLimit-Reset") or 0)
    except ValueError:
        epoch = 0.0
    if epoch < 1e9:  # absent or not an epoch: count from now
        epoch = time.time() + retry_after
    return datetime.fromtimestamp(epoch, UTC)


class ApiTransport:
    """The paced, policy-retried `call` the DocSpace endpoints are built on."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 6,
        backoff: float = 0.5,
        pool_size: int = 32,
        max_retry_after: float = MAX_RETRY_AFTER,
        max_throttled_retries: int = MAX_THROTTLED_RETRIES,
    ) -> None:
        root = require_secure_url(base_url, "destination.docspace.base_url")
        self.api = root.removesuffix("/api/2.0") + "/api/2.0"
        self.portal = root.removesuffix("/api/2.0")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_throttled_retries = max_throttled_retries
        self.policy = docspace_policy(max_attempts, backoff, max_retry_after, max_throttled_retries)
        self.stats = RequestStats()
        self.pacer = Pacer()
        # urllib3 directly: at DocSpace's 15 concurrent writes, requests' per-call overhead was
        # the bottleneck of a large apply (client CPU, not the network)
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=pool_size, retries=False)
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        super().__init__()  # the endpoint mixins' own state (FileOperationsApi)

    def close(self) -> None:
        self._pool.clear()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        form: dict[str, tuple[str, bytes, str]] | None = None,
        timeout: float | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One API call; returns the envelope's `response`. Raises DocSpaceError / AmbiguousWriteError.

        `body` goes as JSON; `form` as multipart/form-data (an upload chunk: name ->
        (filename, bytes, content type)), with `timeout` for its read when it is large."""
        idempotent = method == "GET" if idempotent is None else idempotent
        where = f"{method} {path}"
        url = self.api + path
        if params:
            url += "?" + urlencode(params)
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = self._headers
        if form is not None:
            payload, content_type = encode_multipart_formdata(form)
            headers = {**headers, "Content-Type": content_type}
        kind = "read" if method == "GET" else "write"

        def send_once() -> Reply:
            self.stats.count(method)
            self.pacer.acquire(kind)
            resp = None
            try:
                resp = self._pool.request(
                    method,
                    url,
                    body=payload,
                    headers=headers,
                    timeout=timeout or self.timeout,
                    redirect=False,
                    preload_content=True,
                )
            except TransportError as exc:
                sent = not http_policy.surely_not_sent(exc)
                failure = ConnectionFailure.of(exc, url, timeout or self.timeout)
                return Reply(0, reached_server=sent, value=failure)
            finally:
                self.pacer.release(kind, throttled=resp is not None and resp.status == 429)
            if resp.status == 429:
                self.stats.note("throttled")
            return Reply(resp.status, resp.headers, value=resp)

        result = http_policy.send_with_retries(
            send_once,
            self.policy,
            idempotent=idempotent,
            on_retry=lambda *_: self.stats.note("retries"),
        )
        return self._answer(result, where)

    def _answer(self, result: http_policy.Result, where: str) -> Any:
        """The policy's verdict in DocSpace's terms."""
        reply, resp = result.reply, result.reply.value
        if result.verdict == http_policy.COME_BACK_LATER:
            raise WriteLimitReached(_reset_time(reply.headers, result.retry_after or 0.0), where)
        if result.verdict == http_policy.AMBIGUOUS:
            if not reply.status:
                raise AmbiguousWriteError(0, f"no reply ({resp})", where)
            raise AmbiguousWriteError(reply.status, _error_message(resp), where)
        if result.verdict == http_policy.GAVE_UP:
            if reply.status == 429:
                raise DocSpaceError(
                    429, f"still rate limited after {result.throttles - 1} retries", where
                )
            if not reply.status:
                raise DocSpaceError(0, f"{resp} after {tries(result.failures)}", where)
            raise DocSpaceError(reply.status, "gave up after retries", where)
        if reply.status == 401:
            raise DocSpaceAuthError(
                "DocSpace rejected the API key (401): check destination.docspace.api_key"
            )
        return self._unwrap(resp, where)

    def _unwrap(self, resp: urllib3.BaseHTTPResponse, where: str) -> Any:
        ok = 200 <= resp.status < 400
        try:
            data = json.loads(resp.data) if resp.data else None
        except ValueError:
            if ok:
                return None
            raise DocSpaceError(resp.status, _error_message(resp), where) from None
        if not ok or (isinstance(data, dict) and (data.get("status") == 1 or "error" in data)):
            raise DocSpaceError(resp.status, _error_message(resp, data), where)
        return data.get("response") if isinstance(data, dict) else data


def _error_message(resp: urllib3.BaseHTTPResponse, data: Any = None) -> str:
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
        # a failed [StringLength]/model check: ASP.NET's ValidationProblemDetails, wrapped in the
        # success envelope with status 1 (common/ASC.Api.Core/Middleware/CommonApiResponse.cs)
        problem = data.get("response")
        if isinstance(problem, dict) and isinstance(problem.get("errors"), dict):
            lines = [str(m) for msgs in problem["errors"].values() for m in (msgs or [])]
            if lines:
                return "; ".join(lines)[:300]
    text = (resp.data or b"").decode("utf-8", "replace").strip()
    if not text or text.startswith("<"):
        return resp.reason or f"HTTP {resp.status}"
    return text[:200]
