"""Uploaded attachments of the Trello emulator: inline on cards, and their download route.

What it follows (../shared/docspace-files-notes.md §1c, developer.atlassian.com):
- The attachment object (object definitions): id, bytes, date, edgeColor, idMember,
  isUpload, mimeType, name, previews, url, pos, and fileName (SDK models). Uploads have
  `isUpload: true`, `bytes` and a `url` of the form
  `https://trello.com/1/cards/{card}/attachments/{id}/download/{fileName}` (here on the
  emulator's own host); links have `isUpload: false`, `bytes: null` and their own URL.
- Cards listings carry them inline with `attachments=true` and `attachment_fields=all|a,b`
  (GET /cards/{id} parameters in specs/trello-openapi.json; the same nested-resource
  parameters on /boards/{id}/cards per the "Nested resources" guide).
- Downloads (community.developer.atlassian.com/t/update-authenticated-access-to-s3/43681,
  in force since 25 Jan 2021): key and token in the query string are refused with 401
  `unauthorized permission requested`; the `Authorization: OAuth oauth_consumer_key="…",
  oauth_token="…"` header is required, and the answer is a 302 to the file's presigned
  S3 URL (here `/s3/trello-attachments/…` on the same server).
- That S3 URL refuses a request that also carries an Authorization header (400
  InvalidArgument "Only one auth mechanism allowed", AWS S3 behaviour for presigned
  URLs; that Trello's bucket answers exactly so is unverified). A client must follow the
  redirect without forwarding the header, as the notes advise.
- Adding or deleting an attachment records addAttachmentToCard / deleteAttachmentFromCard
  and moves the board's dateLastActivity (trello_extras.add_attachment) and the card's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from sandbox.attachment_files import SignedFiles, StoredFile, content_sha256
from sandbox.http import HTTPError, Request, Response, Route, compile_template
from sandbox.trello_state import iso

FILES_PREFIX = "/s3/trello-attachments"
DOWNLOAD_ROUTE = "/cards/{id}/attachments/{idAttachment}/download/{fileName}"
NO_PERMISSION = "unauthorized permission requested"
REDIRECT_TTL = 3600  # the signature Trello puts on the hosted file's URL lives an hour


class TrelloFiles:
    """Mixed into TrelloEmulator (needs its state, `route`, `_card`, `base_url`)."""

    files: SignedFiles

    def _init_files(self) -> None:
        self.files = SignedFiles(f"trello-{id(self)}", FILES_PREFIX)

    # -- the arrange API ---------------------------------------------------------------

    def add_file_attachment(
        self,
        card_id: str,
        name: str,
        size: int,
        mime_type: str = "application/octet-stream",
        seed: int | None = None,
    ) -> str:
        """An uploaded file of `size` bytes; content from `seed` (default: derived from its id)."""
        with self.lock:  # type: ignore[attr-defined]
            card = self.cards[card_id]  # type: ignore[attr-defined]
            self.tick()  # type: ignore[attr-defined]
            att_id = self.new_id()  # type: ignore[attr-defined]
            att = {
                "id": att_id,
                "bytes": size,
                "date": iso(self._now),  # type: ignore[attr-defined]
                "edgeColor": None,
                "idMember": self.me,  # type: ignore[attr-defined]
                "isUpload": True,
                "mimeType": mime_type,
                "name": name,
                "fileName": name,
                "previews": [],
                "url": None,  # rendered per request: it names this server's host
                "pos": 16384.0 * (len(self._attachments.get(card_id, [])) + 1),  # type: ignore[attr-defined]
            }
            self._attachments.setdefault(card_id, []).append(att)  # type: ignore[attr-defined]
            content_seed = int(att_id, 16) % 2**63 if seed is None else seed
            self.files.put(StoredFile(att_id, name, size, content_seed, mime_type))
            action = self.add_action(  # type: ignore[attr-defined]
                card["idBoard"],
                "addAttachmentToCard",
                {"card": self._card_ref(card_id), "attachment": {"id": att_id, "name": name}},  # type: ignore[attr-defined]
            )
            card["dateLastActivity"] = action["date"]
            return att_id

    def attachment_sha256(self, attachment_id: str) -> str:
        stored = self.files.files[attachment_id]
        return content_sha256(stored.seed, stored.size)

    # -- views -------------------------------------------------------------------------

    def attachments(self, card_id: str) -> list[dict[str, Any]]:
        with self.lock:  # type: ignore[attr-defined]
            return [self.attachment_view(card_id, a) for a in self._attachments.get(card_id, [])]  # type: ignore[attr-defined]

    def attachment_view(self, card_id: str, att: dict[str, Any]) -> dict[str, Any]:
        view = dict(att)
        if att["isUpload"]:
            view["url"] = (
                f"{self.base_url}/cards/{card_id}/attachments/{att['id']}/download/"  # type: ignore[attr-defined]
                f"{quote(att['fileName'])}"
            )
        return view

    def inline_attachments(self, card_id: str, request: Request) -> list[dict[str, Any]]:
        """`attachments=true` on a cards listing: the card's attachments, `attachment_fields` kept."""
        raw = request.arg("attachment_fields") or "all"
        names = [f.strip() for f in raw.split(",") if f.strip()]
        out = []
        for att in self._attachments.get(card_id, []):  # type: ignore[attr-defined]
            view = self.attachment_view(card_id, att)
            if "all" not in names:
                view = {"id": view["id"], **{k: view[k] for k in names if k in view}}
            out.append(view)
        return out

    # -- routes ------------------------------------------------------------------------

    def register_file_routes(self) -> None:
        self.route("GET", "/cards/{id}/attachments/{idAttachment}")(self._one_attachment)  # type: ignore[attr-defined]
        self.route("GET", DOWNLOAD_ROUTE)(self._download)  # type: ignore[attr-defined]
        template = FILES_PREFIX + "/{key}/{name}"
        self.routes.append(  # type: ignore[attr-defined]
            Route("GET", template, compile_template(template), self._hosted_file)
        )

    def is_hosted_file(self, request: Request) -> bool:
        return request.path.startswith(FILES_PREFIX + "/")

    def refuses_query_auth(self, request: Request) -> bool:
        """A download authenticated by key/token in the query string (refused since 2021)."""
        header = (request.headers.get("Authorization") or "") if request.headers else ""
        return request.route == DOWNLOAD_ROUTE and not header.startswith("OAuth ")

    def _find(self, request: Request) -> tuple[str, dict[str, Any]]:
        card = self._card(request, request.params["id"])  # type: ignore[attr-defined]
        att_id = request.params["idAttachment"]
        found = [a for a in self._attachments.get(card["id"], []) if a["id"] == att_id]  # type: ignore[attr-defined]
        if not found:
            raise HTTPError(404, "The requested resource was not found.")
        return card["id"], found[0]

    def _one_attachment(self, request: Request) -> Any:
        """GET /cards/{id}/attachments/{idAttachment}?fields=… (notes §1c)."""
        card_id, att = self._find(request)
        view = self.attachment_view(card_id, att)
        raw = request.arg("fields") or "all"
        names = [f.strip() for f in raw.split(",") if f.strip()]
        if "all" in names:
            return view
        return {"id": view["id"], **{k: view[k] for k in names if k in view}}

    def _download(self, request: Request) -> Response:
        _, att = self._find(request)
        att_id = att["id"]
        if not att["isUpload"]:
            raise HTTPError(404, "The requested resource was not found.")
        root = self.base_url.removesuffix(self.api_prefix)  # type: ignore[attr-defined]
        now = dt.datetime.fromtimestamp(self._now, dt.UTC)  # type: ignore[attr-defined]
        location = self.files.presign(root, att_id, now, REDIRECT_TTL)
        return Response(302, "", {"Location": location})

    def _hosted_file(self, request: Request) -> Response:
        if request.headers.get("Authorization"):
            return _s3_invalid_argument()
        now = dt.datetime.fromtimestamp(self._now, dt.UTC)  # type: ignore[attr-defined]
        return self.files.serve(request, now)


def _s3_invalid_argument() -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InvalidArgument</Code>'
        "<Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
        "Signature query string parameter or the Authorization header should be specified"
        "</Message></Error>"
    )
    return Response(400, body, content_type="application/xml")
