"""The Trello source loads complete, incremental, deletion-aware data into DuckDB (issue 4)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import dlt
import pytest

from pm_runtime.errors import UserFacingError, find_user_error
from pm_runtime.staging import staging_pipeline
from sandbox import TRELLO_KEY, TRELLO_TOKEN, Service
from sandbox.trello import TrelloEmulator
from sandbox.trello_sample import build_big_account, populate_trello


@pytest.fixture
def trello(workspace: Path, trello_service: Service, monkeypatch: pytest.MonkeyPatch) -> Service:
    """The emulator with sample data, and the dlt configuration pointing at it."""
    populate_trello(emulator(trello_service), boards=3, cards_per_board=15, seed=0)
    monkeypatch.setenv("SOURCES__TRELLO__API_KEY", TRELLO_KEY)
    monkeypatch.setenv("SOURCES__TRELLO__TOKEN", TRELLO_TOKEN)
    monkeypatch.setenv("SOURCES__TRELLO__BASE_URL", trello_service.base_url)
    return trello_service


def emulator(service: Service) -> TrelloEmulator:
    em = service.emulator
    assert isinstance(em, TrelloEmulator)
    return em


def run() -> dlt.Pipeline:
    from trello_source import trello_source

    pipeline = staging_pipeline("trello", "trello_data")
    pipeline.run(trello_source())
    return pipeline


def sql(pipeline: dlt.Pipeline, query: str) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client:
        return list(client.execute_sql(query) or [])


def one(pipeline: dlt.Pipeline, query: str) -> Any:
    return sql(pipeline, query)[0][0]


def loaded_rows(pipeline: dlt.Pipeline, table: str) -> int:
    return pipeline.last_trace.last_normalize_info.row_counts.get(table, 0)


def some_card(service: Service) -> str:
    em = emulator(service)
    board = next(iter(em.boards))
    return next(c for c in em.index[board]["cards"] if not em.cards[c]["closed"])


# --------------------------------------------------------------------- completeness


def test_big_account_lands_with_exact_counts(
    workspace: Path, trello_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = build_big_account(emulator(trello_service))
    monkeypatch.setenv("SOURCES__TRELLO__API_KEY", TRELLO_KEY)
    monkeypatch.setenv("SOURCES__TRELLO__TOKEN", TRELLO_TOKEN)
    monkeypatch.setenv("SOURCES__TRELLO__BASE_URL", trello_service.base_url)
    p = run()
    big, want = account.big_board, account.expected
    assert one(p, f"SELECT count(*) FROM cards WHERE id_board = '{big}'") == 2500
    assert one(p, f"SELECT count(*) FROM actions WHERE id_board = '{big}'") == 3000
    assert one(p, f"SELECT count(*) FROM labels WHERE id_board = '{big}'") == 70
    assert one(p, "SELECT count(*) FROM cards") == want["cards"]
    assert one(p, "SELECT count(*) FROM cards WHERE closed") == want["closed_cards"]
    assert one(p, "SELECT count(*) FROM lists WHERE closed") == want["closed_lists"] > 0
    assert one(p, "SELECT count(*) FROM lists") == want["lists"]
    assert one(p, "SELECT count(*) FROM actions") == want["actions"]
    assert one(p, "SELECT count(*) FROM checklists") == want["checklists"]
    assert one(p, "SELECT count(DISTINCT id) FROM cards") == want["cards"]


def test_cards_keep_labels_members_and_custom_field_values(trello: Service) -> None:
    p = run()
    em = emulator(trello)
    labelled = sum(len(c["idLabels"]) for c in em.cards.values())
    assert one(p, "SELECT count(*) FROM cards__labels") == labelled
    assert one(p, "SELECT count(*) FROM cards__id_members") == sum(
        len(c["idMembers"]) for c in em.cards.values()
    )
    values = sum(len(v) for v in em.custom_field_items.values())
    assert one(p, "SELECT count(*) FROM cards__custom_field_items") == values > 0
    assert one(p, "SELECT count(*) FROM custom_fields") == len(em.custom_fields)


def test_boards_lists_members_and_checklists_have_the_promised_columns(trello: Service) -> None:
    p = run()
    sql(p, "SELECT id, name, closed, url, short_url, date_last_activity, is_deleted FROM boards")
    sql(p, "SELECT id_member, member_type, _dlt_parent_id FROM boards__memberships")
    sql(p, "SELECT id, id_board, name, closed, pos FROM lists")
    sql(
        p,
        "SELECT id, id_board, id_list, name, closed, pos, due, url, short_url, date_last_activity,"
        " is_deleted, deleted_at FROM cards",
    )
    sql(p, "SELECT id, id_board, name, color FROM labels")
    sql(p, "SELECT id, type, date, id_board FROM actions")
    sql(p, "SELECT name, state, _dlt_parent_id FROM checklists__check_items")
    emails = {r[0] for r in sql(p, "SELECT email FROM members WHERE email IS NOT NULL")}
    assert "me@example.com" in emails
    assert one(p, "SELECT count(*) FROM boards WHERE closed") == 1


def test_board_ids_config_loads_only_those_boards(
    trello: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = next(iter(emulator(trello).boards))
    monkeypatch.setenv("SOURCES__TRELLO__BOARD_IDS", json.dumps([first]))
    p = run()
    assert [r[0] for r in sql(p, "SELECT DISTINCT id_board FROM cards")] == [first]
    assert one(p, "SELECT count(*) FROM boards") == 1


# --------------------------------------------------------------------- incremental


def test_second_run_without_changes_requests_only_the_board_listing_and_loads_no_cards(
    trello: Service,
) -> None:
    run()
    trello.log.clear()
    p = run()
    boards = len(emulator(trello).boards)
    assert len(trello.log) <= 1 + boards
    assert trello.log.count(route="/members/me/boards") == 1
    assert loaded_rows(p, "cards") == 0
    assert loaded_rows(p, "actions") == 0


def test_only_the_changed_board_reloads(trello: Service) -> None:
    run()
    card = some_card(trello)
    board = emulator(trello).cards[card]["idBoard"]
    emulator(trello).rename_card(card, "Renamed once")
    trello.log.clear()
    p = run()
    touched = {e.path.split("/")[3] for e in trello.log.entries if e.path.startswith("/1/boards/")}
    assert touched == {board}
    assert loaded_rows(p, "actions") == 1


def test_renamed_card_is_renamed_after_one_run(trello: Service) -> None:
    run()
    card = some_card(trello)
    emulator(trello).rename_card(card, "A brand new name")
    p = run()
    assert one(p, f"SELECT name FROM cards WHERE id = '{card}'") == "A brand new name"


def test_card_moved_to_another_list_is_moved_after_one_run(trello: Service) -> None:
    run()
    em = emulator(trello)
    card = some_card(trello)
    target = next(
        x for x in em.index[em.cards[card]["idBoard"]]["lists"] if x != em.cards[card]["idList"]
    )
    em.move_card(card, target)
    p = run()
    assert one(p, f"SELECT id_list FROM cards WHERE id = '{card}'") == target


def test_archived_card_and_list_keep_closed_true(trello: Service) -> None:
    run()
    em = emulator(trello)
    card = some_card(trello)
    open_list = next(x for x in em.lists.values() if not x["closed"])["id"]
    em.archive_card(card)
    em.archive_list(open_list)
    p = run()
    assert one(p, f"SELECT closed FROM cards WHERE id = '{card}'") is True
    assert one(p, f"SELECT closed FROM lists WHERE id = '{open_list}'") is True


def test_deleted_card_is_kept_and_marked_deleted(trello: Service) -> None:
    run()
    em = emulator(trello)
    card = next(c for c in em.cards.values() if c["idLabels"] and not c["closed"])
    em.delete_card(card["id"])
    p = run()
    row = sql(
        p,
        f"SELECT name, id_list, is_deleted, deleted_at IS NOT NULL FROM cards WHERE id = '{card['id']}'",
    )
    assert row == [(card["name"], card["idList"], True, True)]
    assert one(p, "SELECT count(*) FROM cards WHERE is_deleted") == 1
    labels = one(
        p,
        "SELECT count(*) FROM cards__labels l JOIN cards c ON l._dlt_parent_id = c._dlt_id"
        f" WHERE c.id = '{card['id']}'",
    )
    assert labels == len(card["idLabels"])


def test_card_created_and_deleted_between_runs_lands_as_deleted(trello: Service) -> None:
    run()
    em = emulator(trello)
    some_list = next(x for x in em.lists.values() if not x["closed"])["id"]
    ghost = em.add_card("Here and gone", some_list)
    em.delete_card(ghost)
    p = run()
    assert sql(p, f"SELECT is_deleted, id_list FROM cards WHERE id = '{ghost}'") == [
        (True, some_list)
    ]


def test_deleted_board_is_kept_and_marked_deleted(trello: Service) -> None:
    run()
    em = emulator(trello)
    board = next(iter(em.boards))
    em.delete_board(board)
    p = run()
    assert sql(p, f"SELECT is_deleted FROM boards WHERE id = '{board}'") == [(True,)]


# --------------------------------------------------------------------- faults and bad input


def quoted(columns: list[str]) -> str:
    return ", ".join('"' + c + '"' for c in columns)


def snapshot(pipeline: dlt.Pipeline) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's business columns, sorted (load ids and dlt row ids differ between runs)."""
    out = {}
    for table in (
        "boards",
        "lists",
        "cards",
        "labels",
        "members",
        "checklists",
        "custom_fields",
        "actions",
    ):
        columns = [
            c
            for c in pipeline.default_schema.get_table_columns(table)
            if not c.startswith("_dlt") and c not in ("deleted_at",)
        ]
        out[table] = sorted(
            sql(pipeline, f"SELECT {quoted(columns)} FROM {table}"),
            key=lambda r: str(r),
        )
    return out


