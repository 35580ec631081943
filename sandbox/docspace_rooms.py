"""DocSpace routes for rooms and folders: list, create, read, update, archive, delete."""

from __future__ import annotations

import json
import time
import unicodedata
from typing import Any

from sandbox.docspace_store import (
    ARCHIVE_ROOT,
    ROOM_FOLDER_TYPES,
    ROOM_TYPES,
    ROOMS_ROOT,
    SEARCH_AREAS,
    TEMPLATES_ROOT,
    DocSpaceStore,
    File,
    Folder,
    parse_enum,
)
from sandbox.docspace_titles import (
    FOLDER_TITLE_MAX,
    ROOM_TITLE_MAX,
    length_error,
    sanitize_title,
)
from sandbox.http import HTTPError, Request, Response

MAX_PAGE = 100
_FILTER_TYPES = {"None": 0, "FilesOnly": 1, "FoldersOnly": 2}
_SORT_KEYS = {
    "dateandtime": lambda f: (f.seq, f.id),
    "az": lambda f: (f.title.lower(), f.id),
    "title": lambda f: (f.title.lower(), f.id),
    "roomtype": lambda f: (getattr(f, "room_type", 0) or 0, f.id),
    "datecreated": lambda f: (f.created, f.id),
}


def check_length(raw: Any, limit: int) -> None:
    """400 with ASP.NET's validation body for a title over `limit` UTF-16 units (raw, untrimmed).

    Model validation runs before the action, so this comes before every other check.
    """
    message = length_error(raw, limit)
    if message:
        raise HTTPError(400, message, validation={"Title": [message]})


def clean_title(raw: Any, limit: int | None = None) -> str:
    """The stored form of a requested title; 400 when it is too long (`limit`) or nothing is left."""
    if limit is not None:
        check_length(raw, limit)
    if raw is None or not isinstance(raw, str):
        raise HTTPError(400, "Title is required")
    try:
        title = sanitize_title(raw)
    except ValueError:
        raise HTTPError(
            500, "Index and length must refer to a location within the string."
        ) from None
    if not title:
        raise HTTPError(400, "The title is empty")
    return title


