"""In-memory DocSpace portal: rooms, folders, files, templates, users, shares, jobs.

Pure state with no HTTP; :class:`DocSpaceStore` is mixed into the emulator and
the route groups. The state API tests use lives in :mod:`sandbox.docspace_state`.

Rooms, folders and templates share one integer id counter, as on the real server;
files have their own. Archiving moves a room under the Archive root, exactly like
the server's own implementation (a move of the room folder).
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.docspace_blobs import Blob, BlobStore
from sandbox.docspace_file import File
from sandbox.http import HTTPError

# RoomType (requests accept the name or the number; responses send numbers).
ROOM_TYPES = {
    "FillingFormsRoom": 1,
    "EditingRoom": 2,
    "CustomRoom": 5,
    "PublicRoom": 6,
    "VirtualDataRoom": 8,
    "AiRoom": 9,
}
# The FolderType that each room type gives its room folder.
ROOM_FOLDER_TYPES = {1: 15, 2: 16, 5: 19, 6: 22, 8: 29, 9: 31}
SEARCH_AREAS = {"Active": 0, "Archive": 1, "Any": 2, "RecentByLinks": 3, "Templates": 4}
FILE_SHARES = {
    "None": 0,
    "ReadWrite": 1,
    "Read": 2,
    "Restrict": 3,
    "Varies": 4,
    "Review": 5,
    "Comment": 6,
    "FillForms": 7,
    "CustomFilter": 8,
    "RoomManager": 9,
    "Editing": 10,
    "ContentCreator": 11,
}
# FileSecurity.AvailableRoomAccesses for users, per room type (products/ASC.Files/Core/Security/FileSecurity.cs).
ROOM_ACCESSES = {
    1: {7, 9, 11},
    2: {2, 9, 10, 11},
    5: {2, 5, 6, 9, 10, 11},
    6: {9, 11},
    8: {2, 7, 9, 10, 11},
    9: {2, 9, 11},
}
# System folders: their FolderType doubles as rootFolderType of everything below them.
MY_DOCUMENTS, ROOMS_ROOT, ARCHIVE_ROOT, TEMPLATES_ROOT = 1, 2, 3, 4
FOLDER_TYPE_USER, FOLDER_TYPE_ROOMS, FOLDER_TYPE_ARCHIVE, FOLDER_TYPE_TEMPLATES = 5, 14, 20, 30


def parse_enum(value: Any, names: dict[str, int], what: str) -> int:
    """A request enum given by name (case-insensitive) or number, like ASP.NET's binder."""
    if isinstance(value, bool):
        raise HTTPError(400, f"{what}: invalid value {value!r}")
    if isinstance(value, int):
        if value in names.values():
            return value
        raise HTTPError(400, f"{what}: invalid value {value!r}")
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return parse_enum(int(text), names, what)
    for name, number in names.items():
        if name.lower() == text.lower():
            return number
    raise HTTPError(400, f"{what}: invalid value {value!r}")


