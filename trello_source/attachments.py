"""Card attachments, staged as `trello_data.attachments` (metadata only).

Read inline with the cards listing (`attachments=true&attachment_fields=…`, the nested
resource parameters of GET /cards/{id} in Trello's API reference, also accepted on
/boards/{id}/cards), so staging them costs no request per card. They are reloaded with the
board's cards, i.e. when the board's dateLastActivity moved: adding or deleting an
attachment records an action (addAttachmentToCard / deleteAttachmentFromCard), which
moves it.

Staged per attachment: id, card, board, name, bytes, isUpload, mimeType, date; the `url`
only for links (`isUpload: false`), where it is the link itself. An upload's url is the
download route and is left out: it gives nothing without the credentials, and the
destination builds it from the ids when it downloads. An attachment no longer on any card
of a reloaded board (removed, or its card deleted) keeps its row with `is_deleted = true`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt

from pm_runtime.previous_load import PreviousLoad, tombstone, utc_now

Row = dict[str, Any]
# the attachment fields Trello documents (object definitions); `fileName` appears in
# responses but not in that list, so it is not asked for
FIELDS = ["name", "bytes", "date", "isUpload", "mimeType", "url"]
STATE_KEY = "attachments_listed"


def _timestamp() -> dict[str, Any]:
    return {"data_type": "timestamp", "nullable": True}


def columns() -> dict[str, Any]:
    return {
        "is_deleted": {"data_type": "bool", "nullable": True},
        "deleted_at": _timestamp(),
        "date": _timestamp(),
        "bytes": {"data_type": "bigint", "nullable": True},
        "url": {"data_type": "text", "nullable": True},
        "mime_type": {"data_type": "text", "nullable": True},
    }


def listing_params(enabled: bool) -> dict[str, str]:
    """What the cards listing adds to bring each card's attachments along."""
    if not enabled:
        return {}
    return {"attachments": "true", "attachment_fields": ",".join(FIELDS)}


def staged_row(item: Row, card_id: str, board_id: str) -> Row:
    upload = bool(item.get("isUpload"))
    return {
        "id": item["id"],
        "id_card": card_id,
        "id_board": board_id,
        "name": item.get("name"),
        "bytes": item.get("bytes"),
        "is_upload": upload,
        "mime_type": item.get("mimeType") or None,
        "date": item.get("date"),
        "url": None if upload else item.get("url"),
        "is_deleted": False,
        "deleted_at": None,
    }


def take(cards: list[Row], board_id: str) -> list[Row]:
    """The attachment rows of `cards`, removed from the card rows (no nested cards table)."""
    rows = []
    for card in cards:
        for item in card.pop("attachments", None) or []:
            rows.append(staged_row(item, card["id"], board_id))
    return rows


def gone(previous: PreviousLoad, board_id: str, present: set[str]) -> list[Row]:
    """Tombstones for the board's staged attachments that the reload no longer shows."""
    if previous.table("attachments") is None:
        return []
    staged = previous.records(
        "attachments", "id_board", [board_id], where="coalesce(is_deleted, false) = false"
    )
    now = utc_now()
    return [tombstone(r, now) for r in staged if r["id"] not in present]


class Inline:
    """Attachment rows the cards resource found, waiting for the attachments resource.

    A table of their own needs a resource of their own (a table variant of `cards` would
    inherit the cards' column hints); this hands the rows over without another request."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.done = False

    def put(self, rows: list[Row]) -> None:
        self.rows.extend(rows)


def rows(inline: Inline) -> Iterator[list[Row] | None]:
    """The attachments resource: what the cards resource handed over, as it comes. dlt pulls
    resources round robin; None is its "nothing yet", which lets the cards resource run."""
    try:
        selected = set(dlt.current.source().selected_resources)
    except Exception:  # iterated outside a source
        selected = {"cards"}
    if "cards" not in selected:
        return
    while True:
        if inline.rows:
            out, inline.rows = inline.rows, []
            yield out
        elif inline.done:
            return
        else:
            yield None


def reload_all(state: dict[str, Any], enabled: bool) -> bool:
    """True on the first run with attachments on: every board's cards must be read once.
    With them off, forget it, since changes then go unseen."""
    if not enabled:
        state.pop(STATE_KEY, None)
        return False
    first = not state.get(STATE_KEY)
    state[STATE_KEY] = True  # saved with this run's load only
    return first