def collate(text: str) -> str:
    """A key that compares like MySQL's utf8_general_ci: case and accents ignored, trailing
    spaces ignored (PAD SPACE). Approximate: general_ci's own weight table is not reproduced."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold().rstrip(" ")


def as_bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


class RoomRoutes(DocSpaceStore):
    """Mixed into the emulator; relies on its `ok`, `folder_dto`, `file_dto`, `fileop_dto`."""

    def register_room_routes(self) -> None:
        self._listing_cache: dict[tuple, bytes] = {}
        self._listing_version = -1
        add = self.add_route  # type: ignore[attr-defined]
        add("GET", "/files/rooms", self._list_rooms)
        add("POST", "/files/rooms", self._create_room)
        add("GET", "/files/rooms/{id:int}", self._get_room_route)
        add("PUT", "/files/rooms/{id:int}", self._update_room)
        add("DELETE", "/files/rooms/{id:int}", self._delete_room)
        add("PUT", "/files/rooms/{id:int}/archive", self._archive_route)
        add("PUT", "/files/rooms/{id:int}/unarchive", self._unarchive_route)
        add("POST", "/files/folder/{folderId:int}", self._create_folder)
        add("GET", "/files/folder/{folderId:int}", self._get_folder_route)
        add("PUT", "/files/folder/{folderId:int}", self._rename_folder)
        add("DELETE", "/files/folder/{folderId:int}", self._delete_folder)

    def register_folder_content_route(self) -> None:
        self.add_route("GET", "/files/{folderId:int}", self._folder_contents)  # type: ignore[attr-defined]

    # -- shared helpers ------------------------------------------------------------

    def _page(self, request: Request) -> tuple[int, int]:
        count = request.int_arg("count", MAX_PAGE)
        start = request.int_arg("startIndex", 0)
        if count is None or not 1 <= count <= MAX_PAGE:
            raise HTTPError(400, f"count: The field count must be between 1 and {MAX_PAGE}.")
        if start is None or start < 0:
            raise HTTPError(400, "startIndex must not be negative")
        return count, start

    def _sorted(self, items: list[Any], request: Request) -> list[Any]:
        key = _SORT_KEYS.get(
            (request.arg("sortBy") or "DateAndTime").lower(), _SORT_KEYS["dateandtime"]
        )
        order = (request.arg("sortOrder") or "ascending").lower()
        return sorted(items, key=key, reverse=order in ("descending", "1"))

    def _path_parts(self, folder: Folder) -> list[dict[str, Any]]:
        return [
            {"id": f.id, "title": f.title, "folderType": f.folder_type, "roomType": f.room_type}
            for f in self._path(folder)
        ]

    def _writable(self, folder: Folder) -> None:
        if self._is_archived(folder):
            raise HTTPError(403, "You cannot edit archived rooms", type="InvalidOperation")

    def _room_for_write(self, room_id: int) -> Folder:
        room = self._folders.get(room_id)
        if room is None or room.kind not in ("room", "template"):
            # the server's update paths report a missing room as an invalid operation
            raise HTTPError(403, "The room was not found", type="InvalidOperation")
        self._check_denied(room)
        return room

    # -- rooms -------------------------------------------------------------------

    def _list_rooms(self, request: Request) -> Response:
        if self._listing_version != self.version:
            self._listing_cache.clear()
            self._listing_version = self.version
        key = tuple(sorted((k, tuple(v)) for k, v in request.query.items()))
        body = self._listing_cache.get(key)
        if body is None:
            body = self._render_room_list(request)
            if len(self._listing_cache) < 256:
                self._listing_cache[key] = body
        return Response(200, body, content_type="application/json; charset=utf-8")

    def _render_room_list(self, request: Request) -> bytes:
        area = parse_enum(request.arg("searchArea") or "Active", SEARCH_AREAS, "searchArea")
        if area == SEARCH_AREAS["Templates"]:
            parents, current = {TEMPLATES_ROOT}, TEMPLATES_ROOT
        elif area == SEARCH_AREAS["Archive"]:
            parents, current = {ARCHIVE_ROOT}, ARCHIVE_ROOT
        elif area == SEARCH_AREAS["Any"]:
            parents, current = {ROOMS_ROOT, ARCHIVE_ROOT}, ROOMS_ROOT
        else:
            parents, current = {ROOMS_ROOT}, ROOMS_ROOT
        types = {
            parse_enum(v, ROOM_TYPES, "type")
            for k, vs in request.query.items()
            if k == "type" or k.startswith("type[")
            for v in vs
            if v != ""
        }
        needle = (request.arg("filterValue") or "").lower()
        # VirtualRoomsController.GetRoomsFolderAsync: a non-empty `tags` is parsed with
        # JsonSerializer.Deserialize<IEnumerable<string>> (a bare string throws JsonException,
        # which ResponseWrapper answers with 500); FolderDao.GetRoomsAsync filters only when the
        # list is non-empty (`searchByTags = tags != null && tags.Any()`), so `[]` returns every
        # room. The match is SQL `IN` on files_tag.name, collated utf8_general_ci
        # (products/ASC.Files/Core/Core/EF/DbFilesTag.cs): case- and accent-insensitive,
        # trailing spaces ignored — emulated by :func:`collate`.
        tags: set[str] = set()
        if request.arg("tags"):
            try:
                parsed = json.loads(request.arg("tags") or "[]")
            except ValueError:
                raise HTTPError(500, "'tags' is an invalid JSON array") from None
            if not isinstance(parsed, list):
                raise HTTPError(500, "The JSON value could not be converted to IEnumerable<string>")
            tags = {collate(str(t)) for t in parsed}
        without_tags = as_bool(request.arg("withoutTags", "false"))
        count, start = self._page(request)

        rooms = [
            f
            for parent in parents
            for f in self._children(parent)
            if (not types or f.room_type in types)
            and (not needle or needle in f.title.lower())
            and (not tags or tags & {collate(t) for t in f.tags})
            and (not without_tags or not f.tags)
        ]
        rooms = self._sorted(rooms, request)
        page = rooms[start : start + count]
        root = self._folders[current]
        content = {
            "files": [],
            "folders": [self.folder_dto(f) for f in page],  # type: ignore[attr-defined]
            "current": self.folder_dto(root),  # type: ignore[attr-defined]
            "pathParts": self._path_parts(root),
            "startIndex": start,
            "count": len(page),
            "total": len(rooms),
            "new": 0,
        }
        return self.ok(request, content).body  # type: ignore[attr-defined]

    def _create_room(self, request: Request) -> Response:
        body = request.json()
        title = clean_title(body.get("title"), ROOM_TITLE_MAX)
        if body.get("roomType") is None:
            raise HTTPError(400, "roomType is required")
        room_type = parse_enum(body["roomType"], ROOM_TYPES, "roomType")
        self._check_denied(title=title)
        tags = [str(t) for t in body.get("tags") or []]
        room = self._new_folder(
            title,
            ROOMS_ROOT,
            "room",
            folder_type=ROOM_FOLDER_TYPES[room_type],
            room_type=room_type,
            private=as_bool(body.get("private", False)),
            tags=list(dict.fromkeys(tags)),
            indexing=as_bool(body.get("indexing", False)),
            deny_download=as_bool(body.get("denyDownload", False)),
        )
        self._add_portal_tags(room.tags)
        self._shares[room.id] = {}
        return self.ok(request, self.folder_dto(room))  # type: ignore[attr-defined]

    def _get_room_route(self, request: Request) -> Response:
        room = self._get_room(int(request.params["id"]))
        return self.ok(request, self.folder_dto(room))  # type: ignore[attr-defined]

    def _update_room(self, request: Request) -> Response:
        body = request.json()
        check_length(body.get("title"), ROOM_TITLE_MAX)  # UpdateRoomRequestDto [StringLength(170)]
        room = self._room_for_write(int(request.params["id"]))
        self._writable(room)
        if body.get("title") is not None:
            room.title = clean_title(body["title"])
        if body.get("tags") is not None:
            room.tags = list(dict.fromkeys(str(t) for t in body["tags"]))
            self._add_portal_tags(room.tags)
        if body.get("indexing") is not None:
            room.indexing = as_bool(body["indexing"])
        if body.get("denyDownload") is not None:
            room.deny_download = as_bool(body["denyDownload"])
        room.updated, room.seq = time.time(), self._touch()
        return self.ok(request, self.folder_dto(room))  # type: ignore[attr-defined]

    def _archive_route(self, request: Request) -> Response:
        return self._room_move(request, ARCHIVE_ROOT)

    def _unarchive_route(self, request: Request) -> Response:
        return self._room_move(request, ROOMS_ROOT)

    def _room_move(self, request: Request, dest_id: int) -> Response:
        # VirtualRoomsController.ArchiveRoom/UnarchiveRoom: a Skip move of the room folder to the
        # Archive (or Rooms) root, run later like any move (sandbox.docspace_fileops)
        room = self._room_for_write(int(request.params["id"]))
        hold = not as_bool((request.json() or {}).get("deleteAfter") or False)
        op = self._publish_move([room.id], [], dest_id, 0, hold)  # type: ignore[attr-defined]
        return self.ok(request, self.fileop_dto(op, time.time()))  # type: ignore[attr-defined]

    def _delete_room(self, request: Request) -> Response:
        # VirtualRoomsController.DeleteRoom publishes the delete with `immediately: true`: a room
        # is deleted for good, never put in a Trash
        room = self._room_for_write(int(request.params["id"]))
        self._remove_tree(room.id)
        op = self._new_op(2, [room.id])
        return self.ok(request, self.fileop_dto(op, time.time()))  # type: ignore[attr-defined]

    # -- folders -------------------------------------------------------------------

    def _create_folder(self, request: Request) -> Response:
        # FileStorageService.InternalCreateFolderAsync, in this order: [StringLength(165)] (400),
        # trim + ThrowIfNullOrEmpty (400), a missing parent throws InvalidOperationException
        # (ErrorMessage_FolderNotFound), which ResponseWrapper maps to 403 — not 404
        title = clean_title(request.json().get("title"), FOLDER_TITLE_MAX)
        parent = self._folders.get(int(request.params["folderId"]))
        if parent is None:
            raise HTTPError(403, "The required folder was not found", type="InvalidOperation")
        if parent.kind == "root":
            raise HTTPError(
                403,
                "You don't have enough permission to create",
                type="System.Security.SecurityException",
            )
        if self.in_a_trash(parent):  # type: ignore[attr-defined]
            # FileSecurity, `case FolderType.TRASH`: only Read, Delete and Move are allowed there
            raise HTTPError(
                403,
                "You don't have enough permission to create",
                type="System.Security.SecurityException",
            )
        self._check_denied(parent)
        self._writable(parent)
        folder = self._new_folder(title, parent.id, "folder")
        return self.ok(request, self.folder_dto(folder))  # type: ignore[attr-defined]

    def _get_folder_route(self, request: Request) -> Response:
        folder = self._readable_folder(request)
        return self.ok(request, self.folder_dto(folder))  # type: ignore[attr-defined]

    def _rename_folder(self, request: Request) -> Response:
        raw = request.json().get("title")
        check_length(raw, FOLDER_TITLE_MAX)  # RenameFolder binds CreateFolder: [StringLength(165)]
        folder = self._get(int(request.params["folderId"]))
        title = clean_title(raw)
        if folder.kind == "root":
            raise HTTPError(403, "Access denied", type="System.Security.SecurityException")
        if self.in_a_trash(folder):  # type: ignore[attr-defined]
            # FileStorageService.FolderRenameAsync: FileSecurity.CanRenameAsync is false in any
            # Trash (only Read, Delete and Move are), an InvalidOperationException: 403
            raise HTTPError(
                403,
                "You don't have enough permission to rename the folder",
                type="InvalidOperation",
            )
        self._check_denied(folder)
        self._writable(folder)
        folder.title, folder.updated, folder.seq = title, time.time(), self._touch()
        return self.ok(request, self.folder_dto(folder))  # type: ignore[attr-defined]

    def _delete_folder(self, request: Request) -> Response:
        """FoldersController.DeleteFolder (body: DeleteFolder, `deleteAfter` and `immediately`):
        unless `immediately`, the folder and its subtree move into the Trash of the user who
        deletes it; with it, or for a folder already in a Trash, they are deleted for good
        (FileDeleteOperation; see :mod:`sandbox.docspace_file_edits`)."""
        folder = self._readable_folder(request)
        if folder.kind == "root":
            raise HTTPError(403, "Access denied", type="System.Security.SecurityException")
        self._check_denied(folder)
        self._writable(folder)
        body = request.json() or {}
        if as_bool(body.get("immediately", False)) or self.in_a_trash(folder):  # type: ignore[attr-defined]
            self._remove_tree(folder.id)
        else:
            self._trash_folder(folder, self.me.id)  # type: ignore[attr-defined]
        op = self._new_op(2, [folder.id])
        return self.ok(request, [self.fileop_dto(op, time.time())])  # type: ignore[attr-defined]

    def _readable_folder(self, request: Request) -> Folder:
        """FileStorageService.GetFolderAsync / GetFolderItemsAsync: no row is 404; a folder in
        another user's Trash fails FileSecurity.CanReadAsync, an InvalidOperationException that
        ResponseWrapper answers with 403. (For DELETE the same 403 is assumed, not verified.)"""
        folder = self._get(int(request.params["folderId"]))
        if self.in_someone_elses_trash(folder):  # type: ignore[attr-defined]
            raise HTTPError(
                403,
                "You don't have enough permission to view the folder content",
                type="InvalidOperation",
            )
        return folder

    def _folder_contents(self, request: Request) -> Response:
        folder = self._readable_folder(request)
        count, start = self._page(request)
        needle = (request.arg("filterValue") or "").lower()
        # FilterType (products/ASC.Files/Core/Core/FilterTypeEnum.cs): None 0, FilesOnly 1,
        # FoldersOnly 2; the type filters (documents, images...) are not emulated
        kind = parse_enum(request.arg("filterType") or 0, _FILTER_TYPES, "filterType")
        folders = self._sorted(
            [
                f
                for f in self._children(folder.id)
                if kind != 1 and (not needle or needle in f.title.lower())
            ],
            request,
        )
        files: list[File] = self._sorted(
            [
                f
                for f in self._child_files(folder.id)
                if kind != 2 and (not needle or needle in f.title.lower())
            ],
            request,
        )
        entries: list[Folder | File] = [*folders, *files]
        page = entries[start : start + count]
        content = {
            "files": [self.file_dto(f) for f in page if isinstance(f, File)],  # type: ignore[attr-defined]
            "folders": [self.folder_dto(f) for f in page if isinstance(f, Folder)],  # type: ignore[attr-defined]
            "current": self.folder_dto(folder),  # type: ignore[attr-defined]
            "pathParts": self._path_parts(folder),
            "startIndex": start,
            "count": len(page),
            "total": len(entries),
            "new": 0,
        }
        return self.ok(request, content)  # type: ignore[attr-defined]
