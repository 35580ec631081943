"""A big account is synced in parts (whole rooms at a time, `desired.PART_ROWS` records each) so
that a sync's memory does not grow with the account; what DocSpace ends up holding is the same
as when the whole tree is read at once. Here a part is a project: Alpha and Beta fall in two."""

from __future__ import annotations

import pytest

from tests.sync_world import EXPECTED_FLAT, AsanaWorld, duplicates


@pytest.fixture
def world(workspace, staging, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    # the world's biggest tables have 5 rows (tasks, memberships): 2 parts, Alpha in one, Beta in the other
    monkeypatch.setattr("docspace_destination.desired.PART_ROWS", 3)
    return AsanaWorld(sandbox).build()


def test_a_tree_synced_in_parts_is_exactly_the_tree_synced_whole(world):
    run = world.run()
    assert run.code == 0, run.output
    assert world.tree() == EXPECTED_FLAT
    before = world.writes()
    assert world.run().code == 0
    assert world.writes() == before
    assert world.run("--plan").code == 0


@pytest.mark.parametrize(
    "task, to_project, to_section", [("build", "beta", "beta_s"), ("ship", "alpha", "todo")]
)
def test_a_task_moved_to_a_project_of_another_part_moves_its_folder(
    world, task, to_project, to_section
):
    world.run()
    title = {"build": "Build", "ship": "Ship"}[task]
    folder = world.docspace.find(title)[0]
    world.docspace.add_file(folder.id, "spec.docx")
    world.asana.move_task(world.ids[task], world.ids[to_project], world.ids[to_section])
    run = world.run()
    assert run.code == 0, run.output
    room = {"alpha": "Alpha", "beta": "Beta"}[to_project]
    assert world.tree()[room][title] == {"spec.docx": None}
    assert [f.id for f in world.docspace.find(title)] == [folder.id]
    assert duplicates(world.docspace) == []
    assert world.ledger("status = 'orphaned'") == []  # nothing else taken for gone


def test_a_project_archived_with_a_renamed_task_has_the_folder_renamed_then_the_room_archived(
    world,
):
    world.run()
    world.asana.rename_task(world.ids["build"], "Build v2")
    world.asana.archive_project(world.ids["alpha"])
    run = world.run()
    assert run.code == 0, run.output
    assert set(world.tree()["Alpha [archived]"]) == {"Build v2", "Design", "Shared"}


def test_the_plan_of_a_tree_in_parts_counts_every_record(world):
    plan = world.run("--plan")
    assert plan.code == 2
    assert "Plan for asana: 8 change(s), 8 DocSpace write(s)" in plan.output
