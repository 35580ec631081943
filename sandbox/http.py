"""The HTTP machinery the three emulators share.

Real sockets on 127.0.0.1 (ephemeral port), HTTP/1.1 keep-alive, a route table,
service limits (concurrency caps, sliding-window quotas, a daily write budget),
fault injection per route, and a request log for tests and benchmarks.

An emulator subclasses :class:`Emulator`, registers routes with :meth:`Emulator.route`
and renders its own error envelopes; everything else lives here so that every
service behaves the same way under faults.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.faults import FaultRule, Faults, Limits
from sandbox.request_log import WRITE_METHODS, LogEntry, RequestLog
from sandbox.streaming import Stream, write_stream

__all__ = [
    "WRITE_METHODS",
    "Emulator",
    "EmulatorServer",
    "FaultRule",
    "Faults",
    "HTTPError",
    "Limits",
    "LogEntry",
    "Request",
    "RequestLog",
    "Response",
    "Stream",
]


class HTTPError(Exception):
    """Raised by a route handler to answer with the service's error envelope."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Any
    body: bytes
    route: str = ""
    params: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    received_at: float = field(default_factory=time.monotonic)

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError:
            raise HTTPError(400, f"{name}: Not a valid integer: {raw!r}") from None

    def json(self) -> Any:
        if not self.body:
            return {}
        ctype = (self.headers.get("Content-Type") or "").lower()
        text = self.body.decode("utf-8")
        if "application/x-www-form-urlencoded" in ctype:
            return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(text).items()}
        try:
            return json.loads(text)
        except ValueError:
            raise HTTPError(400, "Invalid JSON body") from None


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode("utf-8"), self.content_type or "text/plain; charset=utf-8"
        if self.body is None:
            return b"", self.content_type or "text/plain; charset=utf-8"
        data = json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return data, self.content_type or "application/json; charset=utf-8"


@dataclass
class Route:
    method: str
    template: str
    pattern: re.Pattern[str]
    handler: Callable[[Request], Any]

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def compile_template(template: str) -> re.Pattern[str]:
    """`/files/rooms/{id}` -> a regex with a named group per placeholder (one path segment).

    `{id:int}` only matches digits, like an ASP.NET route constraint, so that
    `/files/{folderId:int}` does not swallow `/files/rooms`.
    """
    parts = re.split(r"(\{[a-zA-Z_]+(?::int)?\})", template)
    regex = "".join(
        (f"(?P<{p[1:-5]}>-?[0-9]+)" if p.endswith(":int}") else f"(?P<{p[1:-1]}>[^/]+)")
        if p.startswith("{")
        else re.escape(p)
        for p in parts
    )
    return re.compile(f"^{regex}/?$")


# --------------------------------------------------------------------------- emulator base


