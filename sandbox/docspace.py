"""ONLYOFFICE DocSpace emulator (`/api/2.0`): rooms, folders, templates, file operations, sharing.

Faithful to `../shared/api-notes.md` for everything the reverse-ETL calls:
the `{"response", "count", "links", "status", "statusCode"}` envelope, error
envelopes with .NET exception types, 401 with an empty body, 200 on every
create, one id space for rooms and folders, titles sanitised exactly as the
server does (:mod:`sandbox.docspace_titles`) with no uniqueness check, archived
rooms read-only (403), the single room-from-template job slot per portal, file
operations that vanish once read finished, and the per-user rate limits
(50 concurrent reads, 15 concurrent writes, 1500 requests/min, 10,000 writes/day).

State lives in :mod:`sandbox.docspace_store` (also the test-facing state API);
route groups live in :mod:`sandbox.docspace_rooms`, :mod:`sandbox.docspace_ops`
and :mod:`sandbox.docspace_sharing`; DTO shapes in :mod:`sandbox.docspace_dto`.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from sandbox.docspace_dto import DtoMixin, encoded, envelope, error_body
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


class DocSpaceEmulator(DocSpaceStateApi, RoomRoutes, OpsRoutes, SharingRoutes, DtoMixin, Emulator):
    service = "docspace"
    api_prefix = "/api/2.0"

    def __init__(self, seed: int = 0, api_key: str = "sk-sandbox-docspace") -> None:
        self.api_key = api_key
        self._init_store(seed)
        super().__init__(seed)
        self.limits = docspace_limits()

    def register_routes(self) -> None:
        self.register_room_routes()
        self.register_ops_routes()
        self.register_sharing_routes()
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
        return Response(status, error_body(status, message, extra.get("type")))

    def too_many_requests(
        self, request: Request, retry_after: float | None, reason: str
    ) -> Response:
        response = self.error(429, "Too many requests")
        if retry_after is not None:
            response.headers["Retry-After"] = str(max(1, int(retry_after + 0.999)))
        return response

    def not_found_route(self, request: Request) -> Response:
        # ASP.NET answers an unmatched route with a bare 404
        return Response(404, b"", content_type="text/plain")

    def decorate(self, request: Request, response: Response) -> None:
        window = self.limits.requests_per_window
        if window is None or response.status >= 400:
            return
        with self._inflight_lock:
            used = len(self._window)
            oldest = self._window[0] if self._window else time.monotonic()
        reset = max(0, int(oldest + self.limits.window_seconds - time.monotonic()))
        response.headers["X-RateLimit-Limit"] = str(window)
        response.headers["X-RateLimit-Remaining"] = str(max(0, window - used))
        response.headers["X-RateLimit-Reset"] = str(reset)

    def handle(self, request: Request) -> tuple[Response | None, str]:
        with self.lock:
            self._tick()
        return super().handle(request)


__all__ = ["DocSpaceEmulator", "docspace_limits"]
