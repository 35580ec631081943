"""The cards and boards the previous Trello loads hold: tombstones are re-emitted from them."""

from __future__ import annotations

from typing import Any

from pm_runtime.previous_load import PreviousLoad

LIVE = "NOT coalesce(is_deleted, false)"


def previous_cards(previous: PreviousLoad, board_id: str) -> dict[str, dict[str, Any]]:
    """The board's live cards as loaded last time, with their nested lists (labels, members...)."""
    rows = previous.records("cards", "id_board", [board_id], where=LIVE)
    return {r["id"]: r for r in rows}


def previous_board(previous: PreviousLoad, board_id: str) -> dict[str, Any] | None:
    rows = previous.records("boards", "id", [board_id])
    return rows[0] if rows else None
