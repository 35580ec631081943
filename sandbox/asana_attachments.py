"""Attachments of the Asana emulator: uploaded files and external links on tasks.

What it follows (Asana API reference, ../shared/specs/asana_oas.yaml, and the notes in
../shared/docspace-files-notes.md §1b):
- `GET /attachments?parent=<task>` lists AttachmentCompact records (gid, resource_type,
  name, resource_subtype), paged like every list, `opt_fields` honoured. That is the route
  the spec and the python SDK (`AttachmentsApi.get_attachments_for_object`) use; the old
  `GET /tasks/{gid}/attachments` only survives in the spec's next_page example and is not
  emulated.
- `GET /attachments/{gid}` returns the whole record: `host` and `resource_subtype` (asana,
  dropbox, gdrive, onedrive, box, vimeo, external), `size` ("only present when
  resource_subtype is asana"), `download_url` ("may be null if … Box and will be null if …
  Vimeo"; "may only be valid for two minutes from the time of retrieval"), `permanent_url`,
  `view_url`, `created_at`, `parent`.
- `download_url` of an uploaded file is a presigned URL on the emulated bucket (this
  server, `/s3/asana-attachments/…`): no Asana token, 403 XML once expired
  (sandbox.attachment_files). Its lifetime runs on the emulator's clock
  (`advance_clock`), `download_url_ttl` seconds (120, the spec's "two minutes").
- Task.modified_at moves, and the project's event stream gets a task `changed` event,
  when an attachment is added or deleted (notes §1b "Change detection": "modified_at
  changes when attachments is updated or an attachment is trashed"). That the change
  event names the field `attachments` is unverified.
- `DELETE /attachments/{gid}`; `POST /attachments` for external links (uploads through
  the API are not emulated: the sync never uploads to Asana).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sandbox.asana_fields import parse_opt_fields, project
from sandbox.asana_state import Obj, parse_iso
from sandbox.attachment_files import SignedFiles, StoredFile
from sandbox.http import HTTPError, Request, Response, Route, compile_template

APP = "https://app.asana.com"
FILES_PREFIX = "/s3/asana-attachments"
EXTERNAL_HOSTS = ("dropbox", "gdrive", "onedrive", "box", "vimeo", "external")
DOWNLOAD_URL_TTL = 120


class AsanaAttachments:
    """Mixed into AsanaEmulator: needs its state (`_new`, `get`, `live`, `_touch`, ...)."""

    files: SignedFiles
    download_url_ttl: int

    def _init_attachments(self) -> None:
        self.files = SignedFiles(f"asana-{id(self)}", FILES_PREFIX)
        self.download_url_ttl = DOWNLOAD_URL_TTL

    # -- the arrange API -----------------------------------------------------------------

    def add_file_attachment(
        self,
        parent: str,
        name: str,
        size: int,
        seed: int | None = None,
        mime_type: str = "application/octet-stream",
    ) -> str:
        """An uploaded file (host `asana`) of `size` bytes whose content is made from `seed`
        (default: its gid) — see sandbox.attachment_files.content_sha256."""
        with self.lock:  # type: ignore[attr-defined]
            att = self._new_attachment(parent, name, host="asana", size=size)
            content_seed = int(att.gid) if seed is None else seed
            self.files.put(StoredFile(att.gid, name, size, content_seed, mime_type))
            return att.gid

    def add_link_attachment(self, parent: str, name: str, url: str, host: str = "gdrive") -> str:
        """An attachment that only points elsewhere (Google Drive, Dropbox, a plain URL...)."""
        assert host in EXTERNAL_HOSTS, host
        with self.lock:  # type: ignore[attr-defined]
            return self._new_attachment(parent, name, host=host, url=url).gid

    def remove_attachment(self, gid: str) -> None:
        with self.lock:  # type: ignore[attr-defined]
            self._trash_attachment(self.objects[gid])  # type: ignore[attr-defined]

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock (download URLs expire on it)."""
        with self.lock:  # type: ignore[attr-defined]
            self._clock += dt.timedelta(seconds=seconds)  # type: ignore[has-type]

    def attachment_sha256(self, gid: str) -> str:
        from sandbox.attachment_files import content_sha256

        stored = self.files.files[gid]
        return content_sha256(stored.seed, stored.size)

    def _new_attachment(self, parent: str, name: str, **data: Any) -> Obj:
        att: Obj = self._new("attachment", name, f"attachments:{parent}", parent=parent, **data)  # type: ignore[attr-defined]
        task = self.get(parent)  # type: ignore[attr-defined]
        if task is not None and task.kind == "task":
            self._touch(task)  # type: ignore[attr-defined]
            self._task_event(task, "changed", "attachments")  # type: ignore[attr-defined]
        return att

    def _trash_attachment(self, att: Obj) -> None:
        att.deleted = True
        task = self.get(att.data["parent"])  # type: ignore[attr-defined]
        if task is not None and task.kind == "task":
            self._touch(task)  # type: ignore[attr-defined]
            self._task_event(task, "changed", "attachments")  # type: ignore[attr-defined]

    # -- the representation ----------------------------------------------------------------

    def attachment_full(self, obj: Obj) -> dict[str, Any]:
        d = obj.data
        host = d.get("host") or "external"
        asset = f"{APP}/app/asana/-/get_asset?asset_id={obj.gid}"
        out: dict[str, Any] = {
            "gid": obj.gid,
            "resource_type": "attachment",
            "name": obj.name,
            "resource_subtype": host,
            "created_at": obj.created_at,
            "host": host,
            "parent": self.ref(d["parent"]),  # type: ignore[attr-defined]
        }
        if host == "asana":
            out |= {
                "size": d["size"],
                "download_url": self._download_url(obj.gid),
                "permanent_url": asset,
                "view_url": asset,
            }
        else:
            url = d["url"]
            out |= {
                "download_url": None if host in ("external", "box", "vimeo") else url,
                "permanent_url": url,
                "view_url": url,
            }
            if host in ("external", "gdrive"):
                out["connected_to_app"] = False
        return out

    def _download_url(self, gid: str) -> str:
        root = self.base_url.removesuffix(self.api_prefix)  # type: ignore[attr-defined]
        return self.files.presign(root, gid, self._clock_now(), self.download_url_ttl)

    def _clock_now(self) -> dt.datetime:
        return parse_iso(self.now())  # type: ignore[attr-defined]

    # -- routes ------------------------------------------------------------------------------

    def register_attachment_routes(self) -> None:
        r = self.route  # type: ignore[attr-defined]
        r("GET", "/attachments")(self._attachments)
        r("POST", "/attachments")(self._create_attachment)
        r("GET", "/attachments/{gid}")(self._attachment)
        r("DELETE", "/attachments/{gid}")(self._delete_attachment)
        # the bucket lives outside /api/1.0 and takes no Asana token
        template = FILES_PREFIX + "/{key}/{name}"
        self.routes.append(  # type: ignore[attr-defined]
            Route("GET", template, compile_template(template), self._download)
        )

    def is_download(self, request: Request) -> bool:
        return request.path.startswith(FILES_PREFIX + "/")

    def _download(self, request: Request) -> Response:
        return self.files.serve(request, self._clock_now())

    def _attachment(self, request: Request) -> Any:
        gid = request.params["gid"]
        return self._one(self.get(gid, "attachment"), request, "attachment", gid)  # type: ignore[attr-defined]

    def _attachments(self, request: Request) -> Any:
        parent = request.arg("parent")
        if not parent:
            raise HTTPError(400, "parent: Missing input")
        if self.get(parent) is None:  # type: ignore[attr-defined]
            raise HTTPError(404, f"parent: Unknown object: {parent}")
        self._check_restricted(parent)
        return self._page(request, self.live(f"attachments:{parent}"))  # type: ignore[attr-defined]

    def _check_restricted(self, parent: str) -> None:
        restricted: dict[str, int] = self.restricted  # type: ignore[attr-defined]
        if parent in restricted:
            raise HTTPError(restricted[parent], "Forbidden")

    def _create_attachment(self, request: Request) -> Any:
        from sandbox.asana import _form

        form = _form(request)
        if form.get("resource_subtype") != "external":
            raise HTTPError(400, "resource_subtype: only external attachments are emulated")
        parent = form.get("parent") or ""
        if self.get(parent) is None:  # type: ignore[attr-defined]
            raise HTTPError(400, f"parent: Not a recognized ID: {parent}")
        self._check_restricted(parent)
        if not form.get("url"):
            raise HTTPError(400, "url: Missing input")
        name = form.get("name") or form["url"]
        att = self._new_attachment(parent, name, host="external", url=form["url"])
        tree = parse_opt_fields(request.arg("opt_fields"))
        return Response(200, {"data": project(self.full(att), tree)})  # type: ignore[attr-defined]

    def _delete_attachment(self, request: Request) -> Any:
        att = self.get(request.params["gid"], "attachment")  # type: ignore[attr-defined]
        if att is None:
            raise HTTPError(404, f"attachment: Unknown object: {request.params['gid']}")
        self._trash_attachment(att)
        return {"data": {}}
