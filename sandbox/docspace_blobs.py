"""Where the DocSpace emulator keeps file contents: temp files on disk, never whole in memory.

A test of the destination moves a 200 MB attachment through the emulator, so
content cannot live in Python bytes. Each stored version is a :class:`Blob`, an
immutable list of part files; a chunked upload's parts become the blob's parts
at finalize by a rename (no copy), which is roughly what the server does with
DiscDataStore's `chunks/{n}` files. Blobs are shared, never changed: a new
version gets a new blob, a copied file shares its source's blob.

A blob without parts stands for `size` zero bytes (files a test arranges
without content, or template copies of them), so those cost no disk at all.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

READ_SIZE = 1 << 20


@dataclass(frozen=True)
class Blob:
    """The bytes of one file version: its part files, concatenated in order."""

    parts: tuple[Path, ...]
    size: int

    def chunks(self) -> Iterator[bytes]:
        """The content in pieces of at most 1 MiB (zeros when the blob has no parts)."""
        if not self.parts:
            left = self.size
            while left > 0:
                n = min(left, READ_SIZE)
                yield bytes(n)
                left -= n
            return
        for part in self.parts:
            with part.open("rb") as fh:
                while piece := fh.read(READ_SIZE):
                    yield piece

    def read(self) -> bytes:
        return b"".join(self.chunks())


class BlobStore:
    """A private temp directory, removed when the emulator is collected or the process exits."""

    def __init__(self) -> None:
        self._root: Path | None = None
        self._names = itertools.count(1)

    @property
    def root(self) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="docspace-sandbox-"))
            weakref.finalize(self, shutil.rmtree, self._root, True)
        return self._root

    def put(self, data: bytes) -> Blob:
        if not data:
            return Blob((), 0)
        path = self.root / f"blob-{next(self._names)}"
        path.write_bytes(data)
        return Blob((path,), len(data))

    def zeros(self, size: int) -> Blob:
        return Blob((), size)

    # -- chunks of an upload session -------------------------------------------------

    def chunk_path(self, session_id: str, number: int) -> Path:
        folder = self.root / "sessions" / session_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder / str(number)

    def write_chunk(self, session_id: str, number: int, data: bytes) -> None:
        """DiscDataStore.UploadChunkAsync opens `chunks/{n}` with FileMode.Create: a re-sent
        chunk number replaces the earlier bytes."""
        self.chunk_path(session_id, number).write_bytes(data)

    def adopt_chunks(self, session_id: str, numbers: list[int]) -> Blob:
        """The finalized file: chunks 1..n become the blob's parts (renamed, not copied)."""
        parts = []
        for n in numbers:
            target = self.root / f"blob-{next(self._names)}"
            self.chunk_path(session_id, n).rename(target)
            parts.append(target)
        self.drop_session(session_id)
        return Blob(tuple(parts), sum(p.stat().st_size for p in parts))

    def drop_session(self, session_id: str) -> None:
        if self._root is not None:
            shutil.rmtree(self._root / "sessions" / session_id, ignore_errors=True)
