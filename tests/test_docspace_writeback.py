"""End to end: with `write_back = true` the real command line links Asana projects/tasks and
Trello cards to their DocSpace rooms and folders, exactly once."""

from __future__ import annotations

import duckdb
import pytest

from pm_runtime.staging import staging_database_path
from sandbox.trello_sample import populate_trello
from tests.sync_world import AsanaWorld


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DESTINATION__DOCSPACE__WRITE_BACK", "true")
    return AsanaWorld(sandbox).build()


@pytest.fixture
def with_tasks(monkeypatch) -> None:
    monkeypatch.setenv("DESTINATION__DOCSPACE__WRITE_BACK_TASKS", "true")


def links(world: AsanaWorld, gid: str) -> list[tuple[str, str]]:
    return sorted((a["name"], a["view_url"]) for a in world.asana.attachments(gid))


def room_url(world: AsanaWorld, title: str) -> str:
    return world.docspace.web_url(world.docspace.find_room(title).id)


def folder_url(world: AsanaWorld, room: str, title: str) -> str:
    room_id = world.docspace.find_room(room).id
    folder = next(f for f in world.docspace.folders(room_id) if f.title == title)
    return world.docspace.web_url(folder.id)


def asana_posts(world: AsanaWorld) -> int:
    return world.sb.asana.log.count(
        "POST", "/attachments", outcome="ok"
    ) + world.sb.asana.log.count("POST", "/attachments", outcome="lost")


# --------------------------------------------------------------------------- Asana


def test_each_project_gets_a_docspace_room_link(world):
    run = world.run()
    assert run.code == 0, run.output
    assert links(world, world.ids["alpha"]) == [("DocSpace room", room_url(world, "Alpha"))]
    assert links(world, world.ids["beta"]) == [("DocSpace room", room_url(world, "Beta"))]
    assert links(world, world.ids["design"]) == []  # tasks only with write_back_tasks
    assert "write-back" in run.output and "added 2" in run.output


def test_write_back_is_off_by_default(world, monkeypatch):
    monkeypatch.delenv("DESTINATION__DOCSPACE__WRITE_BACK")
    assert world.run().code == 0
    assert world.sb.asana.log.count(route="/attachments*") == 0


def test_each_task_gets_its_folder_link_and_a_task_in_two_projects_one_per_project(
    world, with_tasks
):
    assert world.run().code == 0
    assert links(world, world.ids["design"]) == [
        ("DocSpace folder", folder_url(world, "Alpha", "Design"))
    ]
    sketch = world.docspace.find("Sketch")[0]
    assert links(world, world.ids["sub"]) == [
        ("DocSpace folder", world.docspace.web_url(sketch.id))
    ]
    assert links(world, world.ids["shared"]) == [
        ("DocSpace folder (Alpha)", folder_url(world, "Alpha", "Shared")),
        ("DocSpace folder (Beta)", folder_url(world, "Beta", "Shared")),
    ]


def test_a_rerun_adds_no_second_attachment_and_makes_no_asana_request(world, with_tasks):
    world.run()
    before = len(world.sb.asana.log)
    posts = asana_posts(world)
    run = world.run("--sync-only")
    assert run.code == 0, run.output
    assert asana_posts(world) == posts
    assert len(world.sb.asana.log) == before
    assert len(world.asana.attachments(world.ids["alpha"])) == 1


def test_with_the_writeback_table_dropped_existing_links_are_recognised_not_added(
    world, with_tasks
):
    world.run()
    posts = asana_posts(world)
    con = duckdb.connect(staging_database_path())
    con.execute("DROP TABLE docspace_state.writebacks")
    con.close()
    run = world.run("--sync-only")
    assert run.code == 0, run.output
    assert asana_posts(world) == posts
    assert "recognised 8" in run.output
    assert len(world.asana.attachments(world.ids["shared"])) == 2


def test_a_recreated_room_gets_its_link_replaced(world, with_tasks):
    world.run()
    old_room = world.docspace.find_room("Alpha")
    world.docspace.delete(old_room.id)
    # the room and its folders are made anew (a new id, so a new link)
    con = duckdb.connect(staging_database_path())
    con.execute(
        "DELETE FROM docspace_state.ledger WHERE key = ? OR key LIKE ?",
        [f"asana:project:{world.ids['alpha']}", f"%@{world.ids['alpha']}"],
    )
    con.close()
    run = world.run("--sync-only")
    assert run.code == 0, run.output
    new_url = room_url(world, "Alpha")
    assert new_url != world.docspace.web_url(old_room.id)
    assert links(world, world.ids["alpha"]) == [("DocSpace room", new_url)]
    assert links(world, world.ids["design"]) == [
        ("DocSpace folder", folder_url(world, "Alpha", "Design"))
    ]
    assert world.sb.asana.log.count("DELETE", "/attachments/{gid}", outcome="ok") >= 2


