"""`--refresh` and copied documents: a file deleted by hand in DocSpace is copied again, one
moved or renamed by hand is left as the person left it; without `--refresh` the ledger is
trusted. End to end over the emulators, as tests/test_documents.py."""

from __future__ import annotations

import pytest

from tests.staged import staged_rows
from tests.test_documents import DocumentWorld, copying_world


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> DocumentWorld:
    world = copying_world(sandbox, monkeypatch)
    assert world.run().code == 0
    return world


def spec_file(world: DocumentWorld):
    return next(
        f for f in world.docspace.files(world.folder("Alpha", "Design").id) if f.title == "spec.pdf"
    )


def titles(world: DocumentWorld, room: str, *path: str) -> list[str]:
    return sorted(f.title for f in world.docspace.files(world.folder(room, *path).id))


def spec_row(world: DocumentWorld) -> tuple:
    return staged_rows(
        "SELECT docspace_id, status, last_error FROM docspace_state.ledger WHERE key LIKE ?",
        [f"asana:file:{world.ids['spec.pdf']}@%"],
    )[0]


@pytest.mark.parametrize(
    "deleted_by", [None, "ann@example.com"], ids=["by-the-api-keys-user", "by-a-colleague"]
)
def test_refresh_copies_again_a_file_deleted_by_hand_to_the_trash(world, deleted_by):
    trash = world.docspace.trash_file(spec_file(world), by=deleted_by)
    run = world.run("--refresh")
    assert run.code == 0, run.output
    assert "uploaded         1" in run.output
    assert world.files("Alpha", "Design") == {
        "spec.pdf": world.sha("spec.pdf"),
        "Big Drawing.png": world.sha("Big Drawing.PNG"),
    }
    assert titles(world, "Alpha", "Design").count("spec.pdf") == 1
    assert [f.title for f in world.docspace.files(trash.id)] == ["spec.pdf"]  # never deleted


def test_refresh_copies_again_a_file_deleted_for_good(world):
    old = spec_file(world)
    world.docspace.delete_file(old)
    assert world.run("--refresh").code == 0
    assert world.files("Alpha", "Design")["spec.pdf"] == world.sha("spec.pdf")
    assert titles(world, "Alpha", "Design") == ["Big Drawing.png", "spec.pdf"]
    assert spec_row(world)[:2] == (spec_file(world).id, "applied")


def test_the_plan_says_a_file_deleted_by_hand_is_copied_again(world):
    world.docspace.delete_file(spec_file(world))
    writes = world.writes()
    plan = world.run("--plan", "--refresh", "-v")
    assert plan.code == 2, plan.output
    assert "'spec.pdf'  (19.5 KB; missing in DocSpace: copied again)" in plan.output
    assert world.writes() == writes


def test_without_refresh_a_file_deleted_by_hand_is_not_copied_again(world):
    world.docspace.trash_file(spec_file(world), by="ann@example.com")
    writes = world.writes()
    run = world.run()
    assert run.code == 0, run.output
    assert titles(world, "Alpha", "Design") == ["Big Drawing.png"]
    assert world.writes() == writes
    assert world.sb.docspace.log.count("GET", "/files/file/*") == 0  # nothing looked for


def test_refresh_leaves_a_file_moved_by_hand_where_it_was_put(world):
    build = world.folder("Alpha", "Build")
    world.docspace.move_file(spec_file(world), build)
    writes = world.writes()
    plan = world.run("--plan", "--refresh", "-v")
    assert plan.code == 0, plan.output  # nothing to change
    assert "left file                 1  (moved by hand" in plan.output
    assert f"moved by hand to folder {build.id}: left there, not copied again" in plan.output
    assert world.run("--refresh").code == 0
    assert "spec.pdf" not in titles(world, "Alpha", "Design")
    assert world.files("Alpha", "Build")["spec.pdf"] == world.sha("spec.pdf")
    assert world.writes() == writes
    assert spec_row(world)[1:] == (
        "applied",
        f"moved by hand to folder {build.id}: left there, not copied again",
    )


def test_refresh_leaves_a_file_renamed_by_hand_alone(world):
    world.docspace.rename_file(spec_file(world), "Specification.pdf")
    writes = world.writes()
    run = world.run("--refresh")
    assert run.code == 0, run.output
    assert titles(world, "Alpha", "Design") == ["Big Drawing.png", "Specification.pdf"]
    assert world.writes() == writes


def test_refresh_lists_each_task_folder_once_and_looks_up_no_file_that_is_in_place(world):
    log = world.sb.docspace.log
    log.clear()
    run = world.run("--refresh")
    assert run.code == 0, run.output
    assert world.writes() == 0
    assert log.count("GET", "/files/file/*") == 0
    # 4 folders hold copied files (Design, Build, and Shared in each room): one listing each
    listings = [e.path for e in log.select("GET", "/files/{folderId*") if "filterType=1" in e.query]
    assert sorted(listings) == sorted(set(listings)) and len(listings) == 4


def test_refresh_copies_the_files_again_into_a_task_folder_deleted_for_good(world):
    world.docspace.delete(world.folder("Alpha", "Design").id)
    run = world.run("--refresh")
    assert run.code == 0, run.output
    assert world.files("Alpha", "Design") == {
        "spec.pdf": world.sha("spec.pdf"),
        "Big Drawing.png": world.sha("Big Drawing.PNG"),
    }


@pytest.mark.parametrize(
    "deleted_by", [None, "ann@example.com"], ids=["by-the-api-keys-user", "by-a-colleague"]
)
def test_refresh_copies_the_files_once_into_a_task_folder_deleted_by_hand_to_the_trash(
    world, deleted_by
):
    old = world.folder("Alpha", "Design")
    world.docspace.trash_folder(old, by=deleted_by)
    run = world.run("--refresh")
    assert run.code == 0, run.output
    assert "uploaded         2" in run.output
    assert world.folder("Alpha", "Design").id != old.id
    assert titles(world, "Alpha", "Design") == ["Big Drawing.png", "spec.pdf"]
    assert world.files("Alpha", "Design")["spec.pdf"] == world.sha("spec.pdf")
    assert sorted(f.title for f in world.docspace.files(old.id)) == titles(world, "Alpha", "Design")


def test_a_file_put_back_by_hand_is_no_longer_listed_as_moved(world):
    design, build = world.folder("Alpha", "Design"), world.folder("Alpha", "Build")
    spec = spec_file(world)
    world.docspace.move_file(spec, build)
    assert "left file" in world.run("--plan", "--refresh").output
    world.docspace.move_file(spec, design)
    plan = world.run("--plan", "--refresh")
    assert plan.code == 0, plan.output
    assert "left file" not in plan.output
    assert spec_row(world) == (spec.id, "applied", None)
