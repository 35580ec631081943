"""A thin typed client for the DocSpace API v2.0: the room and folder endpoints.

Built from three parts, each in its own module: the call itself (envelope, errors, pacing,
retries by the one HTTP policy) in `api_transport`, the listing pager in `listing`, and the
file operations (moves, archive) in `fileops_api`. Titles are cut to the API's limits
before they are sent (:func:`~docspace_destination.titles.fit_title`).

Every name the rest of the project imports from here stays importable from here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from docspace_destination.api_transport import (
    MAX_RETRY_AFTER,
    MAX_THROTTLED_RETRIES,
    THROTTLE_WAIT_CAP,
    ApiTransport,
)
from docspace_destination.errors import (
    AmbiguousWriteError,
    DocSpaceAuthError,
    DocSpaceError,
    WriteLimitReached,
)
from docspace_destination.fileops_api import FileOperationsApi, operation_finished
from docspace_destination.limits import PAGE_SIZE
from docspace_destination.pacer import Pacer, RequestStats
from docspace_destination.titles import FOLDER_TITLE_MAX, ROOM_TITLE_MAX, fit_title

__all__ = [
    "MAX_RETRY_AFTER",
    "MAX_THROTTLED_RETRIES",
    "PAGE_SIZE",
    "ROOM_TYPES",
    "SEARCH_AREA",
    "THROTTLE_WAIT_CAP",
    "AmbiguousWriteError",
    "DocSpaceAuthError",
    "DocSpaceClient",
    "DocSpaceError",
    "Pacer",
    "RequestStats",
    "WriteLimitReached",
    "operation_finished",
    "room_type_id",
]

SEARCH_AREA = {"active": 0, "archive": 1, "any": 2, "templates": 4}
ROOM_TYPES = {
    "fillingformsroom": 1,
    "filling_forms": 1,
    "editingroom": 2,
    "collaboration": 2,
    "customroom": 5,
    "custom": 5,
    "publicroom": 6,
    "public": 6,
    "virtualdataroom": 8,
    "vdr": 8,
    "airoom": 9,
}


def room_type_id(value: str | int) -> int:
    """Room type from config: a number or a name (`Collaboration`, `CustomRoom`, `VirtualDataRoom`...)."""
    if isinstance(value, int) or str(value).isdigit():
        if int(value) not in set(ROOM_TYPES.values()):
            raise ValueError(
                f"{value!r} is not a DocSpace room type; use one of "
                f"{sorted(set(ROOM_TYPES.values()))} or a name ({', '.join(sorted(ROOM_TYPES))})"
            )
        return int(value)
    key = str(value).replace(" ", "").replace("-", "").lower()
    if key not in ROOM_TYPES:
        raise ValueError(
            f"unknown room type {value!r}; use one of {sorted(set(ROOM_TYPES))} or a number"
        )
    return ROOM_TYPES[key]


class DocSpaceClient(ApiTransport, FileOperationsApi):
    """Rooms and folders over the paced transport; file operations from `FileOperationsApi`."""

    def _pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a `{files, folders, total}` listing (dlt's OffsetPaginator)."""
        from docspace_destination import listing  # here: dlt's paginator brings `requests`

        return listing.pages(lambda query: self.call("GET", path, params=query), params)

    # -- rooms -----------------------------------------------------------------

    def list_rooms(
        self,
        *,
        area: str = "any",
        tags: list[str] | None = None,
        filter_value: str | None = None,
    ) -> list[dict[str, Any]]:
        """Rooms in `area`, optionally those carrying any of `tags` (case-insensitive on MySQL).

        No `sortBy`: the server saves it as the caller's default sort order (a side effect in
        their web UI). An empty `tags` list is never sent: `tags=[]` means "no filter" and
        returns every room (VirtualRoomsController.GetRoomsFolderAsync → FolderDao
        `searchByTags = tags != null && tags.Any()`), so asking with no markers asks nothing.
        """
        params: dict[str, Any] = {"searchArea": SEARCH_AREA[area]}
        if tags is not None:
            tags = [t for t in tags if t]
            if not tags:
                return []
            params["tags"] = json.dumps(tags, ensure_ascii=False)
        if filter_value:
            params["filterValue"] = filter_value
        return [
            room
            for page in self._pages("/files/rooms", params)
            for room in page.get("folders") or []
        ]

    def room_templates(self) -> list[dict[str, Any]]:
        return self.list_rooms(area="templates")

    def create_room_from_template(
        self, template_id: int, title: str, *, private: bool = False, tags: list[str] | None = None
    ) -> dict[str, Any]:
        """Start a job (the portal runs one at a time): `{roomId, progress, error, isCompleted}`."""
        # the server cuts fromtemplate titles itself; fitting them too keeps the stored title ours
        body = {
            "templateId": template_id,
            "title": fit_title(title, ROOM_TITLE_MAX),
            "private": private,
            "tags": _tag_list(tags),
        }
        return self.call("POST", "/files/rooms/fromtemplate", body=body, idempotent=False)

    def template_job_status(self) -> dict[str, Any] | None:
        """The portal's current (or last) room-from-template job; None when there is none."""
        return self.call("GET", "/files/rooms/fromtemplate/status") or None

    def get_room(self, room_id: int) -> dict[str, Any]:
        return self.call("GET", f"/files/rooms/{room_id}")

    def create_room(
        self, title: str, room_type: int, *, private: bool = False, tags: list[str] | None = None
    ) -> dict[str, Any]:
        body = {
            "title": fit_title(title, ROOM_TITLE_MAX),
            "roomType": room_type,
            "private": private,
            "tags": _tag_list(tags),
        }
        return self.call("POST", "/files/rooms", body=body, idempotent=False)

    def rename_room(self, room_id: int, title: str) -> dict[str, Any]:
        body = {"title": fit_title(title, ROOM_TITLE_MAX)}
        return self.call("PUT", f"/files/rooms/{room_id}", body=body, idempotent=True)

    def add_room_tags(self, room_id: int, names: list[str]) -> dict[str, Any]:
        return self.call(
            "PUT", f"/files/rooms/{room_id}/tags", body={"names": names}, idempotent=True
        )

    def archive_room(self, room_id: int) -> Any:
        return self.call(
            "PUT", f"/files/rooms/{room_id}/archive", body={"deleteAfter": False}, idempotent=True
        )

    def unarchive_room(self, room_id: int) -> Any:
        return self.call(
            "PUT", f"/files/rooms/{room_id}/unarchive", body={"deleteAfter": False}, idempotent=True
        )

    # -- folders ---------------------------------------------------------------

    def create_folder(self, parent_id: int, title: str) -> dict[str, Any]:
        body = {"title": fit_title(title, FOLDER_TITLE_MAX)}
        return self.call("POST", f"/files/folder/{parent_id}", body=body, idempotent=False)

    def get_folder(self, folder_id: int) -> dict[str, Any]:
        return self.call("GET", f"/files/folder/{folder_id}")

    def rename_folder(self, folder_id: int, title: str) -> dict[str, Any]:
        body = {"title": fit_title(title, FOLDER_TITLE_MAX)}
        return self.call("PUT", f"/files/folder/{folder_id}", body=body, idempotent=True)

    def subfolders(self, folder_id: int) -> list[dict[str, Any]]:
        """The folders directly inside a room or folder (every page)."""
        return [f for page in self._pages(f"/files/{folder_id}") for f in page.get("folders") or []]

    # -- files -----------------------------------------------------------------

    def get_file(self, file_id: int) -> dict[str, Any]:
        """A file's FileDto (FilesController.GetFileInfo): where it is (`folderId`,
        `rootFolderType`: 3 in a Trash); 404 once deleted for good, 403 in another's Trash."""
        return self.call("GET", f"/files/file/{file_id}")

    def folder_url(self, folder_id: int, room_id: int | None = None) -> str:
        """The web link of a room or a folder inside a room."""
        room = room_id if room_id is not None else folder_id
        return f"{self.portal}/rooms/shared/{room}/filter?folder={folder_id}"


def _tag_list(tags: list[str] | None) -> list[str]:
    return [t for t in (tags or []) if t]
