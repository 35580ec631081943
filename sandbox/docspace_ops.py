"""DocSpace routes for asynchronous work: file operations (move) and room templates.

Every write is applied to the state when the request arrives, so a response lost
on the way back never loses the write; only what the *status* reports is delayed
(`fileop_seconds`, `template_job_seconds`). A room made from a template exists
(with its id) as soon as the job starts; the template's folders and files appear
in it when the job completes, as on the real server.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.docspace_rooms import clean_title
from sandbox.docspace_store import (
    ROOM_FOLDER_TYPES,
    ROOMS_ROOT,
    TEMPLATES_ROOT,
    DocSpaceStore,
    File,
    Folder,
    Job,
)
from sandbox.http import HTTPError, Request, Response


def _ids(values: Any, what: str) -> list[int]:
    try:
        return [int(v) for v in values or []]
    except (TypeError, ValueError):
        raise HTTPError(400, f"{what}: integer ids expected") from None


class OpsRoutes(DocSpaceStore):
    def register_ops_routes(self) -> None:
        add = self.add_route  # type: ignore[attr-defined]
        add("PUT", "/files/fileops/move", self._move)
        add("GET", "/files/fileops", self._fileops)
        add("POST", "/files/roomtemplate", self._create_template)
        add("GET", "/files/roomtemplate/status", self._template_status)
        add("POST", "/files/rooms/fromtemplate", self._room_from_template)
        add("GET", "/files/rooms/fromtemplate/status", self._room_from_template_status)

    # -- file operations -----------------------------------------------------------

    def _move_error(
        self, folders: list[Folder | None], files: list[File | None], dest: Folder | None
    ) -> str | None:
        if dest is None:
            return "The required folder was not found"
        if dest.kind == "root" or (dest.kind == "template"):
            return "You don't have enough permission to move the item"
        if self._is_archived(dest):
            return "You cannot edit archived rooms"
        if any(f is None for f in folders) or any(f is None for f in files):
            return "The required folder was not found"
        for folder in folders:
            assert folder is not None
            if folder.kind != "folder":
                return "You don't have enough permission to move the item"
            if self._is_archived(folder):
                return "You cannot edit archived rooms"
            if dest.id == folder.id or any(p.id == folder.id for p in self._path(dest)):
                return "The folder cannot be moved to its own subfolder"
        return None

    def _move(self, request: Request) -> Response:
        body = request.json()
        folder_ids = _ids(body.get("folderIds"), "folderIds")
        file_ids = _ids(body.get("fileIds"), "fileIds")
        try:
            dest_id = int(body.get("destFolderId"))
        except (TypeError, ValueError):
            raise HTTPError(400, "destFolderId is required") from None
        dest = self._folders.get(dest_id)
        folders = [self._folders.get(i) for i in folder_ids]
        files = [self._files.get(i) for i in file_ids]
        sources = [f for f in folders if f is not None] + [
            self._folders[f.folder_id] for f in files if f is not None
        ]
        self._check_denied(dest, *sources)
        error = self._move_error(folders, files, dest)
        if error is None and dest is not None:
            for folder in folders:
                assert folder is not None
                self._set_parent(folder, dest.id)
            for file in files:
                assert file is not None
                self._set_file_folder(file, dest.id)
        op = self._new_op(0, folder_ids, file_ids, error)
        return self.ok(request, [self.fileop_dto(op, time.time())])  # type: ignore[attr-defined]

    def _fileops(self, request: Request) -> Response:
        now = time.time()
        wanted = request.arg("id")
        ops = [op for op in self.fileops.values() if wanted in (None, "", op.id)]
        out = [self.fileop_dto(op, now) for op in ops]  # type: ignore[attr-defined]
        for op in ops:
            if op.finished(now):  # reading a finished operation clears it
                del self.fileops[op.id]
        return self.ok(request, out)  # type: ignore[attr-defined]

    # -- room templates ---------------------------------------------------------

    def _job_progress(self, job: Job) -> float:
        if job.done:
            return 100.0
        elapsed = time.time() - job.started
        return round(min(99.0, 100.0 * elapsed / job.duration) if job.duration else 99.0, 1)

    def _template_job_dto(self, job: Job) -> dict[str, Any]:
        key = "roomId" if job.kind == "fromtemplate" else "templateId"
        return {
            key: job.target_id,
            "progress": self._job_progress(job),
            "error": job.error or "",
            "isCompleted": job.done,
        }

    def _running(self, kind: str) -> Job | None:
        job = self.jobs[kind]
        return job if job is not None and not job.done else None

    def _create_template(self, request: Request) -> Response:
        running = self._running("roomtemplate")
        if running is not None:
            return self.ok(request, self._template_job_dto(running))  # type: ignore[attr-defined]
        body = request.json()
        try:
            room = self._get_room(int(body.get("roomId")))
        except (TypeError, ValueError):
            raise HTTPError(400, "roomId is required") from None
        title = clean_title(body.get("title") or room.title)
        tags = body.get("tags")
        template = self._new_folder(
            title,
            TEMPLATES_ROOT,
            "template",
            folder_type=room.folder_type,
            room_type=room.room_type,
            tags=list(room.tags if tags is None else dict.fromkeys(str(t) for t in tags)),
        )
        self._shares[template.id] = {}
        job = self._start_job("roomtemplate", room.id, template.id, None)
        return self.ok(request, self._template_job_dto(job))  # type: ignore[attr-defined]

    def _template_status(self, request: Request) -> Response:
        job = self.jobs["roomtemplate"]
        return self.ok(request, None if job is None else self._template_job_dto(job))  # type: ignore[attr-defined]

    def _room_from_template(self, request: Request) -> Response:
        running = self._running("fromtemplate")
        if running is not None:
            # one slot per portal: the caller gets the job that is already running
            return self.ok(request, self._template_job_dto(running))  # type: ignore[attr-defined]
        body = request.json()
        try:
            template_id = int(body.get("templateId"))
        except (TypeError, ValueError):
            raise HTTPError(400, "templateId is required") from None
        template = self._folders.get(template_id)
        if template is None or template.kind != "template":
            raise HTTPError(404, "The required template was not found", type="ItemNotFound")
        title = clean_title(body.get("title"))
        self._check_denied(title=title)
        tags = body.get("tags")
        room_type = template.room_type or 2
        room = self._new_folder(
            title,
            ROOMS_ROOT,
            "room",
            folder_type=ROOM_FOLDER_TYPES[room_type],
            room_type=room_type,
            private=bool(body.get("private") or False),
            tags=list(template.tags if tags is None else dict.fromkeys(str(t) for t in tags)),
        )
        self._add_portal_tags(room.tags)
        self._shares[room.id] = {}
        job = self._start_job("fromtemplate", template.id, room.id, None)
        return self.ok(request, self._template_job_dto(job))  # type: ignore[attr-defined]

    def _room_from_template_status(self, request: Request) -> Response:
        job = self.jobs["fromtemplate"]
        return self.ok(request, None if job is None else self._template_job_dto(job))  # type: ignore[attr-defined]
