"""DocSpace routes for files: upload sessions and chunks, upload/check, file info, history, download.

Paths are those of products/ASC.Files/Server/Api/UploadController.cs (class
UploadController<T>, under api/2.0/files/) and FilesController.cs; the state and
rules behind them are in :mod:`sandbox.docspace_uploads`. Every one of these
requests goes through the same limiter and fault injection as any other write
(:mod:`sandbox.http`): the server's limiter is global (common/ASC.Api.Core/Core/
BaseStartup.cs), so a session create, each chunk and the finalize all count.

The session routes (`{folderId}/session...`) are newer than the published
OpenAPI spec (3.6.0); their shapes come from the code: ChunkedUploadSessionResponse
(Core/Core/Entries/ChunkedUploadSession.cs) has id, path, created, expired,
location and bytes_total — no bytes_uploaded, whatever the doc comment says — and
UploadSessionResponseDto (Server/ApiModels/ResponseDto/) has id, folderId,
version, title, providerKey, uploaded and file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sandbox.docspace_dto import encoded, envelope
from sandbox.docspace_file import File, stored_file_title
from sandbox.docspace_store import Folder
from sandbox.docspace_uploads import UploadSession, UploadStore
from sandbox.http import HTTPError, Request, Response, Route, compile_template
from sandbox.multipart_form import parse_form


def dotnet_utc(ts: float) -> str:
    """A UTC DateTime as System.Text.Json writes it (7 fraction digits, 'Z'). The session's
    Created/Expired are plain DateTime, not ApiDateTime; the exact text is [unverified]."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"


def _parse_create_on(raw: Any) -> float | None:
    if raw in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise HTTPError(400, f"createOn: not a date: {raw!r}") from None


def _as_bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


