"""End to end for Trello: the same reconciler, only the mapping SQL differs."""

from __future__ import annotations

import pytest

from tests.sync_world import AsanaWorld, duplicates


@pytest.fixture
def board(workspace, staging, sandbox, monkeypatch):
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    t = sandbox.trello.emulator
    ids = {"board": t.add_board("Roadmap")}
    ids["todo"] = t.add_list(ids["board"], "To do")
    ids["done"] = t.add_list(ids["board"], "Done")
    ids["a"] = t.add_card("Write spec", ids["todo"])
    ids["b"] = t.add_card("Write spec", ids["todo"])
    ids["c"] = t.add_card("Ship it", ids["done"])
    world = AsanaWorld(sandbox)
    world.ids = ids
    return world


def run(world, *args):
    return world.run(*args, source="trello")


def test_board_becomes_a_room_with_a_folder_per_card(board):
    assert run(board).code == 0
    tree = board.tree()
    assert set(tree["Roadmap"]) == {"Write spec", f"Write spec ({board.ids['b'][-6:]})", "Ship it"}
    assert duplicates(board.docspace) == []


def test_second_trello_run_writes_nothing(board):
    run(board)
    before = board.writes()
    assert run(board).code == 0
    assert board.writes() == before
    assert run(board, "--plan").code == 0


def test_grouped_layout_follows_a_card_moved_between_lists(board, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__LAYOUT", "grouped")
    run(board)
    board.sb.trello.emulator.move_card(board.ids["c"], board.ids["todo"])
    assert run(board).code == 0
    lists = board.tree()["Roadmap"]
    assert "Ship it" in lists["To do"] and lists["Done"] == {}


def test_renamed_and_archived_cards_keep_one_folder_each(board):
    run(board)
    t = board.sb.trello.emulator
    t.rename_card(board.ids["c"], "Shipped")
    t.archive_card(board.ids["a"])
    assert run(board).code == 0
    assert "Shipped" in board.tree()["Roadmap"]
    assert duplicates(board.docspace) == []


def test_deleted_card_keeps_its_folder_and_is_orphaned(board):
    run(board)
    board.sb.trello.emulator.delete_card(board.ids["c"])
    assert run(board).code == 0
    assert "Ship it" in board.tree()["Roadmap"]
    assert board.ledger("status = 'orphaned'") == [
        (f"trello:card:{board.ids['c']}", "orphaned", "Ship it")
    ]


def test_closed_board_archives_its_room(board):
    run(board)
    board.sb.trello.emulator.close_board(board.ids["board"])
    run(board)
    assert "Roadmap [archived]" in board.tree()
