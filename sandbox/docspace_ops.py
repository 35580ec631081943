"""DocSpace routes for asynchronous work: file operations (move) and room templates.

A move is published when the request arrives and runs a moment later
(`fileop_seconds`, :mod:`sandbox.docspace_fileops`), so a response lost on the
way back never loses it. Template jobs create their room when the request
arrives; only what the *status* reports is delayed (`template_job_seconds`). A room made from a template exists
(with its id) as soon as the job starts; the template's folders and files appear
in it when the job completes, as on the real server.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.docspace_fileops import CONFLICT_RESOLVE_TYPES, FileOpsEngine
from sandbox.docspace_rooms import as_bool, clean_title
from sandbox.docspace_store import (
    ROOM_FOLDER_TYPES,
    ROOMS_ROOT,
    TEMPLATES_ROOT,
    FileOp,
    Job,
    parse_enum,
)
from sandbox.http import HTTPError, Request, Response


def _ids(values: Any, what: str) -> list[int]:
    try:
        return [int(v) for v in values or []]
    except (TypeError, ValueError):
        raise HTTPError(400, f"{what}: integer ids expected") from None


class OpsRoutes(FileOpsEngine):
    def register_ops_routes(self) -> None:
        add = self.add_route  # type: ignore[attr-defined]
        add("PUT", "/files/fileops/move", self._move)
        add("GET", "/files/fileops", self._fileops)
        add("POST", "/files/roomtemplate", self._create_template)
        add("GET", "/files/roomtemplate/status", self._template_status)
        add("POST", "/files/rooms/fromtemplate", self._room_from_template)
        add("GET", "/files/rooms/fromtemplate/status", self._room_from_template_status)

    # -- file operations -----------------------------------------------------------

    def _move(self, request: Request) -> Response:
        """OperationController.MoveBatchItems: publish, then answer with the caller's move operations."""
        body = request.json()
        folder_ids = _ids(body.get("folderIds"), "folderIds")
        file_ids = _ids(body.get("fileIds"), "fileIds")
        try:
            dest_id = int(body.get("destFolderId"))
        except (TypeError, ValueError):
            raise HTTPError(400, "destFolderId is required") from None
        resolve = parse_enum(
            body.get("conflictResolveType", 0), CONFLICT_RESOLVE_TYPES, "conflictResolveType"
        )
        dest = self._folders.get(dest_id)
        sources = [self._folders[i] for i in folder_ids if i in self._folders] + [
            self._folders[self._files[i].folder_id] for i in file_ids if i in self._files
        ]
        self._check_denied(dest, *sources)
        op = None
        if folder_ids or file_ids:  # Publish returns null for an empty request
            # holdResult = !deleteAfter (OperationController.MoveBatchItems)
            hold = not as_bool(body.get("deleteAfter") or False)
            op = self._publish_move(folder_ids, file_ids, dest_id, resolve, hold)
        single = as_bool(body.get("returnSingleOperation") or False)
        ops = self._operation_results(
            None if not single else (op.id if op else ""), managers=("move",)
        )
        return self.ok(request, [dto for o, dto in ops if o.operation == 0])

    def _operation_results(
        self, wanted: str | None, managers: tuple[str, ...] = ("move", "delete")
    ) -> list[tuple[FileOp, dict[str, Any]]]:
        """FileOperationsManagerHolder.GetOperationResults: reading a finished operation dequeues it.

        A finished one is listed (this once) only if its result is held (`deleteAfter`
        false); one still queued or running is always listed. Not modelled: the queue's
        cleaner, which also drops an operation some time after its last change.
        """
        now = time.time()
        kinds = {"move": (0, 1), "delete": (2,)}
        types = {t for m in managers for t in kinds[m]}
        out = []
        for op in list(self.fileops.values()):
            if op.operation not in types or wanted not in (None, "", op.id):
                continue
            if op.finished(now):
                del self.fileops[op.id]
                if not op.hold:
                    continue
            out.append((op, self.fileop_dto(op, now)))  # type: ignore[attr-defined]
        return out

    def _fileops(self, request: Request) -> Response:
        """OperationController.GetOperationStatuses (`GET /files/fileops[?id=]`)."""
        results = self._operation_results(request.arg("id"))
        return self.ok(request, [dto for _, dto in results])  # type: ignore[attr-defined]

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