class Emulator:
    """State plus routes of one service. Subclasses add routes and envelopes."""

    service = "service"
    api_prefix = ""

    def __init__(self, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.routes: list[Route] = []
        self.log = RequestLog()
        self.faults = Faults(seed)
        self.limits = Limits()
        self.base_url = ""  # set by the server once bound
        self._inflight = {"read": 0, "write": 0}
        self._inflight_lock = threading.Lock()
        self._window: deque[float] = deque()
        self._writes_today = 0
        self._day_started: float | None = None  # the daily fixed window opens at the first write
        self.register_routes()

    # -- to override ---------------------------------------------------------

    def register_routes(self) -> None:
        raise NotImplementedError

    def authenticate(self, request: Request) -> str | None:
        """Return the caller's token or raise HTTPError(401)."""
        return None

    def error(self, status: int, message: str, **extra: Any) -> Response:
        return Response(status, {"error": message})

    def too_many_requests(
        self, request: Request, retry_after: float | None, reason: str
    ) -> Response:
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        return Response(429, {"error": reason}, headers)

    def server_error(self, status: int) -> Response:
        if status in (502, 503):
            html = (
                f"<html><head><title>{status}</title></head><body><h1>{status}</h1></body></html>"
            )
            return Response(status, html, content_type="text/html")
        return self.error(status, "Internal Server Error")

    def not_found_route(self, request: Request) -> Response:
        return self.error(404, "Not found")

    def decorate(self, request: Request, response: Response) -> None:
        """Add per-service headers to every delivered response (e.g. rate-limit headers)."""

    # -- routing -------------------------------------------------------------

    def route(
        self, method: str, template: str
    ) -> Callable[[Callable[[Request], Any]], Callable[[Request], Any]]:
        def register(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
            self.add_route(method, template, handler)
            return handler

        return register

    def add_route(self, method: str, template: str, handler: Callable[[Request], Any]) -> None:
        full = self.api_prefix + template
        name = template.replace(":int}", "}")  # logs and fault globs see the plain template
        self.routes.append(Route(method.upper(), name, compile_template(full), handler))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for r in self.routes:
            if r.method != method:
                continue
            m = r.pattern.match(path)
            if m:
                return r, m.groupdict()
        return None

    def known_routes(self) -> list[str]:
        return [r.name for r in self.routes]

    # -- limits --------------------------------------------------------------

    def _enter(self, kind: str) -> bool:
        cap = (
            self.limits.max_concurrent_writes
            if kind == "write"
            else self.limits.max_concurrent_reads
        )
        with self._inflight_lock:
            if cap is not None and self._inflight[kind] >= cap:
                return False
            self._inflight[kind] += 1
            return True

    def _leave(self, kind: str) -> None:
        with self._inflight_lock:
            self._inflight[kind] -= 1

    def _over_quota(self, method: str) -> str | None:
        now = time.monotonic()
        with self._inflight_lock:
            if self.limits.requests_per_window is not None:
                while self._window and self._window[0] <= now - self.limits.window_seconds:
                    self._window.popleft()
                # rejected requests count toward the quota, as on the real services
                self._window.append(now)
                if len(self._window) > self.limits.requests_per_window:
                    return "window"
            if method in self.limits.daily_methods and self.limits.writes_per_day is not None:
                if (
                    self._day_started is None
                    or now >= self._day_started + self.limits.daily_window_seconds
                ):
                    self._day_started, self._writes_today = now, 0
                if self._writes_today >= self.limits.writes_per_day:
                    return "daily"
                self._writes_today += 1
        return None

    def daily_retry_after(self) -> float:
        """Seconds until the daily window closes (what the daily 429's Retry-After says)."""
        with self._inflight_lock:
            if self._day_started is None:
                return self.limits.daily_window_seconds
            return max(0.0, self._day_started + self.limits.daily_window_seconds - time.monotonic())

    def window_retry_after(self) -> float:
        with self._inflight_lock:
            if not self._window:
                return 1
            return max(1.0, self._window[0] + self.limits.window_seconds - time.monotonic())

    def reset_limits(self) -> None:
        with self._inflight_lock:
            self._window.clear()
            self._writes_today = 0
            self._day_started = None

    # -- the request pipeline -------------------------------------------------

    def handle(self, request: Request) -> tuple[Response | None, str]:
        """Answer one request. Returns (response or None when lost, outcome)."""
        found = self.match(request.method, request.path)
        if found is None:
            return self.not_found_route(request), "unknown"
        route, params = found
        request.route, request.params = route.template, params
        try:
            request.token = self.authenticate(request)
        except HTTPError as e:
            return self.error(e.status, e.message, **e.extra), "unauthorized"

        kind = "write" if request.is_write else "read"
        if not self._enter(kind):
            return self.too_many_requests(request, 1, "concurrency"), "limited"
        try:
            quota = self._over_quota(request.method)
            if quota == "window":
                return self.too_many_requests(
                    request, self.window_retry_after(), "window"
                ), "limited"
            if quota == "daily":
                return self.too_many_requests(request, self.daily_retry_after(), "daily"), "limited"
            burst, retry_after = self.faults.take_burst(route.name)
            if burst:
                return self.too_many_requests(request, retry_after, "burst"), "limited"

            rules = self.faults.for_route(route.name)
            delay = sum(
                r.latency + (self.faults.uniform(r.jitter) if r.jitter else 0) for r in rules
            )
            # injected latency is the time from arrival to reply, as a network's would be: the
            # emulator's own work happens inside it rather than on top of it
            deadline = request.received_at + delay
            for r in rules:
                if self.faults.roll(r.error_rate):
                    _sleep_until(deadline)
                    return self.server_error(self.faults.choice(r.error_statuses)), "fault"

            try:
                with self.lock:
                    result = route.handler(request)
            except HTTPError as e:
                _sleep_until(deadline)
                return self.error(e.status, e.message, **e.extra), "error"
            _sleep_until(deadline)
            response = result if isinstance(result, Response) else Response(200, result)
            if request.is_write and any(self.faults.roll(r.lost_response_rate) for r in rules):
                return None, "lost"
            return response, "ok" if response.status < 400 else "error"
        finally:
            self._leave(kind)


def _sleep_until(deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)


# --------------------------------------------------------------------------- server

_MAX_LINE = 65536  # http.client's limits on a header line and on the number of headers
_MAX_HEADERS = 100


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without NODELAY, Nagle plus the client's
        # delayed ACK add ~40 ms to every keep-alive response
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def parse_request(self) -> bool:
        """http.server's parse of the request line and headers (HTTP/1.x), without the `email`
        package: http.client.parse_headers runs email's feed parser, a quarter of an emulator's
        CPU per request. Notes the arrival time: injected latency counts from it."""
        self.arrived = time.monotonic()
        self.command = None  # (what send_error reads if the request line is bad)
        self.request_version = self.default_request_version
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = self.requestline.split()
        if not words:
            return False
        if len(words) != 3 or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({self.requestline!r})")
            return False
        self.command, self.path, self.request_version = words
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")  # as http.server: reduce to a single /
        headers = self.MessageClass()
        while True:
            line = self.rfile.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            if len(headers) >= _MAX_HEADERS:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
                return False
            name, _, value = line.decode("iso-8859-1").partition(":")
            headers[name.strip()] = value.strip()
        self.headers = headers
        connection = (headers.get("Connection") or "").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive"
        )
        if (headers.get("Expect") or "").lower() == "100-continue" and (
            self.request_version == "HTTP/1.1"
        ):
            return self.handle_expect_100()
        return True

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass  # the client hung up (e.g. stopped reading a download): nothing to answer

    def _serve(self) -> None:
        emulator = self.server.emulator
        parts = urlsplit(self.path)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self._read_chunked()  # a client streaming its body (requests with a generator)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            received_at=self.arrived,
        )
        try:
            response, outcome = emulator.handle(request)
        except Exception as exc:  # an emulator bug must still answer, and loudly
            response, outcome = emulator.error(500, f"emulator bug: {exc!r}"), "error"
        emulator.log.add(
            LogEntry(
                at=time.monotonic(),
                service=emulator.service,
                method=self.command,
                route=request.route or "?",
                path=parts.path,
                status=response.status if response else 0,
                outcome=outcome,
                token=request.token,
                query=parts.query,
            )
        )
        if response is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        emulator.decorate(request, response)
        if isinstance(response.body, Stream):
            self.close_connection = not write_stream(
                self, response.status, response.body, response.headers, response.content_type
            )
            return
        data, ctype = response.encode()
        self.send_response(response.status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in response.headers.items():
            self.send_header(k, v)
        # the headers and the body in one write (http.server's end_headers, then the body): one
        # segment, one wake-up of the client (streams still write theirs apart)
        self._headers_buffer.extend((b"\r\n", data))
        self.flush_headers()

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after each chunk

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.emulator = emulator


class EmulatorServer:
    """Serves one emulator on 127.0.0.1 in a background thread."""

    def __init__(self, emulator: Emulator, port: int = 0) -> None:
        self.emulator = emulator
        self._server = _Server(emulator, port)
        self._thread: threading.Thread | None = None
        host, bound = self._server.server_address[:2]
        self.root_url = f"http://{host}:{bound}"
        emulator.base_url = self.root_url + emulator.api_prefix

    @property
    def base_url(self) -> str:
        return self.emulator.base_url

    def start(self) -> EmulatorServer:
        # a short poll interval makes stop() (and so every test teardown) take ~50 ms, not 500
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.emulator.service}-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
