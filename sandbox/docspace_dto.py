"""DocSpace response shapes: the envelope, errors, and the DTOs the reconciler reads.

Field names and numeric enums follow `docspace-backend.yaml` (FolderDtoInteger,
FileDtoInteger, FileOperationDto, FileShareDto, EmployeeFullDto). The server
serialises with camelCase and omits nulls, and sends ApiDateTime as a string.

Web links: a FolderDto carries no web URL (`shortWebUrl` is only set for shared
links). The DocSpace web client opens a room or a folder inside a room at
``{portal}/rooms/shared/{id}/filter?folder={id}`` — :func:`web_url` builds it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sandbox.docspace_file import File, Version, dotnet_extension, size_text
from sandbox.docspace_store import FileOp, Folder, User, api_date
from sandbox.http import Response

if TYPE_CHECKING:
    from sandbox.docspace import DocSpaceEmulator

# .NET exception type and HRESULT per status, as the server's error envelope shows them.
_ERROR_TYPES = {
    400: ("System.ArgumentException", -2147024809),
    402: ("ASC.Core.Tenants.TenantQuotaException", -2146233088),
    403: ("System.Security.SecurityException", -2146233078),
    404: ("System.IO.FileNotFoundException", -2147024894),
    429: ("ASC.Api.Core.Middleware.RateLimitException", -2146233088),
    500: ("System.Exception", -2146233088),
}
_INVALID_OPERATION = ("System.InvalidOperationException", -2146233079)
_ITEM_NOT_FOUND = ("ASC.Common.Web.ItemNotFoundException", -2146233088)


def web_url(portal: str, folder_id: int) -> str:
    """The address the DocSpace web client uses for a room or a folder in a room."""
    return f"{portal.rstrip('/')}/rooms/shared/{folder_id}/filter?folder={folder_id}"


def drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def envelope(href: str, method: str, payload: Any, total: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if payload is not None:
        body["response"] = drop_nulls(payload)
    body["count"] = len(payload) if isinstance(payload, list) else 1
    if total is not None:
        body["total"] = total
    body["links"] = [{"href": href, "action": method}]
    body["status"] = 0
    body["statusCode"] = 200
    return body


def encoded(body: dict[str, Any]) -> Response:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(200, data, content_type="application/json; charset=utf-8")


def error_body(status: int, message: str, kind: str | None = None) -> dict[str, Any]:
    if kind == "InvalidOperation":
        etype, hresult = _INVALID_OPERATION
    elif kind == "ItemNotFound":
        etype, hresult = _ITEM_NOT_FOUND
    elif kind:
        etype, hresult = kind, _ERROR_TYPES.get(status, _ERROR_TYPES[500])[1]
    else:
        etype, hresult = _ERROR_TYPES.get(status, _ERROR_TYPES[500])
    return {
        "error": {"message": message, "type": etype, "stack": "", "hresult": hresult},
        "status": 1,
        "statusCode": status,
    }


def validation_body(status: int, errors: dict[str, list[str]]) -> dict[str, Any]:
    """A failed model validation ([StringLength]...): ASP.NET's ValidationProblemDetails as the
    `response` of the success envelope, flagged `status: 1` (common/ASC.Api.Core/Middleware/
    CommonApiResponse.cs, SuccessApiResponse). The links' href is left out (not verified)."""
    return {
        "response": {
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": status,
            "errors": errors,
        },
        "count": 1,
        "status": 1,
        "statusCode": status,
    }


def employee(user: User, portal: str) -> dict[str, Any]:
    return {
        "id": user.id,
        "displayName": user.display_name,
        "avatarSmall": "/static/images/default_user_photo_size_32-32.png",
        "profileUrl": f"{portal}/accounts/view/{user.id}",
        "hasAvatar": False,
        "isAnonim": False,
    }


def employee_full(user: User, portal: str) -> dict[str, Any]:
    return {
        **employee(user, portal),
        "firstName": user.first_name,
        "lastName": user.last_name,
        "userName": user.email.split("@")[0],
        "email": user.email,
        "status": 1,
        "activationStatus": user.activation,
        "department": "",
        "workFrom": api_date(0),
        "isAdmin": user.is_admin,
        "isRoomAdmin": False,
        "isLDAP": False,
        "isOwner": user.is_admin,
        "isVisitor": user.activation == 2,
        "isCollaborator": False,
        "mobilePhoneActivationStatus": 0,
        "isSSO": False,
    }


