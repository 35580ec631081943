"""Attachment content the Asana and Trello emulators serve, and the signed URLs they hand out.

Content is generated, never stored: the bytes of a file are a pure function of its
(seed, size), produced block by block while the response streams, so a 200 MB sample
attachment costs no memory and a test computes the expected SHA-256 with
:func:`content_sha256` without downloading anything.

Download URLs are signed like S3 presigned URLs (`X-Amz-Date`, `X-Amz-Expires`,
`X-Amz-Signature` in the query): Asana's `download_url` is one ("may only be valid for
two minutes", Asana API reference, Attachment.download_url, specs/asana_oas.yaml), and
Trello's download route redirects to one (community.developer.atlassian.com,
"Authenticated access to S3", see ../shared/docspace-files-notes.md §1c). An expired
or tampered URL answers 403 with S3's XML error body (AWS S3 API reference, "Error
responses": `AccessDenied` / "Request has expired", `SignatureDoesNotMatch`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from sandbox.http import Request, Response, Stream

BLOCK = 64 * 1024
AMZ_DATE = "%Y%m%dT%H%M%SZ"


def content_block(seed: int, index: int) -> bytes:
    """Block `index` of the content of `seed` (every block is BLOCK bytes)."""
    return random.Random(f"{seed}:{index}").randbytes(BLOCK)


def content_chunks(seed: int, size: int) -> Iterator[bytes]:
    """The `size` bytes of the content of `seed`, one block at a time."""
    index, left = 0, size
    while left > 0:
        block = content_block(seed, index)
        yield block[:left]
        left -= len(block)
        index += 1


def content_sha256(seed: int, size: int) -> str:
    """What a correct download of (seed, size) hashes to."""
    digest = hashlib.sha256()
    for chunk in content_chunks(seed, size):
        digest.update(chunk)
    return digest.hexdigest()


@dataclass
class StoredFile:
    """An uploaded attachment's content: its size and the seed that makes its bytes."""

    key: str  # the object key in the emulated bucket
    name: str
    size: int
    seed: int
    mime_type: str = "application/octet-stream"


class SignedFiles:
    """The emulated bucket: files by key, presigned URLs for them, and the serving route."""

    def __init__(self, secret: str, path_prefix: str) -> None:
        self._secret = secret.encode()
        self.path_prefix = path_prefix  # e.g. "/s3/asana-attachments"
        self.files: dict[str, StoredFile] = {}
        self.cut_at: int | None = None  # test switch: break every download off after N bytes

    def put(self, stored: StoredFile) -> StoredFile:
        self.files[stored.key] = stored
        return stored

    def _signature(self, key: str, date: str, expires: int) -> str:
        message = f"{key}\n{date}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def presign(self, root_url: str, key: str, now: dt.datetime, expires: int) -> str:
        """A URL that serves `key` until `now + expires` seconds (of the emulator's clock)."""
        stored = self.files[key]
        date = now.strftime(AMZ_DATE)
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Date": date,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
            "X-Amz-Signature": self._signature(key, date, expires),
        }
        return f"{root_url}{self.path_prefix}/{key}/{quote(stored.name)}?{urlencode(query)}"

    def serve(self, request: Request, now: dt.datetime) -> Response:
        """The object named by the request's path, if its signature holds and has not expired."""
        key = request.params["key"]
        date, raw_expires = request.arg("X-Amz-Date") or "", request.arg("X-Amz-Expires") or ""
        signature = request.arg("X-Amz-Signature") or ""
        stored = self.files.get(key)
        if not (date and raw_expires.isdigit() and signature):
            return s3_error("AccessDenied", "Query-string authentication requires the Signature")
        if stored is None or not hmac.compare_digest(
            signature, self._signature(key, date, int(raw_expires))
        ):
            return s3_error(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        signed_at = dt.datetime.strptime(date, AMZ_DATE).replace(tzinfo=dt.UTC)
        if now > signed_at + dt.timedelta(seconds=int(raw_expires)):
            return s3_error("AccessDenied", "Request has expired")
        return stream_file(stored, self.cut_at)


def stream_file(stored: StoredFile, cut_at: int | None = None) -> Response:
    return Response(
        200,
        Stream(stored.size, content_chunks(stored.seed, stored.size), cut_at),
        content_type=stored.mime_type,
    )


def s3_error(code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>SANDBOX</RequestId><HostId>sandbox</HostId></Error>"
    )
    return Response(403, body, content_type="application/xml")
