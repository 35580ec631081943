"""SIGKILL at random points while documents are uploaded: one more run leaves every file once,
whole, with the attachment's content, and no file with a second version (issue 20 §6)."""

from __future__ import annotations

import hashlib

import pytest

from sandbox.docspace import DocSpaceEmulator
from tests.sigkill import (
    forget_docspace_side,
    fresh_docspace,
    kill_count,
    kill_points,
    sync_killed_after,
)
from tests.test_documents import MIB, DocumentWorld

KILLS = kill_count(4)  # one in each quarter of the run's writes (`tests.sigkill.kill_points`)
CARD_KILLS = kill_count(3)


def _documents(emulator: DocSpaceEmulator) -> dict[str, tuple[str, list[int]]]:
    """{room/folder/.../file title: (sha256, versions)} of every file in the portal."""
    out: dict[str, tuple[str, list[int]]] = {}
    stack = [(r.id, r.title) for r in emulator.rooms("any")]
    while stack:
        folder_id, path = stack.pop()
        for f in emulator.files(folder_id):
            name = f"{path}/{f.title}"
            assert name not in out, f"two files at {name}"
            sha = hashlib.sha256(emulator.file_content(f)).hexdigest()
            out[name] = (sha, emulator.file_versions(f))
        stack += [(c.id, f"{path}/{c.title}") for c in emulator.folders(folder_id)]
    return out


def _committed_but_unrecorded(emulator: DocSpaceEmulator) -> int:
    """Files in DocSpace that the ledger does not (yet) name as applied."""
    from tests.staged import staged_rows

    try:
        rows = staged_rows(
            "SELECT docspace_id FROM docspace_state.ledger WHERE kind = 'file' AND status = 'applied'"
        )
    except Exception:  # killed before the ledger existed
        rows = []
    recorded = {r[0] for r in rows}
    files = [f for path in _folder_ids(emulator) for f in emulator.files(path)]
    return sum(1 for f in files if f.id not in recorded)


def _folder_ids(emulator: DocSpaceEmulator) -> list[int]:
    out, stack = [], [r.id for r in emulator.rooms("any")]
    while stack:
        fid = stack.pop()
        out.append(fid)
        stack += [c.id for c in emulator.folders(fid)]
    return out


@pytest.mark.slow
def test_sigkill_at_random_points_during_uploads_never_duplicates_or_leaves_a_partial_file(
    workspace, sandbox, monkeypatch
):
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DESTINATION__DOCSPACE__ATTACHMENTS", "copy")
    world = DocumentWorld(sandbox).build()
    for n in range(8):
        world.attach("ship", f"doc{n}.bin", 2_000 + n)
    world.attach("build", "large.bin", 25 * MIB)  # a session of three chunks and a finalize
    assert world.run("--extract-only").code == 0

    clean = fresh_docspace()
    monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", clean.root_url)
    assert world.run("--sync-only").code == 0
    expected, total_writes = _documents(clean.emulator), clean.emulator.log.writes()
    clean.stop()
    assert len(expected) == 14 and all(v == [1] for _, v in expected.values())

    adopted = 0
    for attempt, kill_after in enumerate(kill_points(20, total_writes, KILLS)):
        forget_docspace_side(workspace)
        server = fresh_docspace()
        sync_killed_after(server, kill_after)
        adopted += _committed_but_unrecorded(server.emulator)

        monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", server.root_url)
        run = world.run("--sync-only")
        assert run.code == 0, f"kill #{attempt} after {kill_after} writes: {run.output}"
        assert _documents(server.emulator) == expected, f"kill #{attempt} after {kill_after}"
        again = server.emulator.log.writes()
        assert world.run("--sync-only").code == 0
        assert server.emulator.log.writes() == again
        server.stop()
    # kills that landed after a file was committed and before the ledger said so: the next
    # run found those files by their intent and adopted them instead of uploading again
    assert adopted > 0


@pytest.mark.slow
def test_sigkill_during_card_uploads_never_duplicates_or_leaves_a_partial_file(
    workspace, sandbox, monkeypatch
):
    """Trello likewise: the same kind, the card's files downloaded with the OAuth header."""
    from tests.sync_world import AsanaWorld

    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DESTINATION__DOCSPACE__ATTACHMENTS", "copy")
    trello = sandbox.trello.emulator
    card = trello.add_card("Ship it", trello.add_list(trello.add_board("Roadmap"), "To do"))
    for n in range(6):
        trello.add_file_attachment(card, f"doc{n}.bin", 2_000 + n)
    trello.add_file_attachment(card, "large.bin", 12 * MIB)  # two chunks and a finalize
    world = AsanaWorld(sandbox)
    assert world.run("--extract-only", source="trello").code == 0

    clean = fresh_docspace()
    monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", clean.root_url)
    assert world.run("--sync-only", source="trello").code == 0
    expected, total_writes = _documents(clean.emulator), clean.emulator.log.writes()
    clean.stop()
    assert len(expected) == 7 and all(v == [1] for _, v in expected.values())

    for attempt, kill_after in enumerate(kill_points(21, total_writes, CARD_KILLS)):
        forget_docspace_side(workspace, "trello")
        server = fresh_docspace()
        sync_killed_after(server, kill_after, "trello")
        monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", server.root_url)
        run = world.run("--sync-only", source="trello")
        assert run.code == 0, f"kill #{attempt} after {kill_after} writes: {run.output}"
        assert _documents(server.emulator) == expected, f"kill #{attempt} after {kill_after}"
        again = server.emulator.log.writes()
        assert world.run("--sync-only", source="trello").code == 0
        assert server.emulator.log.writes() == again
        server.stop()
