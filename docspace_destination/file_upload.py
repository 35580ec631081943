"""One file into one DocSpace folder through the chunked upload session, and the folder's files.

The session API (products/ASC.Files/Server/Api/UploadController.cs, v3.7.2; see
docs/docspace-behaviour.md "DocSpace files and uploads" and ../shared/docspace-files-notes.md):

    POST {folderId}/session                      {fileName, fileSize, createNewIfExist}
    POST {folderId}/session/{id}/upload?chunkNumber=n   multipart `file`, at most 10 MiB
    PUT  {folderId}/session/{id}/finalize         201 and the file (files of 10 MiB and more)

Why the session and not `insert`/`upload`: it never converts formats (no "a.doc" becoming
"a.docx" beside it) and it takes files over 100 MiB. A file under 10 MiB is committed by its
one chunk (CommonChunkedUploadSessionHolder.InitAsync: UseChunks=false), so it costs two
writes; the file's id is then read from the folder listing (a GET). Larger files cost
1 + ceil(size / 10 MiB) + 1 writes. Chunk numbers are always sent, so a chunk sent again
after a lost reply overwrites its own part (never a silently corrupted file).

`createNewIfExist` is true: a same-titled file that appears between our look and the session
(a person's upload) then makes ours "name (1).ext" instead of a new version of theirs.

Every request is the client's `call` (chunks as its multipart `form`): counted, paced by
the write limiter and retried by the one HTTP policy. A 5xx or a lost reply is an
`AmbiguousWriteError` (the caller looks in the folder before anything is sent again); the
daily limit's 429 is `WriteLimitReached`, as for every other write.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from docspace_destination.client import AmbiguousWriteError, DocSpaceClient, DocSpaceError

CHUNK_SIZE = 10 * 1024 * 1024  # files:uploader:chunk-size, the largest chunk the server takes
CHUNK_TIMEOUT = 300.0  # a 10 MiB chunk's read, on a slow uplink
CHUNK_ATTEMPTS = 3  # a numbered chunk is safe to send again
FILES_ONLY = 1  # FilterType.FilesOnly (products/ASC.Files/Core/Core/FilterTypeEnum.cs)


def chunk_count(size: int) -> int:
    return max(1, -(-size // CHUNK_SIZE))


def uses_chunks(size: int) -> bool:
    """Whether the server keeps the chunks for a finalize (bytes_total of 10 MiB or more)."""
    return size >= CHUNK_SIZE


def upload_writes(size: int) -> int:
    """The DocSpace writes one upload of `size` bytes costs: session, chunks, finalize."""
    return 1 + chunk_count(size) + (1 if uses_chunks(size) else 0)


def parse_api_date(value: Any) -> datetime | None:
    """DocSpace's ApiDateTime ("2024-05-01T10:00:00.1234567+00:00") as an aware datetime."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Uploader:
    """Sessions, chunks and file listings against one portal, with the run's client's limits."""

    def __init__(self, client: DocSpaceClient) -> None:
        self.client = client
        self._me: str | None = None

    # -- reads -------------------------------------------------------------------------------

    def me(self) -> str:
        """The id of the API key's user: the author of every file this tool uploads."""
        if self._me is None:
            self._me = str(self.client.call("GET", "/people/@self")["id"])
        return self._me

    def files(self, folder_id: int) -> list[dict[str, Any]]:
        """Every file directly in the folder (FoldersController.GetFolderByFolderId, FilesOnly)."""
        pages = self.client._pages(f"/files/{folder_id}", {"filterType": FILES_ONLY})
        return [f for page in pages for f in page.get("files") or []]

    # -- writes ------------------------------------------------------------------------------

    def upload(
        self, folder_id: int, title: str, size: int, content: IO[bytes]
    ) -> dict[str, Any] | None:
        """Send `size` bytes from `content` as a new file titled `title`.

        Returns the file ({id, title, ...}) when the server said it (a finalize), None for a
        file committed by its one chunk (the caller finds it in the listing)."""
        session = self._write(
            "POST",
            f"/files/{folder_id}/session",
            json={"fileName": title, "fileSize": size, "createNewIfExist": True},
        )
        sid = str(session["id"])
        if not uses_chunks(size):
            # exactly one chunk of exactly fileSize bytes: it commits the file
            self._write(
                "POST",
                f"/files/{folder_id}/session/{sid}/upload",
                params={"chunkNumber": 1},
                files={"file": ("chunk", content.read(size), "application/octet-stream")},
            )
            return None
        for number, data in enumerate(_chunks(content, size), start=1):
            self._chunk(folder_id, sid, number, data)
        done = self._write("PUT", f"/files/{folder_id}/session/{sid}/finalize")
        return done if isinstance(done, dict) and done.get("id") else None

    def _chunk(self, folder_id: int, sid: str, number: int, data: bytes) -> None:
        for attempt in range(1, CHUNK_ATTEMPTS + 1):
            try:
                self._write(
                    "POST",
                    f"/files/{folder_id}/session/{sid}/upload",
                    params={"chunkNumber": number},
                    files={"file": ("chunk", data, "application/octet-stream")},
                )
                return
            except AmbiguousWriteError:
                if attempt == CHUNK_ATTEMPTS:
                    raise

    def _write(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Any:
        return self.client.call(
            method,
            path,
            params=params,
            body=json,
            form=files,
            timeout=CHUNK_TIMEOUT if files else None,
            idempotent=False,
        )


def _chunks(content: IO[bytes], size: int) -> Iterator[bytes]:
    left = size
    while left > 0:
        data = content.read(min(CHUNK_SIZE, left))
        if not data:
            raise DocSpaceError(0, "the downloaded copy ended early", "upload")
        left -= len(data)
        yield data
