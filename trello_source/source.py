"""The Trello source: boards, lists, cards, checklists, labels, members, custom fields, actions.

Complete past the 1000-item cap (paged by `before=<oldest id>`), incremental (actions by
`since`; per-board reloads only when `dateLastActivity` moved), deletions kept as
tombstones (`is_deleted = true`), and paced under Trello's per-token rate limit.

    pipeline = pm_runtime.staging.staging_pipeline("trello", "trello_data")
    pipeline.run(trello_source())
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt
from dlt.sources import DltResource

from pm_runtime.previous_load import PreviousLoad, tombstone, utc_now
from pm_runtime.setting_checks import check_settings, whole_number_problem
from pm_runtime.transport import require_secure_url
from trello_source import attachments as card_attachments
from trello_source import settings
from trello_source.board_plan import BoardPlan, BoardSync
from trello_source.client import TrelloAccessError, TrelloClient
from trello_source.previous_load import previous_board, previous_cards

# dlt names a source's and its resources' config section after the module; this module was the
# package's `__init__` (section `trello_source`) and keeps that section where it now lives
__source_name__ = "trello_source"

Rows = Iterator[list[dict[str, Any]]]


def _pos(row: dict[str, Any]) -> dict[str, Any]:
    """Trello sends `pos` as an int or a float; always a double in DuckDB."""
    if row.get("pos") is not None:
        row["pos"] = float(row["pos"])
    return row


def _drop_nulls(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None}


def _per_board(sync: BoardSync, resource: str, fetch: Any) -> Rows:
    """Run `fetch(plan)` for every changed board; an unreadable board is skipped with a warning."""
    for plan in sync.changed():
        try:
            rows = fetch(plan)
            if rows:
                yield rows
        except TrelloAccessError as exc:
            sync.skip(plan, exc)
            continue
        sync.finish(plan, resource)


def _board_row(board: dict[str, Any]) -> dict[str, Any]:
    row = {k: board.get(k) for k in ["id", *settings.BOARD_FIELDS]}
    row.update(is_deleted=False, deleted_at=None)
    return row


@dlt.resource(
    name="boards",
    write_disposition="merge",
    primary_key="id",
    columns={**settings.deletion_columns(), "date_last_activity": settings.timestamp()},
)
def boards(sync: BoardSync) -> Rows:
    rows = [_board_row(p.board) for p in sync.plans()]
    with PreviousLoad.of_current_pipeline() as previous:
        for board_id in sync.gone_boards():
            row = previous_board(previous, board_id)
            if row is not None and not row.get("is_deleted"):
                rows.append(tombstone(row, utc_now()))
            sync.forget(board_id)
    if rows:
        yield rows


@dlt.resource(
    name="lists",
    write_disposition="merge",
    primary_key="id",
    merge_key="id_board",
    columns={"pos": settings.double()},
)
def lists(sync: BoardSync) -> Rows:
    fields = ",".join(settings.LIST_FIELDS)
    yield from _per_board(
        sync,
        "lists",
        lambda p: [
            _pos(x) for x in sync.client.get(f"/boards/{p.id}/lists", filter="all", fields=fields)
        ],
    )


def _board_cards(sync: BoardSync, previous: PreviousLoad, plan: BoardPlan) -> list[dict[str, Any]]:
    """Every card (open and archived), plus tombstones for cards gone since the last run."""
    fields = ",".join(settings.CARD_FIELDS)
    current = []
    extra = card_attachments.listing_params(sync.attachments)
    for page in sync.client.pages(
        f"/boards/{plan.id}/cards/all", fields=fields, customFieldItems="true", **extra
    ):
        for card in page:
            card.update(is_deleted=False, deleted_at=None)
            current.append(_pos(card))
    present = {c["id"] for c in current}
    deleted_by_action = {
        a["data"]["card"]["id"]: a
        for a in sync.actions(plan)
        if a.get("type") == "deleteCard" and a.get("data", {}).get("card", {}).get("id")
    }
    before = previous_cards(previous, plan.id)
    now = utc_now()
    for card_id in (set(before) | set(deleted_by_action)) - present:
        row = before.get(card_id)
        if row is None:  # created and deleted between two runs: all we know is in the action
            action = deleted_by_action[card_id]
            row = {
                "id": card_id,
                "id_board": plan.id,
                "id_list": action["data"].get("list", {}).get("id"),
                "id_short": action["data"]["card"].get("idShort"),
            }
        current.append(tombstone(row, now))
    return current


@dlt.resource(
    name="cards",
    write_disposition="merge",
    primary_key="id",
    columns={
        **settings.deletion_columns(),
        "due": settings.timestamp(),
        "start": settings.timestamp(),
        "date_last_activity": settings.timestamp(),
        "pos": settings.double(),
    },
)
def cards(sync: BoardSync, inline: card_attachments.Inline | None = None) -> Rows:
    with PreviousLoad.of_current_pipeline() as previous:

        def fetch(plan: BoardPlan) -> list[dict[str, Any]]:
            rows = _board_cards(sync, previous, plan)
            if inline is not None:  # they came inline with the cards: off to their own table
                found = card_attachments.take(rows, plan.id)
                present = {a["id"] for a in found}
                inline.put(found + card_attachments.gone(previous, plan.id, present))
            return rows

        try:
            yield from _per_board(sync, "cards", fetch)
        finally:
            if inline is not None:
                inline.done = True


@dlt.resource(name="labels", write_disposition="merge", primary_key="id", merge_key="id_board")
def labels(sync: BoardSync) -> Rows:
    fields = ",".join(settings.LABEL_FIELDS)
    yield from _per_board(
        sync, "labels", lambda p: sync.client.all(f"/boards/{p.id}/labels", fields=fields)
    )


@dlt.resource(name="members", write_disposition="merge", primary_key="id")
def members(sync: BoardSync) -> Rows:
    fields = ",".join(settings.MEMBER_FIELDS)

    def fetch(plan: BoardPlan) -> list[dict[str, Any]]:
        rows = sync.client.get(f"/boards/{plan.id}/members", fields=fields)
        for r in rows:
            r.setdefault("email", None)  # only visible for some members
        return rows  # type: ignore[no-any-return]

    yield from _per_board(sync, "members", fetch)


@dlt.resource(
    name="checklists",
    write_disposition="merge",
    primary_key="id",
    merge_key="id_board",
    columns={"pos": settings.double()},
)
def checklists(sync: BoardSync) -> Rows:
    def fetch(plan: BoardPlan) -> list[dict[str, Any]]:
        rows = sync.client.all(
            f"/boards/{plan.id}/checklists", fields="all", checkItem_fields="all"
        )
        for checklist in rows:
            _pos(checklist)
            checklist["checkItems"] = [
                _pos(_drop_nulls(item)) for item in checklist.get("checkItems") or []
            ]
        return rows

    yield from _per_board(sync, "checklists", fetch)


@dlt.resource(
    name="custom_fields",
    write_disposition="merge",
    primary_key="id",
    merge_key="id_board",
    columns={"pos": settings.double()},
)
def custom_fields(sync: BoardSync) -> Rows:
    def fetch(plan: BoardPlan) -> list[dict[str, Any]]:
        rows = sync.client.get(f"/boards/{plan.id}/customFields")
        for f in rows:
            f["idBoard"] = plan.id
            _pos(f)
            for option in f.get("options") or []:
                _pos(option)
        return rows  # type: ignore[no-any-return]

    yield from _per_board(sync, "custom_fields", fetch)


@dlt.resource(
    name="actions",
    write_disposition="merge",
    primary_key="id",
    columns={"date": settings.timestamp()},
)
def actions(sync: BoardSync) -> Rows:
    def fetch(plan: BoardPlan) -> list[dict[str, Any]]:
        # appCreator/limits are null or empty for ordinary actions: no columns to infer from
        return [
            {
                **{k: v for k, v in a.items() if k not in ("appCreator", "limits")},
                "idBoard": plan.id,
            }
            for a in sync.actions(plan)
        ]

    yield from _per_board(sync, "actions", fetch)


@dlt.source(name="trello")
def trello_source(
    api_key: str = dlt.secrets.value,
    token: str = dlt.secrets.value,
    base_url: str = settings.DEFAULT_BASE_URL,
    board_ids: list[str] | None = None,
    attachments: bool = False,
    max_retries: int = settings.MAX_RETRIES,
) -> list[DltResource]:
    """Every board the token can read (or `board_ids`), into `trello_data`. `attachments`:
    also stage card attachments (metadata only, `trello_source.attachments`). `max_retries`:
    of a request after a 429, a 5xx or a failed connection."""
    base = require_secure_url(base_url, "sources.trello.base_url")
    check_settings(whole_number_problem("sources.trello.max_retries", max_retries, minimum=0))
    client = TrelloClient(base, api_key, token, max_retries=max_retries)
    sync = BoardSync(client, board_ids, attachments=attachments)
    inline = card_attachments.Inline() if attachments else None
    extra = [_attachments_resource(inline)] if inline is not None else []
    return [
        boards(sync),
        lists(sync),
        cards(sync, inline),
        labels(sync),
        members(sync),
        checklists(sync),
        custom_fields(sync),
        actions(sync),
        *extra,
    ]


def _attachments_resource(inline: card_attachments.Inline) -> DltResource:
    return dlt.resource(
        card_attachments.rows(inline),
        name="attachments",
        write_disposition="merge",
        primary_key="id",
        columns=card_attachments.columns(),
    )