class FileRoutes(UploadStore):
    """Mixed into the emulator; relies on its `ok`, `href`, `file_dto` and `portal`."""

    def register_file_routes(self) -> None:
        add = self.add_route  # type: ignore[attr-defined]
        add("POST", "/files/{folderId:int}/session", self._create_session_route)
        add("POST", "/files/{folderId:int}/upload/create_session", self._create_session_obsolete)
        add("POST", "/files/{folderId:int}/session/{sessionId}/upload", self._chunk_route)
        add("PUT", "/files/{folderId:int}/session/{sessionId}/finalize", self._finalize_route)
        add("POST", "/files/{folderId:int}/session/{sessionId}", self._one_shot_route)
        add("DELETE", "/files/{folderId:int}/session/{sessionId}", self._abort_route)
        add("POST", "/files/{folderId:int}/upload/check", self._check_route)
        add("GET", "/files/file/{fileId:int}", self._file_route)
        add("GET", "/files/file/{fileId:int}/history", self._history_route)
        add("GET", "/files/file/{fileId:int}/presigneduri", self._presigned_route)
        # FilesLinkUtility.FileHandlerPath: "/filehandler.ashx", outside the API prefix
        self.routes.append(  # type: ignore[attr-defined]
            Route("GET", "/filehandler.ashx", compile_template("/filehandler.ashx"), self._download)
        )

    # -- rendering ---------------------------------------------------------------------

    def _envelope(self, request: Request, payload: Any, status: int = 200) -> Response:
        body = envelope(self.href(request), request.method, payload)  # type: ignore[attr-defined]
        body["statusCode"] = status  # SuccessApiResponse takes Response.StatusCode
        response = encoded(body)
        response.status = status
        return response

    def _session_dto(self, session: UploadSession, breadcrumbs: bool) -> dict[str, Any]:
        """ChunkedUploadSessionHelper.ToResponseObjectAsync: `path` is the folder's breadcrumbs
        when the session is created, else just the folder id."""
        folder = self._folders.get(session.folder_id)
        path = (
            [f.id for f in self._path(folder)]
            if breadcrumbs and folder is not None
            else [session.folder_id]
        )
        return {
            "id": session.id,
            "path": path,
            "created": dotnet_utc(session.created),
            "expired": dotnet_utc(session.expired),
            # FilesLinkUtility.GetUploadChunkLocationUrl
            "location": f"{self.portal()}/ChunkedUploader.ashx?uid={session.id}",  # type: ignore[attr-defined]
            "bytes_total": session.bytes_total,
        }

    def _uploaded_dto(self, file: File, uploaded: bool = True) -> dict[str, Any]:
        return {
            "id": file.id,
            "folderId": file.folder_id,
            "version": file.version,
            "title": file.title,
            "uploaded": uploaded,
            "file": self.file_dto(file),  # type: ignore[attr-defined]
        }

    # -- sessions --------------------------------------------------------------------------

    def _session_from_body(self, request: Request) -> UploadSession:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("fileName"), str):
            # SessionRequest.FileName is `required`: the JSON binder refuses the body
            message = "The fileName field is required."
            raise HTTPError(400, message, validation={"fileName": [message]})
        size = body.get("fileSize") or 0
        if not isinstance(size, int) or isinstance(size, bool):
            raise HTTPError(400, "fileSize: not an integer", validation={"fileSize": ["bad"]})
        return self._create_session(
            int(request.params["folderId"]),
            body["fileName"],
            size,
            relative_path=body.get("relativePath"),
            create_new=_as_bool(body.get("createNewIfExist")),
            encrypted=_as_bool(body.get("encrypted")),
            create_on=_parse_create_on(body.get("createOn")),
        )

    def _create_session_route(self, request: Request) -> Response:
        """UploadController.CreateUploadSessionInFolder."""
        session = self._session_from_body(request)
        return self._envelope(request, self._session_dto(session, breadcrumbs=True))

    def _create_session_obsolete(self, request: Request) -> Response:
        """The [Obsolete] CreateUploadSession: the same, wrapped in {success, data}."""
        session = self._session_from_body(request)
        data = {"success": True, "data": self._session_dto(session, breadcrumbs=True)}
        return self._envelope(request, data)

    def _chunk_bytes(self, request: Request) -> bytes:
        """The IFormFile `file` of a chunk request. Without a form the [FromForm] binder answers
        415, without a file part the controller dereferences null (500); both [unverified]."""
        parts = parse_form(request.body, request.headers.get("Content-Type") or "")
        if parts is None:
            raise HTTPError(415, "Unsupported Media Type")
        for part in parts:
            if part.name.lower() == "file" and part.filename is not None:
                return part.data
        raise HTTPError(
            500,
            "Object reference not set to an instance of an object.",
            type="System.NullReferenceException",
        )

    def _chunk_route(self, request: Request) -> Response:
        """UploadController.UploadAsyncSession: store chunk `chunkNumber`, answer the session."""
        number = request.int_arg("chunkNumber")
        session = self._upload_chunk(
            request.params["sessionId"], self._chunk_bytes(request), number
        )
        return self._envelope(request, self._session_dto(session, breadcrumbs=False))

    def _finalize_route(self, request: Request) -> Response:
        """UploadController.FinalizeSession: 201 and the saved file."""
        _, file = self._finalize(request.params["sessionId"])
        return self._envelope(request, self._uploaded_dto(file), status=201)

    def _one_shot_route(self, request: Request) -> Response:
        """UploadController.UploadSession (the older path): a chunk without a number; once all
        bytes are there (or at once for a small file) it finalizes and answers 201."""
        session = self._upload_chunk(request.params["sessionId"], self._chunk_bytes(request), None)
        if session.use_chunks and self._transferred(session) == session.bytes_total:
            _, file = self._finalize(session.id)
            return self._envelope(request, self._uploaded_dto(file), status=201)
        if not session.use_chunks and session.committed is not None:
            return self._envelope(request, self._uploaded_dto(session.committed), status=201)
        # not complete: the DTO of the still unsaved file; its exact content is [unverified]
        target = self._files.get(session.file_id)
        payload = {
            "id": session.file_id,
            "folderId": session.folder_id,
            "version": target.version if target else 0,
            "title": target.title if target else session.title,
            "uploaded": False,
        }
        return self._envelope(request, payload)

    def _abort_route(self, request: Request) -> Response:
        """UploadController.AbortUploadSession (returns nothing)."""
        self._abort(request.params["sessionId"])
        return self._envelope(request, None)

    # -- checks and reads --------------------------------------------------------------------

    def _check_route(self, request: Request) -> Response:
        """UploadController.CheckUploadAsync: the given titles (as given, not sanitised) that a
        current, non-encrypted file in the folder has, by the same lookup as an upload."""
        body = request.json()
        titles = body.get("filesTitle") if isinstance(body, dict) else None
        if titles is None:
            raise HTTPError(400, "Value cannot be null. (Parameter 'filesTitle')")
        folder = self._folders.get(int(request.params["folderId"]))
        if folder is None:
            raise HTTPError(404, "The required folder was not found", type="ItemNotFound")
        if (folder.kind == "root" and folder.id != 1) or self._is_archived(folder):
            raise HTTPError(
                403, "You don't have enough permission to create", type="InvalidOperation"
            )
        found: dict[str, None] = {}
        for title in titles:
            if not title:
                raise HTTPError(400, "The value cannot be an empty string. (Parameter 'title')")
            file = self._file_by_title(folder.id, str(title))
            if file is not None and not file.encrypted:
                found[str(title)] = None
        return self._envelope(request, list(found))

    def _file_of(self, request: Request) -> File:
        """FileStorageService.GetFileAsync: no row is 404 (ItemNotFoundException); a file in
        another user's Trash is 403 (FileSecurity lets only the Trash's owner read it, and
        InvalidOperationException maps to 403; see :mod:`sandbox.docspace_file_edits`)."""
        file = self._files.get(int(request.params["fileId"]))
        if file is None:
            raise HTTPError(404, "The required file was not found", type="ItemNotFound")
        if self.in_someone_elses_trash(file):  # type: ignore[attr-defined]
            raise HTTPError(
                403, "You don't have enough permission to view the file", type="InvalidOperation"
            )
        return file

    def _file_route(self, request: Request) -> Response:
        """FilesController.GetFileInfo; `version` picks an older version."""
        file = self._file_of(request)
        wanted = request.int_arg("version")
        row = next((v for v in file.history if v.version == wanted), None) if wanted else None
        if wanted and row is None:
            raise HTTPError(404, "The required file was not found", type="ItemNotFound")
        return self._envelope(request, self.file_dto(file, row))  # type: ignore[attr-defined]

    def _history_route(self, request: Request) -> Response:
        """FilesController.GetFileVersionInfo: every version, newest first (FileQueries
        DbFileQueriesAsync orders by Version descending)."""
        file = self._file_of(request)
        rows = sorted(file.history, key=lambda v: v.version, reverse=True)
        return self._envelope(request, [self.file_dto(file, v) for v in rows])  # type: ignore[attr-defined]

    def _presigned_route(self, request: Request) -> Response:
        """A temporary download link. The server signs a storage URL; here it is the
        filehandler link, which needs the same Bearer key ([simplified])."""
        file = self._file_of(request)
        url = f"{self.portal()}/filehandler.ashx?action=download&fileid={file.id}"  # type: ignore[attr-defined]
        return self._envelope(request, url)

    def _download(self, request: Request) -> Response:
        """filehandler.ashx?action=download&fileid=N[&version=V]: the bytes. The emulator reads
        the version into memory for the reply (a test-scale simplification)."""
        if request.arg("action") != "download":
            raise HTTPError(400, "action: only download is emulated")
        file = self._files.get(int(request.arg("fileid") or 0))
        if file is None:
            raise HTTPError(404, "The required file was not found")
        wanted = int(request.arg("version") or 0)
        row = next((v for v in file.history if v.version == wanted), None) if wanted else None
        blob = row.blob if row else file.blob
        disposition = f"attachment; filename*=UTF-8''{json.dumps(file.title)[1:-1]}"
        return Response(200, blob.read(), {"Content-Disposition": disposition})

    # -- test-facing state API ------------------------------------------------------------------

    def add_file(
        self,
        folder: int | Folder,
        title: str,
        content: bytes | None = None,
        author: str | None = None,
    ) -> File:
        """A file as a person would have put it there: `content` (default 1 KiB of zeros),
        created by `author` (an email; a new user when unknown; default the API key's user)."""
        with self.lock:
            folder_id = folder.id if isinstance(folder, Folder) else folder
            self._get(folder_id)
            by = None
            if author is not None:
                user = self.user_by_email(author) or self.add_user(author)  # type: ignore[attr-defined]
                by = user.id
            blob = self.blobs.put(content) if content is not None else None
            return self._new_file(stored_file_title(title), folder_id, blob, by=by)

    def add_version(self, file: int | File, content: bytes, author: str | None = None) -> File:
        """A new version of a file, as a person's upload would make it."""
        with self.lock:
            current = self._files[file.id if isinstance(file, File) else file]
            by = None
            if author is not None:
                by = (self.user_by_email(author) or self.add_user(author)).id  # type: ignore[attr-defined]
            return self._new_version(current, self.blobs.put(content), by=by)

    def file(self, file_id: int) -> File:
        with self.lock:
            return self._files[file_id]

    def file_content(self, file: int | File, version: int | None = None) -> bytes:
        """The bytes of the current version (or of `version`)."""
        with self.lock:
            current = self._files[file.id if isinstance(file, File) else file]
            if version is None:
                return current.blob.read()
            return next(v for v in current.history if v.version == version).blob.read()

    def file_versions(self, file: int | File) -> list[int]:
        with self.lock:
            current = self._files[file.id if isinstance(file, File) else file]
            return [v.version for v in current.history]

    def open_in_editor(self, file: int | File, editing: bool = True) -> None:
        """Someone has the file open (FileTrackerHelper): uploads cannot add versions to it."""
        with self.lock:
            self._files[file.id if isinstance(file, File) else file].editing = editing

    def lock_file(self, file: int | File, author: str | None) -> None:
        """`author` (an email) locks the file (LockerManager); None unlocks it. Locked by
        someone else, an upload cannot add a version to it."""
        with self.lock:
            by = None
            if author is not None:
                by = (self.user_by_email(author) or self.add_user(author)).id  # type: ignore[attr-defined]
            self._files[file.id if isinstance(file, File) else file].locked_by = by

    def upload_sessions(self) -> list[UploadSession]:
        """Sessions still in the cache (not finalized, aborted or expired)."""
        with self.lock:
            return list(self.sessions.values())