def test_429_burst_and_5xx_faults_load_the_same_data_as_a_fault_free_run(
    trello: Service, monkeypatch: pytest.MonkeyPatch, workspace: Path
) -> None:
    clean = snapshot(run())
    monkeypatch.setenv("DLT_DATA_DIR", str(workspace / "faulty-dlt"))
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(workspace / "faulty.duckdb"))
    trello.log.clear()
    trello.faults.burst_429(4)
    trello.faults.errors(0.1, statuses=(500, 502, 503))
    # the sample account makes ~22 requests: make sure some 5xx land whatever the dice say
    trello.faults.errors(0.5, statuses=(502,), route="GET /boards/{id}/cards/{filter}")
    faulty = run()
    assert trello.log.count(status=429) == 4
    assert trello.log.count(outcome="fault") > 0
    assert snapshot(faulty) == clean
    assert trello.log.unknown_routes() == []


def test_a_run_of_more_than_100_requests_never_exceeds_the_token_rate(
    workspace: Path, trello_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    em = emulator(trello_service)
    people = [em.me]
    for b in range(16):  # 1 listing + 7 calls per board: 113 requests
        lst = em.add_list(em.add_board(f"Board {b}", members=people), "To Do")
        em.add_card(f"Card {b}", lst)
    monkeypatch.setenv("SOURCES__TRELLO__API_KEY", TRELLO_KEY)
    monkeypatch.setenv("SOURCES__TRELLO__TOKEN", TRELLO_TOKEN)
    monkeypatch.setenv("SOURCES__TRELLO__BASE_URL", trello_service.base_url)
    trello_service.faults.burst_429(2)
    p = run()
    assert len(trello_service.log) > 100
    assert trello_service.log.max_in_window(10, token=TRELLO_TOKEN) <= 100
    assert (
        trello_service.log.count(status=429) == 2
    )  # only the injected burst, never the real limit
    assert one(p, "SELECT count(*) FROM cards") == 16


def test_bad_token_fails_with_one_clear_line(
    trello: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__TRELLO__TOKEN", "not-the-token")
    with pytest.raises(Exception) as failure:
        run()
    error = find_user_error(failure.value)
    assert isinstance(error, UserFacingError)
    assert str(error) == "Trello rejected the token: invalid token"


def test_unreadable_board_is_skipped_with_a_warning_naming_it(
    trello: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    em = emulator(trello)
    secret = em.add_board("Secret", owner=em.add_member("stranger@example.com"))
    readable = next(iter(em.boards))
    monkeypatch.setenv("SOURCES__TRELLO__BOARD_IDS", json.dumps([secret, readable]))
    with caplog.at_level(logging.WARNING, logger="trello_source"):
        p = run()
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "trello_source"
    ]
    assert len(warnings) == 1 and secret in warnings[0]
    assert one(p, "SELECT count(*) FROM cards") == len(em.index[readable]["cards"])


def test_plain_http_to_a_remote_host_is_refused(
    trello: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__TRELLO__BASE_URL", "http://api.trello.example/1")
    with pytest.raises(Exception) as failure:
        run()
    assert "sources.trello.base_url" in str(find_user_error(failure.value))


def test_key_and_token_never_reach_logs_errors_or_traces(
    trello: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    trello.faults.burst_429(2)
    trello.faults.errors(0.2)
    with caplog.at_level(logging.DEBUG):
        p = run()
        monkeypatch.setenv("SOURCES__TRELLO__API_KEY", TRELLO_KEY + "-wrong")
        with pytest.raises(Exception) as failure:
            run()
    trace = p.last_trace
    texts = [
        caplog.text,
        str(failure.value),
        repr(failure.value),
        str(trace),
        json.dumps(trace.asdict(), default=str),
    ]
    for text in texts:
        assert TRELLO_TOKEN not in text and TRELLO_KEY not in text
    assert "Trello rejected the API key: invalid key" in str(find_user_error(failure.value))
