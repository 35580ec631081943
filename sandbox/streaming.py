"""Bodies sent as they are produced (attachment downloads), for the emulators' HTTP server.

The server writes Content-Length first, then each chunk, so a multi-megabyte file is
never held in memory; `cut_at` sends fewer bytes than announced and drops the connection
(a download that breaks off mid-body, for tests).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler


@dataclass
class Stream:
    """`length` bytes from `chunks`."""

    length: int
    chunks: Iterable[bytes]
    cut_at: int | None = None


def write_stream(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: Stream,
    headers: dict[str, str],
    content_type: str | None,
) -> bool:
    """Send the response; False when the connection must close (cut, or the client left)."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type or "application/octet-stream")
    handler.send_header("Content-Length", str(body.length))
    for k, v in headers.items():
        handler.send_header(k, v)
    handler.end_headers()
    sent = 0
    try:
        for chunk in body.chunks:
            if body.cut_at is not None and sent + len(chunk) > body.cut_at:
                handler.wfile.write(chunk[: body.cut_at - sent])
                handler.wfile.flush()
                handler.connection.shutdown(socket.SHUT_RDWR)
                return False
            handler.wfile.write(chunk)
            sent += len(chunk)
    except OSError:  # the client went away mid-download
        return False
    return True