def api_date(ts: float) -> str:
    """DocSpace's ApiDateTime text: 7 fraction digits and an explicit offset."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0+00:00"


@dataclass
class Folder:
    """A system root, room, room template or plain folder."""

    id: int
    title: str
    parent_id: int
    kind: str  # root | room | template | folder
    folder_type: int
    created: float
    updated: float
    seq: int  # modification order, for DateAndTime sorting without clock ties
    created_by: str
    room_type: int | None = None
    private: bool = False
    tags: list[str] = field(default_factory=list)
    indexing: bool = False
    deny_download: bool = False


@dataclass
class User:
    id: str
    email: str
    first_name: str
    last_name: str
    activation: int = 1  # 1 Activated, 2 Pending (invited by email)
    is_admin: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


@dataclass
class Job:
    """A room-from-template or template-from-room job; one slot per kind per portal."""

    kind: str  # fromtemplate | roomtemplate
    source_id: int  # template id (fromtemplate) or room id (roomtemplate)
    target_id: int  # the room (fromtemplate) or template (roomtemplate) being filled
    started: float
    duration: float
    error: str | None = None
    done: bool = False
    completed_at: float | None = None
    fail_with: str | None = None  # injected: the job fails with this message when it completes


@dataclass
class FileOp:
    """One background file operation (FileOperation/DistributedTask on the server)."""

    id: str
    operation: int  # FileOperationType: 0 Move, 1 Copy, 2 Delete
    started: float  # when it was published
    duration: float
    error: str | None = None
    folders: list[int] = field(default_factory=list)
    files: list[int] = field(default_factory=list)
    dest_id: int | None = None  # a move's destination; None: the effect was applied on request
    resolve: int = 0  # FileConflictResolveType
    hold: bool = True  # `!deleteAfter`: keep a finished result until it has been read once
    done: bool = False  # ran (its effect is applied)
    result: list[int] = field(default_factory=list)  # folder ids it reports once done

    def finished(self, now: float) -> bool:
        return self.done

    def status(self, now: float) -> int:
        """DistributedTaskStatus: 0 Created (queued), 1 Running, 2 Completed (errors included)."""
        if self.done:
            return 2
        return 1 if now >= self.started + self.duration / 2 else 0


class DocSpaceStore:
    """Portal state and its invariants. Mixed into :class:`DocSpaceEmulator`."""

    lock: threading.RLock
    #: how long a template job runs before it completes (seconds)
    template_job_seconds: float = 0.2
    #: how long a file operation (archive, move, delete) stays unfinished; 0 runs it in the request
    fileop_seconds: float = 0.05
    #: how long a finished template job's status stays readable. The server's task queue cleaner
    #: (common/ASC.Common/Threading/DistributedTaskQueue.cs, a PeriodicTimer of 10 s) drops a
    #: task once LastModifiedOn + TimeUntilUnregisterInSeconds (60 by default,
    #: DefaultDistributedTaskQueueFactoryExtension.RegisterQueue) has passed: 60–70 s after the
    #: job completed. Reading the status does not clear it. Tests shorten this.
    template_status_linger_seconds: float = 65.0

    def _init_store(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._next_id = 5
        self._next_file_id = 1
        self._seq = 0
        self.version = 0  # bumped on every mutation (listing caches key on it)
        now = time.time()
        self.me = User(self._uuid(), "admin@sandbox.example", "Sandbox", "Admin", is_admin=True)
        self.people: dict[str, User] = {self.me.id: self.me}
        self._folders: dict[int, Folder] = {}
        self._files: dict[int, File] = {}
        self.blobs = BlobStore()
        # parent id -> ids of child folders / files, so listings never scan the portal
        self._kids: dict[int, dict[int, None]] = {}
        self._docs: dict[int, dict[int, None]] = {}
        for fid, title, ftype in (
            (MY_DOCUMENTS, "My documents", FOLDER_TYPE_USER),
            (ROOMS_ROOT, "Rooms", FOLDER_TYPE_ROOMS),
            (ARCHIVE_ROOT, "Archive", FOLDER_TYPE_ARCHIVE),
            (TEMPLATES_ROOT, "Templates", FOLDER_TYPE_TEMPLATES),
        ):
            self._folders[fid] = Folder(fid, title, 0, "root", ftype, now, now, 0, self.me.id)
        self._shares: dict[int, dict[str, int]] = {}  # room id -> user id -> access
        self.portal_tags: list[str] = []
        self.jobs: dict[str, Job | None] = {"fromtemplate": None, "roomtemplate": None}
        self._fail_next_job: dict[str, str] = {}  # kind -> error message for the next job
        self.fileops: dict[str, FileOp] = {}
        self.denied: dict[int | str, int] = {}  # room id or sanitised title -> status

    # -- helpers --------------------------------------------------------------

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _touch(self) -> int:
        self._seq += 1
        self.version += 1
        return self._seq

    def _new_folder(self, title: str, parent_id: int, kind: str, **kw: Any) -> Folder:
        now = time.time()
        folder = Folder(
            self._next_id,
            title,
            parent_id,
            kind,
            kw.pop("folder_type", 0),
            now,
            now,
            self._touch(),
            self.me.id,
            **kw,
        )
        self._next_id += 1
        self._folders[folder.id] = folder
        self._kids.setdefault(parent_id, {})[folder.id] = None
        return folder

    def _new_file(
        self,
        title: str,
        folder_id: int,
        blob: Blob | None = None,
        *,
        size: int | None = None,
        by: str | None = None,
        created: float | None = None,
        comment: str | None = None,
    ) -> File:
        """Version 1 of a new file. Without a blob it holds `size` (default 1 KiB) zero bytes."""
        now = time.time()
        blob = blob if blob is not None else Blob((), 1024 if size is None else size)
        author = by or self.me.id
        f = File(
            self._next_file_id,
            title,
            folder_id,
            now if created is None else created,
            now,
            self._touch(),
            author,
            blob.size if size is None else size,
            comment=comment,
            updated_by=author,
            blob=blob,
        )
        f.history.append(f.snapshot())
        self._next_file_id += 1
        self._files[f.id] = f
        self._docs.setdefault(folder_id, {})[f.id] = None
        return f

    def _new_version(
        self,
        file: File,
        blob: Blob,
        *,
        size: int | None = None,
        by: str | None = None,
        comment: str | None = "Uploaded",
        title: str | None = None,
    ) -> File:
        """Save `blob` as the file's next version (Version++ and VersionGroup++, as
        FileDao.GetFileForCommitAsync does; CreateOn/CreateBy stay the file's)."""
        file.version += 1
        file.version_group += 1
        file.blob, file.size = blob, blob.size if size is None else size
        file.comment, file.updated_by = comment, by or self.me.id
        if title is not None:
            file.title = title
        file.updated, file.seq = time.time(), self._touch()
        file.history.append(file.snapshot())
        return file

    def _set_parent(self, folder: Folder, parent_id: int) -> None:
        self._kids.get(folder.parent_id, {}).pop(folder.id, None)
        folder.parent_id = parent_id
        self._kids.setdefault(parent_id, {})[folder.id] = None
        folder.seq = self._touch()

    def _set_file_folder(self, file: File, folder_id: int) -> None:
        self._docs.get(file.folder_id, {}).pop(file.id, None)
        file.folder_id = folder_id
        self._docs.setdefault(folder_id, {})[file.id] = None
        file.seq = self._touch()

    def _get(self, folder_id: int) -> Folder:
        folder = self._folders.get(folder_id)
        if folder is None:
            raise HTTPError(404, "The required folder was not found", type="ItemNotFound")
        return folder

    def _get_room(self, room_id: int) -> Folder:
        folder = self._folders.get(room_id)
        if folder is None or folder.kind not in ("room", "template"):
            raise HTTPError(404, "The required room was not found", type="ItemNotFound")
        return folder

    def _children(self, parent_id: int) -> list[Folder]:
        return [self._folders[i] for i in self._kids.get(parent_id, ())]

    def _child_files(self, folder_id: int) -> list[File]:
        return [self._files[i] for i in self._docs.get(folder_id, ())]

    def _path(self, folder: Folder) -> list[Folder]:
        """From the system root down to `folder`."""
        chain = [folder]
        while chain[-1].parent_id:
            chain.append(self._folders[chain[-1].parent_id])
        return chain[::-1]

    def _root(self, folder: Folder) -> Folder:
        return self._path(folder)[0]

    def _room_of(self, folder: Folder) -> Folder | None:
        for f in reversed(self._path(folder)):
            if f.kind in ("room", "template"):
                return f
        return None

    def _descendants(self, folder_id: int) -> list[Folder]:
        out, todo = [], [folder_id]
        while todo:
            kids = self._children(todo.pop())
            out.extend(kids)
            todo.extend(k.id for k in kids)
        return out

    def _counts(self, folder: Folder) -> tuple[int, int]:
        """(files, folders) below `folder`, all levels (the server keeps tree-wide counters)."""
        below = self._descendants(folder.id)
        files = len(self._docs.get(folder.id, ())) + sum(
            len(self._docs.get(f.id, ())) for f in below
        )
        return files, len(below)

    def _is_archived(self, folder: Folder) -> bool:
        return self._root(folder).id == ARCHIVE_ROOT

    def _remove_tree(self, folder_id: int) -> None:
        top = self._folders[folder_id]
        self._kids.get(top.parent_id, {}).pop(top.id, None)
        for f in self._descendants(folder_id) + [top]:
            self._folders.pop(f.id, None)
            self._shares.pop(f.id, None)
            self._kids.pop(f.id, None)
            for file_id in self._docs.pop(f.id, {}):
                self._files.pop(file_id, None)
        self._touch()

    def _copy_contents(self, source_id: int, target_id: int) -> None:
        for file in self._child_files(source_id):
            self._new_file(file.title, target_id, file.blob, size=file.size)
        for child in sorted(self._children(source_id), key=lambda f: f.id):
            copy = self._new_folder(child.title, target_id, "folder")
            self._copy_contents(child.id, copy.id)

    def _new_op(
        self,
        operation: int,
        folders: list[int],
        files: list[int] | None = None,
        error: str | None = None,
    ) -> FileOp:
        """An operation whose effect was applied on request (deletes); it only reports progress."""
        op = FileOp(
            self._uuid(),
            operation,
            time.time(),
            self.fileop_seconds,
            error,
            list(folders),
            list(files or []),
        )
        self.fileops[op.id] = op
        if op.duration <= 0:
            op.done = True
        return op

    def _advance_fileops(self, now: float) -> None:
        """Run the file operations whose time has come (sandbox.docspace_fileops)."""
        for op in self.fileops.values():
            if not op.done and now >= op.started + op.duration:
                op.done = True

    def _add_portal_tags(self, names: list[str]) -> None:
        for name in names:
            if name not in self.portal_tags:
                self.portal_tags.append(name)

    def _check_denied(self, *folders: Folder | None, title: str | None = None) -> None:
        """Raise the configured status when a write touches a denied room."""
        if not self.denied:
            return
        keys: list[int | str] = []
        if title is not None:
            keys.append(title)
        for folder in folders:
            room = self._room_of(folder) if folder is not None else None
            if room is not None:
                keys += [room.id, room.title]
        for key in keys:
            if key in self.denied:
                raise HTTPError(
                    self.denied[key], "Access denied", type="System.Security.SecurityException"
                )

    # -- jobs (advanced lazily: every request and every state call ticks) ----

    def _tick(self) -> None:
        now = time.time()
        self._advance_fileops(now)
        for kind, job in self.jobs.items():
            if job is None:
                continue
            if not job.done and now >= job.started + job.duration:
                job.done, job.completed_at = True, now
                if job.fail_with is not None:
                    job.error = job.fail_with
                elif job.target_id in self._folders and job.source_id in self._folders:
                    self._copy_contents(job.source_id, job.target_id)
                elif job.kind == "fromtemplate":
                    job.error = "Template not found"
                if job.error and job.kind == "fromtemplate" and job.target_id in self._folders:
                    # CreateRoomFromTemplateOperation.DoJob: on an exception the half-made room is
                    # deleted (folderDao.DeleteFolderAsync(RoomId)) but RoomId keeps its id
                    self._remove_tree(job.target_id)
            if job.done and now >= (job.completed_at or now) + self.template_status_linger_seconds:
                self.jobs[kind] = None  # the queue cleaner dropped it: the status reads null

    def _start_job(self, kind: str, source_id: int, target_id: int, duration: float | None) -> Job:
        job = Job(
            kind,
            source_id,
            target_id,
            time.time(),
            self.template_job_seconds if duration is None else duration,
        )
        job.fail_with = self._fail_next_job.pop(kind, None)
        self.jobs[kind] = job
        return job
