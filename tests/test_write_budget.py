"""A write budget stops a run cleanly: what cannot run now is `deferred`, never `failed`.

`--max-writes N` (and DocSpace's daily limit, exit 3) may stop a run halfway down the tree: a
folder whose parent room or folder was deferred cannot be created either, and waits with it.
The run exits 0, sends at most N writes, and the next run continues where it stopped. Real runs
of the command line against the sandbox's sample (with subtasks several levels deep).
"""

from __future__ import annotations

import re

import pytest

from tests.sync_world import AsanaWorld, duplicates


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    from sandbox.sample import populate

    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    populate(sandbox, size="small")
    return AsanaWorld(sandbox)


def _count(output: str, outcome: str) -> int:
    found = re.search(rf"^\s+{outcome}\s+(\d+)", output, flags=re.M)
    return int(found.group(1)) if found else 0


def test_max_writes_defers_the_children_of_deferred_parents_instead_of_failing_them(world):
    run = world.run("--max-writes", "5")
    assert run.code == 0, run.output
    assert _count(run.output, "failed") == 0
    assert _count(run.output, "deferred") > 0
    assert "FAILED" not in run.output and "not in DocSpace yet" not in run.output
    assert world.writes() <= 5


def test_records_deferred_by_the_budget_get_no_ledger_row(world):
    """The apply writes a step's creates ahead while the step before it runs: when the
    budget is spent there, the step written ahead is deferred and its rows taken back."""
    run = world.run("--max-writes", "0")  # spent at the first room
    assert run.code == 0, run.output
    assert world.writes() == 0 and _count(run.output, "deferred") > 0
    assert world.ledger("kind = 'folder'") == [], run.output


def test_a_budget_spent_among_the_folders_leaves_no_pending_row(world):
    """A room's folders go out as soon as the run has made the room, while other rooms are
    still on their way: the folders the budget then stops are deferred with no ledger row
    (every row is what DocSpace has), and the next run makes them."""
    run = world.run("--max-writes", "6")  # 3 rooms, then 3 of the folders
    assert run.code == 0, run.output
    assert world.writes() == 6 and _count(run.output, "deferred") > 0, run.output
    assert world.ledger("status <> 'applied'") == [], run.output
    assert len(world.ledger("kind = 'folder'")) == sum(
        len(world.docspace.tree(room.id)) for room in world.docspace.rooms("active")
    )
    assert world.run().code == 0 and duplicates(world.docspace) == []


def test_runs_of_max_writes_5_converge_to_the_full_tree_with_no_failure(world):
    sent = 0
    for _ in range(60):
        run = world.run("--max-writes", "5")
        assert run.code == 0, run.output
        assert _count(run.output, "failed") == 0, run.output
        assert world.writes() - sent <= 5
        sent = world.writes()
        if _count(run.output, "deferred") == 0:
            break
    else:
        pytest.fail("60 runs of --max-writes 5 did not finish the tree")
    assert duplicates(world.docspace) == []
    # DocSpace, read back, is the whole tree: a refreshed plan finds nothing left to do
    assert world.run("--plan", "--refresh").code == 0
    assert world.run().code == 0
    assert world.writes() == sent


def test_refresh_with_max_writes_after_a_room_was_deleted_by_hand_defers_what_it_cannot_rebuild(
    world,
):
    assert world.run().code == 0
    rooms = world.docspace.rooms("active")
    biggest = max(rooms, key=lambda r: len(world.docspace.folders(r.id)))
    world.docspace.delete(biggest.id)
    sent = world.writes()
    run = world.run("--refresh", "--max-writes", "5")
    assert run.code == 0, run.output
    assert _count(run.output, "failed") == 0 and _count(run.output, "deferred") > 0
    assert world.writes() - sent <= 5
    for _ in range(30):
        if not _count(run.output, "deferred"):
            break
        run = world.run("--max-writes", "5")
        assert run.code == 0 and _count(run.output, "failed") == 0, run.output
    assert world.run("--plan", "--refresh").code == 0
    assert duplicates(world.docspace) == []


def test_a_spent_budget_leaves_room_members_to_the_next_run(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__SYNC_MEMBERS", "add")
    run = world.run("--max-writes", "5")
    assert run.code == 0, run.output
    assert world.writes() <= 5