class DtoMixin:
    """Renders store objects; mixed into the emulator (needs its store and portal URL)."""

    def portal(self: DocSpaceEmulator) -> str:
        return self.base_url[: -len(self.api_prefix)] if self.base_url else ""

    def web_url(self: DocSpaceEmulator, folder_id: int) -> str:
        return web_url(self.portal(), folder_id)

    def folder_dto(self: DocSpaceEmulator, folder: Folder) -> dict[str, Any]:
        root = self._root(folder) if folder.kind != "root" else folder
        files, folders = self._counts(folder)
        me = employee(self.people.get(folder.created_by, self.me), self.portal())
        dto: dict[str, Any] = {
            "parentId": folder.parent_id,
            "filesCount": files,
            "foldersCount": folders,
            "new": 0,
            "mute": False,
            "pinned": False,
            "private": folder.private,
            "indexing": folder.indexing,
            "denyDownload": folder.deny_download,
            "type": folder.folder_type,
            "id": folder.id,
            "rootFolderId": root.id,
            "canShare": folder.kind == "room",
            "title": folder.title,
            "access": 0,
            "shared": False,
            "created": api_date(folder.created),
            "createdBy": me,
            "updated": api_date(folder.updated),
            "rootFolderType": root.folder_type,
            "updatedBy": me,
            "fileEntryType": 1,
        }
        if folder.kind in ("room", "template"):
            dto["roomType"] = folder.room_type
            dto["tags"] = list(folder.tags)
            dto["logo"] = {
                "original": "",
                "large": "",
                "medium": "",
                "small": "",
                "color": "5C8DCB",
            }
        else:
            room = self._room_of(folder) if folder.kind == "folder" else None
            if room is not None:
                dto["inRoom"] = True
                dto["rootRoomType"] = room.room_type
        return dto

    def file_dto(
        self: DocSpaceEmulator, file: File, version: Version | None = None
    ) -> dict[str, Any]:
        """FileDto<int> of the current version, or of `version` (FileDtoHelper.GetAsync):
        contentLength is FilesSizeToString, pureContentLength is null for 0 bytes
        (NullIfDefault), comment and versionGroup are the version's own."""
        row = version or file.snapshot()
        folder = self._folders[file.folder_id]
        root = self._root(folder)
        portal = self.portal()
        ext = dotnet_extension(row.title).lower()
        return {
            "folderId": file.folder_id,
            "version": row.version,
            "versionGroup": row.version_group,
            "contentLength": size_text(row.size),
            "pureContentLength": row.size or None,
            "fileStatus": 0,
            "mute": False,
            "viewUrl": f"{portal}/filehandler.ashx?action=download&fileid={file.id}",
            "webUrl": f"{portal}/doceditor?fileid={file.id}&version={row.version}",
            "fileType": 7 if ext in (".docx", ".doc", ".odt", ".txt", ".md") else 0,
            "fileExst": ext,
            "comment": row.comment,
            "encrypted": file.encrypted or None,
            "locked": file.locked_by is not None or None,
            "id": file.id,
            "rootFolderId": root.id,
            "canShare": False,
            "title": row.title,
            "access": 0,
            "shared": False,
            "created": api_date(row.created),
            "createdBy": employee(self.people.get(row.created_by, self.me), portal),
            "updated": api_date(row.updated),
            "rootFolderType": root.folder_type,
            "updatedBy": employee(self.people.get(row.updated_by, self.me), portal),
            "fileEntryType": 2,
        }

    def fileop_dto(self: DocSpaceEmulator, op: FileOp, now: float) -> dict[str, Any]:
        """FileOperationDto. `status` is DistributedTaskStatus (0 Created, 1 Running, 2 Completed —
        a failed move completes too, with its message in `error`: FileOperation.RunJob catches it).
        `folders` lists the entries of the operation's Result: the destination first (DoAsync
        writes `folder_{dest}` before moving), then every folder it moved (FileOperationDtoHelper)."""
        done = op.finished(now)
        folders: list[dict[str, Any]] = []
        if done and not op.error and op.dest_id is not None:
            ids = [op.dest_id, *op.result]
            folders = [self.folder_dto(self._folders[i]) for i in ids if i in self._folders]
        return {
            "id": op.id,
            "Operation": op.operation,
            "progress": 100 if done else 0,
            "error": op.error or "",
            "processed": str(len(op.folders) + len(op.files)) if done else "0",
            "finished": done,
            "status": op.status(now),
            "files": [],
            "folders": folders,
        }

    def share_dto(self: DocSpaceEmulator, user: User, access: int, owner: bool) -> dict[str, Any]:
        return {
            "access": access,
            "sharedTo": employee_full(user, self.portal()),
            "sharedToUser": employee_full(user, self.portal()),
            "isLocked": owner,
            "isOwner": owner,
            "canEditAccess": not owner,
            "canEditInternal": False,
            "canEditDenyDownload": False,
            "canEditExpirationDate": False,
            "canRevoke": not owner,
            "subjectType": 0,
        }
