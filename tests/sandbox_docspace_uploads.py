"""Upload calls for the DocSpace sandbox tests: sessions, chunks, finalize (real HTTP, no product code)."""

from __future__ import annotations

from typing import Any

import requests

from tests.sandbox_docspace_api import DocSpaceApi

MIB = 1024 * 1024
CHUNK = 10 * MIB


class Uploads:
    """The chunked upload session API of one DocSpace emulator, called as a client would."""

    def __init__(self, api: DocSpaceApi) -> None:
        self.api = api

    def create(self, folder_id: int, name: str, size: int, **extra: Any) -> requests.Response:
        body = {"fileName": name, "fileSize": size, **extra}
        return self.api.post(f"/files/{folder_id}/session", body)

    def session(self, folder_id: int, name: str, size: int, **extra: Any) -> dict:
        return self.api.ok(self.create(folder_id, name, size, **extra))

    def chunk(
        self, folder_id: int, session_id: str, data: bytes, number: int | None = None
    ) -> requests.Response:
        params = {} if number is None else {"chunkNumber": number}
        return self.api.call(
            "POST",
            f"/files/{folder_id}/session/{session_id}/upload",
            params=params,
            files={"file": ("chunk", data, "application/octet-stream")},
        )

    def finalize(self, folder_id: int, session_id: str) -> requests.Response:
        return self.api.call("PUT", f"/files/{folder_id}/session/{session_id}/finalize")

    def abort(self, folder_id: int, session_id: str) -> requests.Response:
        return self.api.call("DELETE", f"/files/{folder_id}/session/{session_id}")

    def upload(self, folder_id: int, name: str, data: bytes, **extra: Any) -> dict:
        """Session, numbered chunks of at most 10 MiB, finalize: the 201 body's `response`."""
        session = self.session(folder_id, name, len(data), **extra)
        for n, start in enumerate(range(0, max(len(data), 1), CHUNK), start=1):
            sent = self.chunk(folder_id, session["id"], data[start : start + CHUNK], n)
            assert sent.status_code == 200, sent.text[:300]
        done = self.finalize(folder_id, session["id"])
        assert done.status_code == 201, done.text[:300]
        return done.json()["response"]
