"""`--refresh` and task folders deleted by hand: in DocSpace a delete moves the folder into the
Trash of whoever deleted it (a colleague's Trash answers 403 to the API key, the API key's own
user's answers 200 with rootFolderType 3); deleted `immediately` it is gone for good (404).
Every way, the folder is made again in its room and what was trashed is left in the Trash.
End to end over the emulators, as tests/test_docspace_sync.py."""

from __future__ import annotations

import pytest

from tests.sync_world import EXPECTED_FLAT, AsanaWorld

BY = pytest.mark.parametrize(
    "deleted_by", [None, "ann@example.com"], ids=["by-the-api-keys-user", "by-a-colleague"]
)


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    world = AsanaWorld(sandbox).build()
    assert world.run().code == 0
    return world


def design(world: AsanaWorld):
    alpha = world.docspace.find_room("Alpha")
    return next(f for f in world.docspace.folders(alpha.id) if f.title == "Design")


@BY
def test_refresh_recreates_a_task_folder_deleted_by_hand_to_the_trash(world, deleted_by):
    old = design(world)
    trash = world.docspace.trash_folder(old, by=deleted_by)
    run = world.run("--refresh")
    assert run.code == 0, run.output
    assert world.tree() == EXPECTED_FLAT  # one Design, its subtask folder in it
    assert design(world).id != old.id
    assert world.docspace.folder(old.id).parent_id == trash.id  # left in the Trash


@BY
def test_the_plan_says_a_task_folder_in_a_trash_is_created_again(world, deleted_by):
    world.docspace.trash_folder(design(world), by=deleted_by)
    writes = world.writes()
    plan = world.run("--plan", "--refresh")
    assert plan.code == 2, plan.output
    assert "'Design'" in plan.output and "'Sketch'" in plan.output
    assert "error" not in plan.output.lower()
    assert world.writes() == writes


def test_refresh_never_moves_a_folder_out_of_the_api_keys_users_trash(world):
    world.docspace.trash_folder(design(world))
    log = world.sb.docspace.log
    log.clear()
    assert world.run("--refresh").code == 0
    assert log.count("PUT", "/files/fileops/move") == 0


def test_refresh_recreates_a_task_folder_deleted_for_good(world):
    old = design(world)
    world.docspace.delete(old.id)  # deleted `immediately`, or its Trash emptied: 404
    run = world.run("--refresh")
    assert run.code == 0, run.output
    assert world.tree() == EXPECTED_FLAT
    assert design(world).id != old.id


def test_without_refresh_a_task_folder_in_a_trash_is_not_looked_for(world):
    world.docspace.trash_folder(design(world), by="ann@example.com")
    writes = world.writes()
    run = world.run()
    assert run.code == 0, run.output
    assert "Design" not in world.tree()["Alpha"]  # the ledger is trusted
    assert world.writes() == writes


def test_a_rename_of_a_folder_in_a_colleagues_trash_fails_pointing_to_refresh(world):
    world.docspace.trash_folder(design(world), by="ann@example.com")
    world.asana.rename_task(world.ids["design"], "Design v2")
    run = world.run()
    assert run.code == 1
    assert "Design v2" in run.output and "403" in run.output
    assert "--refresh looks and makes it again" in run.output
    assert world.run("--refresh").code == 0
    assert "Design v2" in world.tree()["Alpha"]
