"""Cheap change detection for `--watch`: one `GET /members/me/boards` per cycle.

Every change on a board (card created, renamed, moved, archived; list or board edited)
bumps the board's `dateLastActivity` — the signal the source itself uses to decide which
boards to reload (`trello_source.sync`). A board that appears, disappears or changes
`closed` is a change too. With `board_ids` configured only those boards count, but the
one listing still covers them all (one request instead of one per board).
"""

from __future__ import annotations

from typing import Any

import dlt
from dlt.common.configuration import with_config

from pm_runtime.changes import Changes
from pm_runtime.errors import find_user_error
from pm_runtime.transport import require_secure_url
from trello_source import settings
from trello_source.client import TrelloAuthError, TrelloClient

Snapshot = dict[str, tuple[Any, Any, str]]  # board id -> (dateLastActivity, closed, name)


class TrelloChangeDetector:
    def __init__(self, client: TrelloClient, board_ids: list[str] | None = None) -> None:
        self.client = client
        self.board_ids = set(board_ids or [])
        self._boards: Snapshot | None = None  # as of the last commit

    def poll(self) -> Changes:
        before = self.client.requests_sent
        listing = self.client.get(
            "/members/me/boards", filter="all", fields="name,closed,dateLastActivity"
        )
        sent = self.client.requests_sent - before
        boards: Snapshot = {
            str(b["id"]): (b.get("dateLastActivity"), b.get("closed"), str(b.get("name") or ""))
            for b in listing
            if not self.board_ids or str(b["id"]) in self.board_ids
        }

        def commit() -> None:
            self._boards = boards

        if self._boards is None:
            return Changes([], {}, sent, 0, commit)
        known = self._boards
        what = [f"new board {boards[b][2]!r}" for b in sorted(set(boards) - set(known))]
        what += [f"board {known[b][2]!r} gone" for b in sorted(set(known) - set(boards))]
        moved = [b for b in sorted(set(boards) & set(known)) if boards[b] != known[b]]
        what += [f"board {boards[b][2]!r} changed" for b in moved]
        # the source reloads exactly the boards whose activity moved: no arguments needed
        cost = 1 + 8 * (len(what))
        return Changes(what, {}, sent, cost, commit)

    def requests_per_poll(self) -> int:
        return 1

    def is_credentials_error(self, exc: BaseException) -> bool:
        return isinstance(find_user_error(exc), TrelloAuthError)

    def close(self) -> None:
        self.client.session.close()


@with_config(sections=("sources", "trello", "trello"))
def trello_change_detector(
    api_key: str = dlt.secrets.value,
    token: str = dlt.secrets.value,
    base_url: str = settings.DEFAULT_BASE_URL,
    board_ids: list[str] | None = None,
) -> TrelloChangeDetector:
    """The detector for the configured key/token and boards (`sources.trello.*`, like the source)."""
    base = require_secure_url(base_url, "sources.trello.base_url")
    return TrelloChangeDetector(TrelloClient(base, api_key, token), board_ids)
