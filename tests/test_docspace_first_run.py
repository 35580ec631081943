"""What the first run creates: a project already archived when first seen gets no room by default.

Years of finished projects would otherwise spend days of DocSpace's 10,000 writes a day on
rooms nobody opens. `archived_projects = "mirror"` keeps create-then-archive.
"""

from __future__ import annotations

import pytest

from tests.sync_world import EXPECTED_FLAT, AsanaWorld


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    w = AsanaWorld(sandbox).build()
    w.ids["old"] = w.asana.add_project("Old launch", w.ids["ws"], archived=True)
    w.ids["done_p"] = w.asana.add_project("Finished", w.ids["ws"], completed=True)
    for project in ("old", "done_p"):
        w.asana.add_task("Retro", [(w.ids[project], None)])
    return w


def test_archived_at_first_sight_gets_no_room_by_default(world):
    run = world.run()
    assert run.code == 0, run.output
    assert world.tree() == EXPECTED_FLAT
    assert world.writes() == 8  # Alpha's and Beta's rooms and folders, nothing for the other two
    assert world.ledger("key LIKE 'asana:project:%'") == [
        (f"asana:project:{world.ids['alpha']}", "applied", "Alpha"),
        (f"asana:project:{world.ids['beta']}", "applied", "Beta"),
    ]
    assert any(line.split()[:2] == ["skipped", "2"] for line in run.output.splitlines())


def test_plan_says_how_many_projects_are_skipped_and_they_are_no_change(world):
    plan = world.run("--plan")
    assert plan.code == 2
    skip = next(line for line in plan.output.splitlines() if line.split()[:1] == ["skip"])
    assert skip.split()[1] == "2" and "archived before their first sync" in skip
    assert "'Old launch'" in plan.output
    world.run()
    again = world.run("--plan")
    assert again.code == 0, again.output  # skipped projects stay skipped: nothing to do
    assert "skip" in again.output


def test_archived_at_first_sight_with_mirror_gets_a_room_that_is_archived(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__ARCHIVED_PROJECTS", "mirror")
    assert world.run().code == 0
    tree = world.tree()
    assert tree["Old launch [archived]"] == {"Retro": {}}
    assert tree["Finished [archived]"] == {"Retro": {}}
    assert world.writes() == 8 + 2 * 3  # room, folder, archive for each


def test_a_skipped_project_that_comes_back_gets_its_room(world):
    world.run()
    world.asana.archive_project(world.ids["old"], archived=False)
    assert world.run().code == 0
    assert world.tree()["Old launch"] == {"Retro": {}}


def test_a_project_archived_after_it_was_mirrored_still_has_its_room_archived(world):
    world.run()
    world.asana.archive_project(world.ids["beta"])
    assert world.run().code == 0
    assert world.tree()["Beta [archived]"] == EXPECTED_FLAT["Beta"]


def test_a_resync_with_skipped_projects_reads_no_room_listing(world):
    log = world.sb.docspace.log
    world.run()
    assert log.count(method="GET", route="/files/rooms") > 0  # the first run looked for rooms
    log.clear()
    assert world.run().code == 0
    listings = [e for e in log.select("GET", "/files/rooms") if "count=1&" not in e.query]
    assert listings == []  # only the one-room look that checks the portal and key first
    assert world.writes() == 0


def test_a_closed_trello_board_never_synced_gets_no_room_and_mirror_makes_one(
    workspace, sandbox, monkeypatch
):
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    t = sandbox.trello.emulator
    open_board, closed_board = t.add_board("Roadmap"), t.add_board("Last year")
    t.add_card("Ship it", t.add_list(open_board, "To do"))
    t.add_card("Retro", t.add_list(closed_board, "Done"))
    t.close_board(closed_board)
    world = AsanaWorld(sandbox)
    run = world.run(source="trello")
    assert run.code == 0, run.output
    assert world.tree() == {"Roadmap": {"Ship it": {}}}
    monkeypatch.setenv("DESTINATION__DOCSPACE__ARCHIVED_PROJECTS", "mirror")
    assert world.run(source="trello").code == 0
    assert world.tree() == {"Roadmap": {"Ship it": {}}, "Last year [archived]": {"Retro": {}}}


def test_a_bad_archived_projects_value_is_one_line_naming_the_key(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__ARCHIVED_PROJECTS", "hide")
    run = world.run()
    assert run.code == 1
    assert run.output.strip().splitlines()[-1] == (
        'error: destination.docspace.archived_projects must be one of "skip" | "mirror", got \'hide\''
    )
    assert world.writes() == 0
