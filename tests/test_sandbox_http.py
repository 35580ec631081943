"""The emulators' HTTP/1.1 framing (sandbox.http): what a client sees on the wire."""

from __future__ import annotations

import socket
from typing import Any


def exchange(base_url: str, raw: bytes) -> bytes:
    host, port = base_url.split("//")[1].split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    return received


def test_a_malformed_request_line_is_answered_400(docspace_service: Any) -> None:
    # (as http.server answers a line without a version: the page alone, as HTTP/0.9 would)
    answer = exchange(docspace_service.base_url, b"NONSENSE\r\n\r\n")
    assert b"Error code explanation: 400" in answer


def test_an_oversized_header_line_is_answered_431(docspace_service: Any) -> None:
    raw = b"GET /api/2.0/files/rooms HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    assert exchange(docspace_service.base_url, raw).startswith(b"HTTP/1.1 431")


def test_two_requests_on_one_keep_alive_connection_get_two_answers(docspace_service: Any) -> None:
    one = b"GET /api/2.0/files/rooms HTTP/1.1\r\nHost: x\r\nauthorization: Bearer nope\r\n\r\n"
    closing = one.replace(b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n")
    answers = exchange(docspace_service.base_url, one + closing)
    assert answers.count(b"HTTP/1.1 401") == 2
    assert b"Content-Length" in answers
