"""Documents follow their cards (issue 20), Trello: uploaded card attachments copied into the
card's folder once (downloaded with the OAuth header), links skipped, a re-run writes nothing."""

from __future__ import annotations

import hashlib

import pytest

from sandbox.faults import FaultRule
from tests.sync_world import AsanaWorld


@pytest.fixture
def board(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DESTINATION__DOCSPACE__ATTACHMENTS", "copy")
    t = sandbox.trello.emulator
    ids = {"board": t.add_board("Roadmap")}
    ids["todo"] = t.add_list(ids["board"], "To do")
    ids["a"] = t.add_card("Write spec", ids["todo"])
    ids["b"] = t.add_card("Ship it", ids["todo"])
    ids["spec"] = t.add_file_attachment(ids["a"], "Spec.DOCX", 40_000)
    ids["logo"] = t.add_file_attachment(ids["b"], "logo.png", 12 * 1024 * 1024)
    ids["link"] = t.add_attachment(ids["a"], "https://drive.google.com/file/d/9", "Drive doc")["id"]
    world = AsanaWorld(sandbox)
    world.ids = ids
    return world


def run(world: AsanaWorld, *args: str):
    return world.run(*args, source="trello")


def files(world: AsanaWorld, card: str) -> dict[str, str]:
    folder = next(f for f in world.docspace.find(card) if f.kind == "folder")
    return {
        f.title: hashlib.sha256(world.docspace.file_content(f)).hexdigest()
        for f in world.docspace.files(folder.id)
    }


def test_uploaded_card_attachments_are_copied_into_the_card_folder(board):
    result = run(board)
    assert result.code == 0, result.output
    trello = board.sb.trello.emulator
    assert files(board, "Write spec") == {"Spec.docx": trello.attachment_sha256(board.ids["spec"])}
    assert files(board, "Ship it") == {"logo.png": trello.attachment_sha256(board.ids["logo"])}


def test_a_link_on_a_card_is_skipped_as_an_external_link(board):
    plan = run(board, "--plan", "-v")
    assert "'Drive doc'" in plan.output and "skipped (external link)" in plan.output
    run(board)
    assert "Drive doc" not in files(board, "Write spec")


def test_a_second_trello_run_makes_no_writes_and_no_downloads(board):
    assert run(board).code == 0
    writes = board.writes()
    assert board.sb.trello.log.count("GET", "*download*") == 2  # the first run's two files
    board.sb.trello.log.clear()
    assert run(board).code == 0
    assert board.writes() == writes
    assert board.sb.trello.log.count("GET", "*download*") == 0
    assert board.sb.trello.log.count("GET", "/s3/*") == 0


def test_a_deleted_card_attachment_leaves_its_file(board):
    assert run(board).code == 0
    board.sb.trello.emulator.delete_attachment(board.ids["a"], board.ids["spec"])
    assert run(board).code == 0
    assert "Spec.docx" in files(board, "Write spec")


def test_lost_replies_and_server_errors_on_card_uploads_leave_no_duplicate_and_no_partial_file(
    board,
):
    trello = board.sb.trello.emulator
    for n in range(4):
        board.ids[f"doc{n}"] = trello.add_file_attachment(board.ids["b"], f"doc{n}.bin", 3_000 + n)
    faults = board.docspace.faults
    faults.add(FaultRule(route="POST /files/*/session*", lost_response_rate=0.15))
    faults.add(FaultRule(route="PUT /files/*/session*", lost_response_rate=0.15))
    faults.add(FaultRule(route="POST /files/*/session*", error_rate=0.10))
    for _ in range(3):
        run(board)
    faults.clear()
    log = board.sb.docspace.log
    faulted = log.count(route="/files/*/session*", outcome="lost")
    assert faulted + log.count(route="/files/*/session*", outcome="fault") > 0
    assert run(board).code == 0
    expected = {f"doc{n}.bin": trello.attachment_sha256(board.ids[f"doc{n}"]) for n in range(4)}
    expected["logo.png"] = trello.attachment_sha256(board.ids["logo"])
    assert files(board, "Ship it") == expected  # each once, whole
    folder = next(f for f in board.docspace.find("Ship it") if f.kind == "folder")
    for f in board.docspace.files(folder.id):
        assert board.docspace.file_versions(f) == [1], f.title


def test_refresh_copies_again_a_card_file_a_colleague_deleted_by_hand(board):
    assert run(board).code == 0
    folder = next(f for f in board.docspace.find("Write spec") if f.kind == "folder")
    (spec,) = board.docspace.files(folder.id)
    board.docspace.trash_file(spec, by="ann@example.com")
    assert run(board).code == 0
    assert files(board, "Write spec") == {}  # without --refresh the ledger is trusted
    assert run(board, "--refresh").code == 0
    trello = board.sb.trello.emulator
    assert files(board, "Write spec") == {"Spec.docx": trello.attachment_sha256(board.ids["spec"])}
