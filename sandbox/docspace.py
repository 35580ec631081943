"""ONLYOFFICE DocSpace emulator (`/api/2.0`): rooms, folders, templates, file operations, sharing.

Faithful to the server code (docs/docspace-behaviour.md) for everything the reverse-ETL calls:
the `{"response", "count", "links", "status", "statusCode"}` envelope, error
envelopes with .NET exception types, 401 with an empty body, 200 on every
create, one id space for rooms and folders, titles sanitised exactly as the
server does (:mod:`sandbox.docspace_titles`) with no uniqueness check, archived
rooms read-only (403), files uploaded through chunked sessions with the server's
same-title rules (:mod:`sandbox.docspace_uploads`), the single room-from-template job slot per portal, file
operations that vanish once read finished, and the per-user rate limits
(50 concurrent reads, 15 concurrent writes, 1500 requests/min, 10,000 writes/day).

State lives in :mod:`sandbox.docspace_store` (also the test-facing state API);
route groups live in :mod:`sandbox.docspace_rooms`, :mod:`sandbox.docspace_ops`,
:mod:`sandbox.docspace_sharing` and :mod:`sandbox.docspace_files`; DTO shapes in :mod:`sandbox.docspace_dto`;
what a person does to a file by hand (Trash, delete, move, rename) in :mod:`sandbox.docspace_file_edits`.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from sandbox.docspace_dto import DtoMixin, encoded, envelope, error_body, validation_body
from sandbox.docspace_file_edits import FileEditsApi
from sandbox.docspace_files import FileRoutes
from sandbox.docspace_ops import OpsRoutes
from sandbox.docspace_rooms import RoomRoutes
from sandbox.docspace_sharing import SharingRoutes
from sandbox.docspace_state import DocSpaceStateApi
from sandbox.http import Emulator, HTTPError, Limits, Request, Response


def docspace_limits() -> Limits:
    """What a portal with rate limiting enforces per user."""
    return Limits(
        max_concurrent_reads=50,
        max_concurrent_writes=15,
        requests_per_window=1500,
        window_seconds=60.0,
        writes_per_day=10_000,
    )


class DocSpaceEmulator(
    DocSpaceStateApi,
    FileEditsApi,
    FileRoutes,
    RoomRoutes,
    OpsRoutes,
    SharingRoutes,
    DtoMixin,
    Emulator,
):
    service = "docspace"
    api_prefix = "/api/2.0"

    def __init__(self, seed: int = 0, api_key: str = "sk-sandbox-docspace") -> None:
        self.api_key = api_key
        self._init_store(seed)
        self._init_uploads()
        super().__init__(seed)
        self.limits = docspace_limits()

    def register_routes(self) -> None:
        self.register_room_routes()
        self.register_ops_routes()
        self.register_sharing_routes()
        self.register_file_routes()
        # last: `/files/{folderId}` must not shadow the named routes above
        self.register_folder_content_route()

    # -- envelope helpers used by the route groups ---------------------------

    def href(self, request: Request) -> str:
        query = urlencode([(k, v) for k, vs in request.query.items() for v in vs])
        return self.portal() + request.path + (f"?{query}" if query else "")

    def ok(self, request: Request, payload: Any, total: int | None = None) -> Response:
        return encoded(envelope(self.href(request), request.method, payload, total))

    # -- hooks ------------------------------------------------------------------

    def authenticate(self, request: Request) -> str | None:
        header = request.headers.get("Authorization") or ""
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or key.strip() != self.api_key:
            raise HTTPError(401, "Unauthorized")
        return key.strip()

    def error(self, status: int, message: str, **extra: Any) -> Response:
        if status == 401:
            return Response(401, b"", content_type="text/plain")
        if extra.get("validation"):
            return Response(status, validation_body(status, extra["validation"]))
        return Response(status, error_body(status, message, extra.get("type")))

    def too_many_requests(
        self, request: Request, retry_after: float | None, reason: str
    ) -> Response:
        """A 429 as the server's limiter chain sends it: an empty body, and only the headers the
        rejecting limiter's lease has metadata for.

        common/ASC.Api.Core/Core/BaseStartup.cs sets `options.OnRejected =
        RateLimitMetadata.OnRejected` (RedisRateLimiting.AspNetCore 1.2.1), which writes status
        429 and no body, then X-RateLimit-Limit / -Remaining / -Reset / Retry-After where the
        lease has them: the concurrency and sliding-window leases have Limit and Remaining only
        (RedisConcurrencyRateLimiter / RedisSlidingWindowRateLimiter `s_allMetadataNames`); the
        daily fixed window also has RetryAfter (whole seconds to the window's end) and Reset
        (the window's end, Unix seconds; RedisFixedWindowRateLimiter.TryGetMetadata).
        """
        headers: dict[str, str] = {}
        if reason == "concurrency":
            cap = (
                self.limits.max_concurrent_writes
                if request.is_write
                else self.limits.max_concurrent_reads
            )
            headers = {"X-RateLimit-Limit": str(cap), "X-RateLimit-Remaining": "0"}
        elif reason == "window":
            headers = {
                "X-RateLimit-Limit": str(self.limits.requests_per_window),
                "X-RateLimit-Remaining": "0",
            }
        elif reason == "daily":
            wait = int(retry_after or 0)
            headers = {
                "X-RateLimit-Limit": str(self.limits.writes_per_day),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(time.time() + (retry_after or 0))),
                "Retry-After": str(wait),
            }
        elif retry_after is not None:
            # an injected burst (a proxy in front of the portal, say) may send Retry-After
            headers = {"Retry-After": str(max(1, int(retry_after + 0.999)))}
        return Response(429, b"", headers, content_type="text/plain")

    def not_found_route(self, request: Request) -> Response:
        # ASP.NET answers an unmatched route with a bare 404
        return Response(404, b"", content_type="text/plain")

    def handle(self, request: Request) -> tuple[Response | None, str]:
        with self.lock:
            self._tick()
        return super().handle(request)


__all__ = ["DocSpaceEmulator", "docspace_limits"]
