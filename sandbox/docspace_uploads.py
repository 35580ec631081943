"""DocSpace's chunked upload sessions and same-title rules, as server v3.7.2 implements them.

Pure state (no HTTP), mixed into the emulator; the routes are in
:mod:`sandbox.docspace_files`. Sources, all under products/ASC.Files/ unless
noted (see docs/docspace-behaviour.md, "DocSpace files and uploads"):

- Server/Helpers/UploadControllerHelper.CreateUploadSessionAsync ->
  Core/Utils/FileUploader.VerifyChunkedUploadAsync -> VerifyFileUploadAsync: the
  title is sanitised (Global.ReplaceInvalidCharsAndTruncate) and looked up in the
  folder (FileDao.GetFileAsync(parentId, title): `title ==` on a utf8_general_ci
  column, current versions only, oldest CreateOn first). Found and editable and
  createNewIfExist=false: the session will write a *new version of that file*.
  Found but not editable (locked by another user, open in the editor, encrypted):
  a *second file with the same title*. createNewIfExist=true and found: a new file
  titled by Global.GetAvailableTitleAsync ("name (1).ext", "name (2).ext"...).
  All of this is fixed when the session is created, never re-checked later.
- FileUploader.InitiateUploadAsync + common/ASC.Data.Storage/ChunkedUploader/
  CommonChunkedUploadSessionHolder.InitAsync: a session whose bytes_total is under
  the chunk size (files:uploader:chunk-size, 10 MiB) gets UseChunks=false.
- Core/Core/Dao/TeamlabDao/FileDao.UploadChunkAsync: with UseChunks=false every
  chunk POST commits the file at once (its bytes are the chunk, its ContentLength
  the declared bytes_total) and leaves the session in the cache, so a second chunk
  POST commits another version (the server's own tests agree: Tests/07_Settings/
  QuotaTests.cs expects a room quota's 402 on the chunk POST). With chunks, chunk `n` is stored under
  "{sessionId} - {n}" (re-sending n overwrites it); without chunkNumber a counter
  (Items["ChunksUploaded"]) numbers it.
- CommonChunkedUploadSessionHolder.FinalizeAsync: the sizes of chunks 1..k (k =
  ceil(bytes_total / 10 MiB), stopping at the first missing number) must add up to
  bytes_total, else ArgumentException("uploadSize != bytesTotal") -> 400. Then the
  file is saved (FileDao.FinalizeUploadSessionAsync) and the session removed
  (ChunkedUploadSessionHolder.RemoveSessionAsync).
- ChunkedUploadSessionHolder.GetSessionAsync dereferences a missing session
  (`session.File.ServiceProvider = ...`): a NullReferenceException, HTTP 500.
- FileDao.SaveFileAsync stores `ReplaceFileExtension(title, GetFileExtension(title))`:
  the extension lower-cased, and a title without one ends in "." (read from the
  code, not observed on a live portal).
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field

from sandbox.docspace_blobs import Blob
from sandbox.docspace_file import File, size_text, stored_file_title
from sandbox.docspace_rooms import collate
from sandbox.docspace_store import (
    ARCHIVE_ROOT,
    ROOMS_ROOT,
    TEMPLATES_ROOT,
    DocSpaceStore,
    Folder,
)
from sandbox.docspace_titles import sanitize_title
from sandbox.http import HTTPError

MIB = 1024 * 1024
#: files:uploader:chunk-size (web/ASC.Web.Core/SetupInfo.cs): the largest chunk, and the
#: bytes_total below which a session commits on its first chunk
CHUNK_SIZE = 10 * MIB
#: web:available-file-size (SetupInfo.AvailableFileSize), the non-chunked upload limit
AVAILABLE_FILE_SIZE = 100 * MIB
#: ChunkedUploadSessionHolder.SlidingExpiration: every chunk pushes the expiry on
SESSION_SLIDING_SECONDS = 12 * 3600
COMMENT_UPLOAD = "Uploaded"  # FilesCommonResource.CommentUpload
_AVAILABLE_RE = re.compile(r"( \((([0-9])+)\)(\.[^.]*)?)$")  # Global.MyRegex


def size_exceeded(limit: int) -> HTTPError:
    """FileSizeComment.GetFileSizeException: a TenantQuotaException, 402 (ResponseWrapper.cs)."""
    return HTTPError(
        402,
        f"The maximum file size is exceeded ({size_text(limit)}).",
        type="ASC.Core.Tenants.TenantQuotaException",
    )


def null_session() -> HTTPError:
    return HTTPError(
        500,
        "Object reference not set to an instance of an object.",
        type="System.NullReferenceException",
    )


@dataclass
class UploadSession:
    """ChunkedUploadSession<int>: where the upload goes, fixed when the session is created."""

    id: str
    folder_id: int
    title: str  # the new file's title (ignored for a new version: the file keeps its own)
    bytes_total: int
    file_id: int  # 0: a new file; else the file that gets a new version
    created: float
    expired: float
    user_id: str
    use_chunks: bool
    encrypted: bool = False
    create_on: float | None = None
    chunks: dict[int, int] = field(default_factory=dict)  # number -> length
    counter: int = 0  # Items["ChunksUploaded"]
    committed: File | None = None  # UseChunks=false: the file the first chunk saved


class UploadStore(DocSpaceStore):
    """Upload sessions and the title rules; mixed into the emulator."""

    #: the tenant quota's MaxFileSize, the chunked limit (SetupInfo.MaxChunkedUploadSize);
    #: the Cloud plans' figure is not known here ([unverified]): tests may change it
    max_file_size: int = 1024 * MIB

    def _init_uploads(self) -> None:
        self.sessions: dict[str, UploadSession] = {}

    # -- titles -------------------------------------------------------------------

    def _file_by_title(self, folder_id: int, title: str) -> File | None:
        """FileDao.GetFileAsync(parentId, title): collated `==`, the oldest CreateOn first."""
        key = collate(title)
        found = [f for f in self._child_files(folder_id) if collate(f.title) == key]
        return min(found, key=lambda f: (f.created, f.id)) if found else None

    def _available_file_title(self, title: str, folder_id: int) -> str:
        """Global.GetAvailableTitleAsync for a file: " (1)" before the extension, then counted up."""
        if self._file_by_title(folder_id, title) is None:
            return title
        dot = title.rfind(".")
        at = dot if dot != -1 else len(title)
        title = title[:at] + " (1)" + title[at:]
        while self._file_by_title(folder_id, title) is not None:
            title = _AVAILABLE_RE.sub(
                lambda m: f" ({int(m.group(2)) + 1}){m.group(4) or ''}", title, count=1
            )
        return title

    def _can_edit(self, file: File, user_id: str) -> bool:
        """FileUploader.CanEditAsync, as far as the emulator models it."""
        locked_for_me = file.locked_by is not None and file.locked_by != user_id
        return not (locked_for_me or file.editing or file.encrypted)

    # -- sessions -----------------------------------------------------------------

    def _upload_folder(self, folder_id: int, relative_path: str | None) -> Folder:
        """FileUploader.GetFolderIdAsync: the target folder, relativePath's folders made on the way."""
        folder = self._folders.get(folder_id)
        if folder is None:
            raise HTTPError(404, "The required folder was not found")
        if folder.id in (ROOMS_ROOT, ARCHIVE_ROOT, TEMPLATES_ROOT) or self._is_archived(folder):
            raise HTTPError(403, "Access denied", type="System.Security.SecurityException")
        self._check_denied(folder)
        for part in (relative_path or "").split("/"):
            name = sanitize_title(part)
            if not name:
                break  # GetFolderIdAsync stops at the first empty segment
            found = [f for f in self._children(folder.id) if collate(f.title) == collate(name)]
            folder = (
                min(found, key=lambda f: f.id)
                if found
                else self._new_folder(name, folder.id, "folder")
            )
        return folder

    def _create_session(
        self,
        folder_id: int,
        file_name: str,
        file_size: int,
        relative_path: str | None = None,
        create_new: bool = False,
        encrypted: bool = False,
        create_on: float | None = None,
    ) -> UploadSession:
        if file_size > self.max_file_size:
            raise size_exceeded(self.max_file_size)
        try:
            title = sanitize_title(file_name)
        except ValueError:  # Substring with a negative length in the server's own code
            raise HTTPError(
                500, "Index and length must refer to a location within the string."
            ) from None
        folder = self._upload_folder(folder_id, relative_path)
        if not title:
            # FileDao.GetFileAsync: ArgumentException.ThrowIfNullOrEmpty(title)
            raise HTTPError(400, "The value cannot be an empty string. (Parameter 'title')")
        existing = self._file_by_title(folder.id, title)
        file_id = 0
        if existing is not None and not create_new and self._can_edit(existing, self.me.id):
            file_id = existing.id
        elif existing is not None and create_new:
            title = self._available_file_title(title, folder.id)
        now = time.time()
        session = UploadSession(
            id=uuid.UUID(int=self._rng.getrandbits(128)).hex,  # Guid.NewGuid().ToString("N")
            folder_id=folder.id,
            title=title,
            bytes_total=file_size,
            file_id=file_id,
            created=now,
            expired=now + SESSION_SLIDING_SECONDS,
            user_id=self.me.id,
            # CommonChunkedUploadSessionHolder.InitAsync (bytes_total -1 means "unknown")
            use_chunks=not (file_size < CHUNK_SIZE and file_size != -1),
            encrypted=encrypted,
            create_on=create_on,
        )
        self.sessions[session.id] = session
        return session

    def _session(self, session_id: str) -> UploadSession:
        session = self.sessions.get(session_id)
        if session is not None and time.time() >= session.expired:
            self._drop_session(session)
            session = None
        if session is None:
            raise null_session()
        return session

    def _drop_session(self, session: UploadSession) -> None:
        self.sessions.pop(session.id, None)
        self.blobs.drop_session(session.id)

    def _upload_chunk(self, session_id: str, data: bytes, number: int | None) -> UploadSession:
        session = self._session(session_id)
        if len(data) > CHUNK_SIZE:
            # UploadChunkAsync names SetupInfo.MaxUploadSize: min(web:available-file-size, quota)
            raise size_exceeded(min(AVAILABLE_FILE_SIZE, self.max_file_size))
        # the slid expiry is only kept when the controller stores the session, after success
        session.expired = time.time() + SESSION_SLIDING_SECONDS
        if not session.use_chunks:
            if session.bytes_total == 0:
                session.bytes_total = len(data)
            if session.bytes_total >= len(data):
                session.committed = self._commit(session, self.blobs.put(data))
            return session
        if number is None:
            session.counter += 1
            number = session.counter
        self.blobs.write_chunk(session.id, number, data)
        session.chunks[number] = len(data)
        return session

    def _uploaded_numbers(self, session: UploadSession) -> list[int]:
        """CommonChunkedUploadSessionHolder.GetChunksAsync: 1..k, stopping at the first gap."""
        count = -(-session.bytes_total // CHUNK_SIZE) if session.bytes_total > 0 else 0
        numbers = []
        for n in range(1, count + 1):
            if n not in session.chunks:
                break
            numbers.append(n)
        return numbers

    def _transferred(self, session: UploadSession) -> int:
        return sum(session.chunks[n] for n in self._uploaded_numbers(session))

    def _finalize(self, session_id: str) -> tuple[UploadSession, File]:
        """UploadController.FinalizeSession: with UseChunks=false the file the chunk committed
        is answered again (the session stays); else the chunks are checked and saved."""
        session = self._session(session_id)
        if not session.use_chunks:
            if session.committed is None:
                # session.File is the uncommitted file (Id 0); what the DTO helper then does
                # was not traced: [unverified] a server error
                raise HTTPError(500, "The file was not uploaded yet [unverified]")
            return session, session.committed
        numbers = self._uploaded_numbers(session)
        if self._transferred(session) != session.bytes_total:
            raise HTTPError(400, "uploadSize != bytesTotal")
        file = self._commit(session, self.blobs.adopt_chunks(session.id, numbers))
        self._drop_session(session)
        return session, file

    def _abort(self, session_id: str) -> None:
        """FileUploader.AbortUploadAsync: the chunks are dropped; a committed small file stays."""
        self._drop_session(self._session(session_id))

    def _commit(self, session: UploadSession, blob: Blob) -> File:
        """FileDao.GetFileForCommitAsync + SaveFileAsync: ContentLength is the declared total."""
        target_id = session.file_id or (session.committed.id if session.committed else 0)
        current = self._files.get(target_id) if target_id else None
        if current is not None:
            return self._new_version(
                current,
                blob,
                size=session.bytes_total,
                by=session.user_id,
                comment=COMMENT_UPLOAD,
                title=stored_file_title(current.title),
            )
        folder = self._folders.get(session.folder_id)
        if folder is None:
            raise HTTPError(404, "The required folder was not found")
        file = self._new_file(
            stored_file_title(session.title),
            folder.id,
            blob,
            size=session.bytes_total,
            by=session.user_id,
            created=session.create_on,
            comment=COMMENT_UPLOAD,
        )
        file.encrypted = session.encrypted
        return file
