"""Which boards to reload this run, and the per-board dlt state that decides it.

A board reloads (lists, cards, labels, members, checklists, custom fields, actions) only
when its `dateLastActivity` moved since the last successful extract; every resource of
the source asks the one shared :class:`BoardSync`, so the board listing is fetched once.
The new `dateLastActivity` is written to state only after every resource finished that
board, so a board that failed half-way reloads next run.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import dlt

from pm_runtime.errors import ConfigurationError
from trello_source import settings
from trello_source.attachments import reload_all
from trello_source.client import TrelloAccessError, TrelloClient

log = logging.getLogger("trello_source")

PER_BOARD_RESOURCES = frozenset(
    {"lists", "cards", "labels", "members", "checklists", "custom_fields", "actions"}
)


@dataclass
class BoardPlan:
    board: dict[str, Any]
    changed: bool
    actions_cursor: str | None
    done: set[str] = field(default_factory=set)
    failed: bool = False
    actions: list[dict[str, Any]] | None = None

    @property
    def id(self) -> str:
        return str(self.board["id"])

    @property
    def label(self) -> str:
        return f"{self.board.get('name', '')!r} ({self.id})"


class BoardSync:
    def __init__(
        self, client: TrelloClient, board_ids: list[str] | None, attachments: bool = False
    ) -> None:
        self.client = client
        self.attachments = attachments  # cards come with their attachments
        self.board_ids = list(board_ids) if board_ids else None
        self._plans: list[BoardPlan] | None = None
        self._gone: list[str] = []
        self._lock = threading.RLock()

    # -- the plan ---------------------------------------------------------------------------

    def _state(self) -> dict[str, dict[str, Any]]:
        return dlt.current.source_state().setdefault("boards", {})  # type: ignore[no-any-return]

    def plans(self) -> list[BoardPlan]:
        with self._lock:
            if self._plans is None:
                self._plans = self._make_plans()
            return self._plans

    def _make_plans(self) -> list[BoardPlan]:
        fields = ",".join(settings.BOARD_FIELDS)
        if self.board_ids is None:
            listing = self.client.get("/members/me/boards", filter="all", fields=fields)
        else:
            listing = []
            for board_id in self.board_ids:
                try:
                    listing.append(self.client.get(f"/boards/{board_id}", fields=fields))
                except TrelloAccessError as exc:
                    if exc.status in (400, 404):
                        # no such board: a typo in the filter, not a board to skip quietly
                        raise ConfigurationError(
                            f"sources.trello.board_ids: there is no board {board_id!r} "
                            f"({exc.status} {exc.message})"
                        ) from None
                    # a board that exists but this token may no longer read: the others go on
                    log.warning(
                        "Skipping Trello board %s: cannot read it (%s %s)",
                        board_id,
                        exc.status,
                        exc.message,
                    )
        state = self._state()
        # the first run with attachments on reads every board's cards once
        everything = reload_all(dlt.current.source_state(), self.attachments)
        plans = []
        for board in listing:
            previous = state.get(board["id"], {})
            plans.append(
                BoardPlan(
                    board=board,
                    changed=everything
                    or previous.get("date_last_activity") != board.get("dateLastActivity"),
                    actions_cursor=previous.get("actions_cursor"),
                )
            )
        if self.board_ids is None:
            listed = {p.id for p in plans}
            self._gone = [b for b in state if b not in listed]
        return plans

    def changed(self) -> list[BoardPlan]:
        return [p for p in self.plans() if p.changed and not p.failed]

    def gone_boards(self) -> list[str]:
        """Boards loaded before that the token's listing no longer shows (deleted in Trello)."""
        self.plans()
        return list(self._gone)

    def forget(self, board_id: str) -> None:
        self._state().pop(board_id, None)

    def skip(self, plan: BoardPlan, exc: TrelloAccessError) -> None:
        with self._lock:
            if not plan.failed:
                log.warning(
                    "Skipping Trello board %s: cannot read it (%s %s)",
                    plan.label,
                    exc.status,
                    exc.message,
                )
            plan.failed = True

    def finish(self, plan: BoardPlan, resource: str) -> None:
        """Record that `resource` loaded this board; the last one moves the board's state."""
        with self._lock:
            plan.done.add(resource)
            if plan.failed or not plan.done >= PER_BOARD_RESOURCES:
                return
            entry = self._state().setdefault(plan.id, {})
            entry["date_last_activity"] = plan.board.get("dateLastActivity")
            if plan.actions:
                entry["actions_cursor"] = max(a["id"] for a in plan.actions)
            # every resource has had them: held to the run's end, the actions of 100 boards
            # of 2,000 cards took ~450 MB
            plan.actions = []

    def actions(self, plan: BoardPlan) -> list[dict[str, Any]]:
        """Actions since the last run's newest (all of them the first time), newest first."""
        with self._lock:
            if plan.actions is None:
                params: dict[str, Any] = {"filter": "all"}
                if plan.actions_cursor:
                    params["since"] = plan.actions_cursor
                plan.actions = self.client.all(f"/boards/{plan.id}/actions", **params)
            return plan.actions
