"""A thin layer over the official `asana` 5.x SDK: paging, retries and errors done our way.

- The SDK's default urllib3 Retry backs off 0, 4, 8, 16, 32 s and lets `MaxRetryError`
  escape; we install the project's HTTP policy as its Retry (`http_policy.urllib3_retry`:
  short jittered backoff, Retry-After honoured but capped) that returns the last response
  instead, so failures surface as `AsanaError`.
- Lists page with `limit=100` via `full_payload=True` so we see `next_page` ourselves: an
  offset that expires mid-listing restarts that listing instead of failing the run.
- A rejected token becomes the one-line `UserFacingError` the entry points print.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import asana
import urllib3
from asana.rest import ApiException

from pm_runtime.errors import UserFacingError
from pm_runtime.http_policy import RetryPolicy, surely_not_sent, tries, urllib3_retry
from pm_runtime.unreachable import ConnectionFailure

READ_METHODS = ("GET", "HEAD", "OPTIONS")
BAD_TOKEN = "Asana rejected the access token (401)"


class AsanaError(Exception):
    """An Asana API error after retries: status and Asana's own message (never the token)."""

    def __init__(
        self,
        status: int,
        message: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        where: str = "",
    ) -> None:
        to = f" to {where}" if where else ""
        super().__init__(f"Asana answered {status}{to}: {message}")
        self.status = status
        self.message = message
        self.body = body or {}
        self.headers = headers or {}  # Retry-After of a 429


class AsanaUnavailable(UserFacingError):
    """Asana could not be reached (or kept failing) after every retry.

    `reached_server`: False only when the connection never opened (nothing was applied);
    `transport_retried`: urllib3 already spent the policy's retries on it."""

    def __init__(
        self, message: str, reached_server: bool = True, transport_retried: bool = False
    ) -> None:
        super().__init__(message)
        self.reached_server = reached_server
        self.transport_retried = transport_retried


def sdk_policy(max_retries: int, backoff: float, max_retry_after: float) -> RetryPolicy:
    """The one HTTP policy with this client's numbers, for the SDK's urllib3 `Retry`."""
    return RetryPolicy(
        attempts=max_retries + 1,
        backoff_base=backoff,
        backoff_cap=max(backoff * 2**max_retries, 1.0),
        max_retry_after=max_retry_after,
    )


