"""A small multipart/form-data reader for the emulators' upload routes.

The standard library's `cgi` is gone in Python 3.13 and `email` copies every
part twice; a request body here is at most one 10 MiB chunk, already in memory,
so splitting on the boundary is enough.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARAM = re.compile(r';\s*([a-zA-Z0-9_*-]+)=("(?:[^"\\]|\\.)*"|[^;]*)')


@dataclass
class FormPart:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def _params(header: str) -> dict[str, str]:
    out = {}
    for key, value in _PARAM.findall(header):
        value = value.strip()
        if value.startswith('"') and value.endswith('"'):
            value = value[1:-1].replace('\\"', '"')
        out[key.lower()] = value
    return out


def boundary_of(content_type: str) -> str | None:
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    return _params(content_type).get("boundary") or None


def parse_form(body: bytes, content_type: str) -> list[FormPart] | None:
    """The parts of a multipart/form-data body; None when the body is not multipart."""
    boundary = boundary_of(content_type)
    if boundary is None:
        return None
    delimiter = b"--" + boundary.encode("latin-1")
    parts: list[FormPart] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        disposition = _params(";" + headers.get("content-disposition", "").partition(";")[2])
        parts.append(
            FormPart(
                disposition.get("name", ""),
                disposition.get("filename"),
                headers.get("content-type"),
                data,
            )
        )
    return parts
