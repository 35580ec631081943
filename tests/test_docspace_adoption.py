"""Adoption: rooms that already exist in DocSpace become the projects' rooms, never duplicates.

A room carrying the project's marker tag is its room; else a room without any marker whose
stored title equals the project's predicted title (active or archived). Two candidates are
an error on that project, never a guess.
"""

from __future__ import annotations

import pytest

from tests.sync_world import EXPECTED_FLAT, AsanaWorld, duplicates


@pytest.fixture
def world(workspace, staging, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    return AsanaWorld(sandbox).build()


def marker(world: AsanaWorld, project: str) -> str:
    return f"asana:project:{world.ids[project]}"


def written_routes(world: AsanaWorld) -> list[str]:
    """`METHOD route` of every write DocSpace applied."""
    return [
        f"{e.method} {e.route}"
        for e in world.sb.docspace.log.entries
        if e.method in ("POST", "PUT", "DELETE") and e.outcome in ("ok", "lost")
    ]


def test_adoption_by_title_tags_the_existing_room_and_creates_no_second_one(world):
    alpha = world.docspace.add_room("Alpha")
    run = world.run()
    assert run.code == 0, run.output
    assert world.tree() == EXPECTED_FLAT
    assert world.docspace.count_rooms() == 2
    assert world.docspace.room(alpha.id).tags == [marker(world, "alpha")]
    assert ("asana:project:" + world.ids["alpha"], "applied", "Alpha") in world.ledger()
    assert "adopted" in run.output


def test_ambiguous_candidates_fail_the_project_with_their_ids_and_nothing_is_created_for_it(world):
    first, second = world.docspace.add_room("Alpha"), world.docspace.add_room("Alpha")
    run = world.run()
    assert run.code == 1
    failed = [line for line in run.output.splitlines() if "FAILED" in line]
    assert len(failed) == 1
    assert f"ids {first.id}, {second.id}" in failed[0]
    assert marker(world, "alpha") in failed[0] and "rename" in failed[0]
    assert world.docspace.count_rooms() == 3  # the two that were there, and Beta's
    assert world.docspace.room(first.id).tags == [] and world.docspace.room(second.id).tags == []
    assert world.docspace.tree(first.id) == {} and world.docspace.tree(second.id) == {}
    assert world.tree()["Beta"] == EXPECTED_FLAT["Beta"]


def test_a_marker_added_by_hand_wins_over_rooms_with_the_same_title(world):
    world.docspace.add_room("Alpha")
    world.docspace.add_room("Alpha")
    pinned = world.docspace.add_room("Alpha (old name)", tags=[marker(world, "alpha").upper()])
    run = world.run()
    assert run.code == 0, run.output
    assert world.docspace.count_rooms() == 4  # nothing created for Alpha
    assert world.ledger(f"docspace_id = {pinned.id}") == [
        (marker(world, "alpha"), "applied", "Alpha (old name)")
    ]
    assert set(world.docspace.tree(pinned.id)) == {"Build", "Design", "Shared"}
    world.run()  # the next run renames it to the project's name
    assert world.docspace.room(pinned.id).title == "Alpha"


def test_a_room_carrying_another_records_marker_is_never_a_candidate(world):
    other = world.docspace.add_room("Alpha", tags=["asana:project:999"])
    assert world.run().code == 0
    assert world.docspace.room(other.id).tags == ["asana:project:999"]
    assert world.docspace.tree(other.id) == {}
    assert world.docspace.count_rooms() == 3


def test_archived_candidate_of_an_active_project_is_unarchived_tagged_and_adopted(world):
    alpha = world.docspace.add_room("Alpha", archived=True)
    run = world.run()
    assert run.code == 0, run.output
    assert world.docspace.count_rooms() == 2
    assert world.docspace.room(alpha.id) in world.docspace.rooms("active")
    assert world.docspace.room(alpha.id).tags == [marker(world, "alpha")]
    assert world.tree() == EXPECTED_FLAT


def test_archived_candidate_of_an_archived_project_is_adopted_without_a_write_then_tagged_when_it_comes_back(
    world, monkeypatch
):
    monkeypatch.setenv("DESTINATION__DOCSPACE__ARCHIVED_PROJECTS", "mirror")
    world.asana.archive_project(world.ids["beta"])
    beta = world.docspace.add_room("Beta", archived=True)
    assert world.run().code == 0
    assert not any(r.startswith("PUT /files/rooms/{id:int}/tags") for r in written_routes(world))
    assert world.docspace.room(beta.id).tags == []  # DocSpace refuses tag edits in the archive
    assert world.ledger(f"docspace_id = {beta.id}") == [(marker(world, "beta"), "applied", "Beta")]
    assert world.docspace.count_rooms() == 2
    world.asana.archive_project(world.ids["beta"], archived=False)
    assert world.run().code == 0
    assert world.docspace.room(beta.id) in world.docspace.rooms("active")
    assert world.docspace.room(beta.id).tags == [marker(world, "beta")]
    assert world.tree() == EXPECTED_FLAT


def test_folders_inside_an_adopted_room_are_adopted_by_title(world):
    alpha = world.docspace.add_room("Alpha")
    design = world.docspace.add_folder(alpha.id, "Design")
    world.docspace.add_file(design.id, "brief.docx")
    world.docspace.add_folder(design.id, "Sketch")
    world.docspace.add_folder(alpha.id, "Notes")  # not a task: left alone
    before = world.docspace.count_folders()
    assert world.run().code == 0
    assert world.docspace.tree(alpha.id) == {
        "Build": {},
        "Design": {"Sketch": {}, "brief.docx": None},
        "Notes": {},
        "Shared": {},
    }
    assert world.docspace.count_folders() == before + 2 + 2  # Build, Shared; Beta's two
    assert duplicates(world.docspace) == []


def test_plan_output_shows_adopt_and_blocked_groups_and_exits_two(world):
    alpha = world.docspace.add_room("Alpha")
    twins = [world.docspace.add_room("Beta"), world.docspace.add_room("Beta")]
    plan = world.run("--plan")
    assert plan.code == 2, plan.output
    lines = plan.output.splitlines()
    assert any(line.split() == ["adopt", "1"] for line in lines)
    assert (
        f"room   'Alpha'  [{marker(world, 'alpha')}] ← existing room {alpha.id} (by title)"
        in plan.output
    )
    blocked = next(line for line in lines if f"[{marker(world, 'beta')}]" in line)
    assert f"ids {twins[0].id}, {twins[1].id}" in blocked
    assert world.writes() == 0


def test_plan_exit_code_stays_two_while_a_room_is_to_adopt(world):
    world.docspace.add_room("Alpha")
    assert world.run("--plan").code == 2
    assert world.run().code == 0
    assert world.run("--plan").code == 0


def test_adopt_existing_false_creates_beside_rooms_without_a_marker(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__ADOPT_EXISTING", "false")
    theirs = world.docspace.add_room("Alpha")
    assert world.run().code == 0
    assert world.docspace.count_rooms() == 3
    assert world.docspace.room(theirs.id).tags == []
    assert len(world.docspace.find("Alpha", "room")) == 2


def test_adopt_existing_false_still_finds_rooms_by_their_marker(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__ADOPT_EXISTING", "false")
    world.docspace.add_room("Alpha", tags=[marker(world, "alpha")])
    assert world.run().code == 0
    assert world.docspace.count_rooms() == 2


def test_a_bad_adopt_existing_value_is_one_line_naming_the_key(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__ADOPT_EXISTING", "sometimes")
    run = world.run()
    assert run.code == 1
    assert (
        run.output.strip()
        .splitlines()[-1]
        .startswith("error: destination.docspace.adopt_existing must be true or false")
    )
    assert world.writes() == 0


def test_a_room_made_between_plan_and_apply_is_still_adopted(world):
    """apply looks again: the plan's listing may be stale (a crash, another person)."""
    from docspace_destination.sync import Sync

    assert world.run("--extract-only").code == 0
    # someone makes the room once the plan is made, before the apply
    sync = Sync("asana", on_plan=lambda the_plan: world.docspace.add_room("Alpha"))
    result = sync.run()
    assert result.failed == 0
    assert result.report.counts["adopted"] == 1
    assert world.docspace.count_rooms() == 2


def test_trello_board_is_adopted_by_title_like_a_project(workspace, sandbox, monkeypatch):
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    t = sandbox.trello.emulator
    board = t.add_board("Roadmap")
    todo = t.add_list(board, "To do")
    t.add_card("Write spec", todo)
    room = sandbox.docspace.emulator.add_room("Roadmap")
    sandbox.docspace.emulator.add_folder(room.id, "Write spec")
    world = AsanaWorld(sandbox)
    assert world.run(source="trello").code == 0
    assert world.docspace.count_rooms() == 1
    assert world.docspace.room(room.id).tags == [f"trello:board:{board}"]
    assert world.docspace.tree(room.id) == {"Write spec": {}}
    before = world.writes()
    assert world.run(source="trello").code == 0
    assert world.writes() == before