class AsanaClient:
    """Thread-safe: one pooled connection manager shared by the worker threads."""

    def __init__(
        self,
        access_token: str,
        base_url: str,
        max_retries: int = 8,
        backoff: float = 0.25,
        max_retry_after: float = 60.0,
        pool_size: int = 16,
        page_limit: int = 100,
        listing_restarts: int = 3,
    ) -> None:
        cfg = asana.Configuration()
        cfg.host = base_url
        cfg.access_token = access_token
        # the SDK's urllib3 loop, run by the project's policy: reads are retried, a write is
        # left to its caller (a link writer knows how to look before writing again)
        self.policy = sdk_policy(max_retries, backoff, max_retry_after)
        cfg.retry_strategy = urllib3_retry(self.policy, READ_METHODS, "Asana", base_url)
        # the SDK hangs a handler of its own on the `asana` and `urllib3` loggers, one more per
        # client: every warning printed twice and more; the command line's logging decides
        for logger in cfg.logger.values():
            logger.removeHandler(cfg.logger_stream_handler)
        cfg.connection_pool_maxsize = pool_size
        self.api = asana.ApiClient(cfg)
        self.base_url = base_url
        self.page_limit = page_limit
        self.listing_restarts = listing_restarts
        self.workspaces_api = asana.WorkspacesApi(self.api)
        self.projects_api = asana.ProjectsApi(self.api)
        self.sections_api = asana.SectionsApi(self.api)
        self.tasks_api = asana.TasksApi(self.api)
        self.stories_api = asana.StoriesApi(self.api)
        self.users_api = asana.UsersApi(self.api)
        self.teams_api = asana.TeamsApi(self.api)
        self.tags_api = asana.TagsApi(self.api)
        self.custom_fields_api = asana.CustomFieldsApi(self.api)
        self.events_api = asana.EventsApi(self.api)
        self._lock = threading.Lock()
        self.requests = 0

    def close(self) -> None:
        """Stop the SDK's idle async thread pool now (its `__del__` fails at interpreter exit)."""
        pool = self.api.__dict__.pop("pool", None)
        if pool is not None:
            pool.close()
            pool.join()

    # -- the one place that calls the SDK ------------------------------------------------

    def call(
        self,
        method: Callable[..., Any],
        *args: Any,
        opts: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """One SDK call. `opts=None` for the SDK methods that take none (a delete)."""
        with self._lock:
            self.requests += 1
        try:
            if opts is None:
                return method(*args, **kwargs)
            # a fresh dict per call: the SDK writes `offset` into the one it is given
            return method(*args, dict(opts), **kwargs)
        except ApiException as exc:
            raise api_error(exc, getattr(method, "__name__", "")) from None
        except urllib3.exceptions.HTTPError as exc:  # MaxRetryError and friends
            retried = isinstance(exc, urllib3.exceptions.MaxRetryError)
            took = f" ({tries(self.policy.attempts)})" if retried else ""
            failure = ConnectionFailure.of(exc, self.base_url)
            message = (
                f"Asana at {self.base_url} cannot be reached{took}: {failure} — check "
                "sources.asana.base_url"
                if failure.unreachable
                else f"Asana at {self.base_url} did not answer{took}: {failure}"
            )
            raise AsanaUnavailable(
                message, reached_server=not surely_not_sent(exc), transport_retried=retried
            ) from None

    def list(
        self, method: Callable[..., Any], *args: Any, opts: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Every item of a paged listing; an expired offset restarts the listing from page one."""
        for attempt in range(self.listing_restarts + 1):
            items: list[dict[str, Any]] = []
            offset: str | None = None
            try:
                while True:
                    query = dict(opts, limit=self.page_limit)
                    if offset:
                        query["offset"] = offset
                    page = self.call(method, *args, opts=query, full_payload=True)
                    items.extend(page.get("data") or [])
                    next_page = page.get("next_page")
                    if not next_page:
                        return items
                    offset = next_page["offset"]
            except AsanaError as exc:
                expired = exc.status == 400 and exc.message.startswith("offset:")
                if not expired or attempt == self.listing_restarts:
                    raise
        raise AssertionError("unreachable")

    def get(self, method: Callable[..., Any], *args: Any, opts: dict[str, Any]) -> dict[str, Any]:
        return self.call(method, *args, opts=opts)

    def events(self, resource: str, sync: str | None) -> tuple[list[dict[str, Any]], str, bool]:
        """Events since `sync`: (events, next sync, token_was_valid). A 412 gives a fresh token."""
        out: list[dict[str, Any]] = []
        while True:
            opts = {"sync": sync} if sync else {}
            try:
                page = self.call(self.events_api.get_events, resource, opts=opts, full_payload=True)
            except AsanaError as exc:
                if exc.status == 412 and exc.body.get("sync"):
                    return [], exc.body["sync"], False
                raise
            out.extend(page.get("data") or [])
            sync = page["sync"]
            if not page.get("has_more"):
                return out, sync, True


def api_error(exc: ApiException, where: str = "") -> Exception:
    """The SDK's exception as ours: a bad token as the one-line user error, no reply as
    `AsanaUnavailable`, anything else as `AsanaError` with Asana's own message."""
    if exc.status == 401:
        return UserFacingError(BAD_TOKEN)
    body: dict[str, Any] = {}
    message = exc.reason or ""
    try:
        body = json.loads(
            exc.body.decode("utf-8") if isinstance(exc.body, bytes) else exc.body or "{}"
        )
        errors = body.get("errors") or []
        if errors:
            message = errors[0].get("message") or message
    except (ValueError, AttributeError):
        pass
    if exc.status == 0:
        return AsanaUnavailable(f"Asana could not be reached: {message}")
    headers = {str(k): str(v) for k, v in (exc.headers or {}).items()}
    body = body if isinstance(body, dict) else {}
    return AsanaError(exc.status or 0, message, body, headers, where)