def test_a_lost_reply_to_an_attachment_post_still_leaves_exactly_one(world, with_tasks):
    world.sb.asana.faults.lose_responses(1.0, route="POST /attachments")
    run = world.run()
    assert run.code == 0, run.output
    for gid in ("alpha", "beta", "design", "build", "sub", "ship"):
        assert len(world.asana.attachments(world.ids[gid])) == 1, gid
    assert len(world.asana.attachments(world.ids["shared"])) == 2
    assert world.sb.asana.log.count("POST", "/attachments", outcome="lost") == 8


def test_a_429_burst_on_attachment_posts_is_waited_out(world, with_tasks):
    world.sb.asana.faults.burst_429(4, retry_after=1, route="POST /attachments")
    run = world.run()
    assert run.code == 0, run.output
    log = world.sb.asana.log
    assert log.count("POST", "/attachments", outcome="limited") == 4
    assert log.count("POST", "/attachments", outcome="ok") == 8
    assert len(world.asana.attachments(world.ids["shared"])) == 2


def test_a_deleted_project_is_skipped_not_failed(world):
    world.asana.delete_project(world.ids["beta"])
    run = world.run()
    assert run.code == 0, run.output
    assert links(world, world.ids["alpha"]) == [("DocSpace room", room_url(world, "Alpha"))]


def test_a_project_that_refuses_attachments_is_reported_and_the_others_are_written(
    world, monkeypatch
):
    monkeypatch.delenv("DESTINATION__DOCSPACE__WRITE_BACK")
    world.run()
    monkeypatch.setenv("DESTINATION__DOCSPACE__WRITE_BACK", "true")
    world.asana.restrict_project(world.ids["beta"], 403)
    run = world.run("--sync-only")
    assert run.code == 1
    assert f"FAILED write-back asana:project:{world.ids['beta']}: 403 Forbidden" in run.output
    assert links(world, world.ids["alpha"]) == [("DocSpace room", room_url(world, "Alpha"))]
    world.asana.restricted.clear()
    assert world.run("--sync-only").code == 0  # retried on the next run
    assert links(world, world.ids["beta"]) == [("DocSpace room", room_url(world, "Beta"))]


# --------------------------------------------------------------------------- Trello


@pytest.fixture
def trello(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DESTINATION__DOCSPACE__WRITE_BACK", "true")
    populate_trello(sandbox.trello.emulator, boards=1, cards_per_board=4, seed=3)
    return AsanaWorld(sandbox)


def card_links(world: AsanaWorld) -> dict[str, list[tuple[str, str]]]:
    t = world.sb.trello.emulator
    return {
        c["name"]: sorted((a["name"], a["url"]) for a in t.attachments(c["id"]))
        for c in t.cards.values()
    }


def test_each_trello_card_gets_its_folder_link_and_boards_get_none(trello):
    run = trello.run(source="trello")
    assert run.code == 0, run.output
    t = trello.sb.trello.emulator
    for card in t.cards.values():
        folder = trello.docspace.find(card["name"].strip() or card["id"])
        assert t.attachments(card["id"]), card["name"]
        [(name, url)] = [(a["name"], a["url"]) for a in t.attachments(card["id"])]
        assert name == "DocSpace folder"
        assert url in {trello.docspace.web_url(f.id) for f in folder} or folder == []
    assert trello.sb.trello.log.count(route="/boards/{id}/attachments") == 0


def test_trello_rerun_and_lost_replies_never_attach_twice(trello):
    trello.sb.trello.faults.lose_responses(1.0, route="POST /cards/{id}/attachments")
    assert trello.run(source="trello").code == 0
    trello.sb.trello.faults.clear()
    first = card_links(trello)
    assert all(len(v) == 1 for v in first.values())
    assert trello.run("--sync-only", source="trello").code == 0
    assert card_links(trello) == first


def test_a_card_that_refuses_attachments_is_reported_and_the_others_get_theirs(trello):
    t = trello.sb.trello.emulator
    full = next(iter(t.cards.values()))
    for i in range(100):
        t.add_attachment(full["id"], f"https://example.com/{i}", None)
    run = trello.run(source="trello")
    assert run.code == 1
    assert f"FAILED write-back trello:card:{full['id']}" in run.output
    assert "403" in run.output and "too many attachments" in run.output
    others = [c for c in t.cards.values() if c["id"] != full["id"]]
    assert all(len(t.attachments(c["id"])) == 1 for c in others)


def test_the_run_log_keeps_the_write_back_counts(world):
    world.run()
    con = duckdb.connect(staging_database_path(), read_only=True)
    steps = con.execute("SELECT steps->'$.writeback.added' FROM docspace_state.runs").fetchone()[0]
    con.close()
    assert int(steps) == 2
