"""End to end: the real command line loads Asana from the sandbox into DuckDB and mirrors it into DocSpace."""

from __future__ import annotations

import pytest

from tests.staged import staged_execute, staged_rows
from tests.sync_world import EXPECTED_FLAT, AsanaWorld, duplicates


@pytest.fixture
def world(workspace, staging, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    return AsanaWorld(sandbox).build()


def test_first_run_builds_exactly_the_expected_tree(world):
    run = world.run()
    assert run.code == 0, run.output
    assert world.tree() == EXPECTED_FLAT
    assert world.sb.docspace.log.unknown_routes() == []


def test_second_run_writes_nothing_and_plan_exits_zero(world):
    world.run()
    before = world.writes()
    assert world.run().code == 0
    assert world.writes() == before
    plan = world.run("--plan")
    assert plan.code == 0, plan.output


def test_plan_exits_two_and_lists_changes_without_writing(world):
    plan = world.run("--plan")
    assert plan.code == 2
    assert "create" in plan.output and "'Design'" in plan.output
    assert world.writes() == 0


def test_renamed_task_renames_its_folder(world):
    world.run()
    world.asana.rename_task(world.ids["build"], "Build v2")
    assert world.run().code == 0
    assert set(world.tree()["Alpha"]) == {"Build v2", "Design", "Shared"}


def test_task_moved_to_another_project_moves_its_folder_with_its_documents(world):
    world.run()
    folder = world.docspace.find("Build")[0]
    world.docspace.add_file(folder.id, "spec.docx")
    world.asana.move_task(world.ids["build"], world.ids["beta"], world.ids["beta_s"])
    assert world.run().code == 0
    tree = world.tree()
    assert "Build" not in tree["Alpha"]
    assert tree["Beta"]["Build"] == {"spec.docx": None}
    assert world.docspace.find("Build")[0].id == folder.id


def test_archived_project_archives_its_room_and_unarchiving_brings_it_back(world):
    world.run()
    world.asana.archive_project(world.ids["beta"])
    world.run()
    assert "Beta [archived]" in world.tree()
    world.asana.archive_project(world.ids["beta"], archived=False)
    world.run()
    assert "Beta" in world.tree()


def test_deleted_task_keeps_its_folder_and_the_ledger_marks_it_orphaned(world):
    world.run()
    world.asana.delete_task(world.ids["ship"])
    assert world.run().code == 0
    assert "Ship" in world.tree()["Beta"]
    assert world.ledger("status = 'orphaned'") == [
        (f"asana:task:{world.ids['ship']}@{world.ids['beta']}", "orphaned", "Ship")
    ]


def test_grouped_layout_puts_tasks_in_section_folders_and_follows_section_moves(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__LAYOUT", "grouped")
    world.run()
    assert set(world.tree()["Alpha"]["To do"]) == {"Build", "Design"}
    world.asana.move_task(world.ids["build"], world.ids["alpha"], world.ids["done"])
    world.run()
    alpha = world.tree()["Alpha"]
    assert set(alpha["Done"]) == {"Build", "Shared"}
    assert set(alpha["To do"]) == {"Design"}


def test_existing_rooms_and_folders_are_adopted_not_duplicated(world):
    room = world.docspace.add_room("Alpha", tags=[f"asana:project:{world.ids['alpha']}"])
    world.docspace.add_folder(room.id, "Design")
    run = world.run("-v")
    assert run.code == 0, run.output
    assert world.tree() == EXPECTED_FLAT
    assert world.docspace.count_rooms() == 2


def test_with_the_ledger_dropped_a_run_adopts_everything_and_creates_nothing(world):
    world.run()
    staged_execute("DROP TABLE docspace_state.ledger")
    before = world.writes()
    assert world.run().code == 0
    assert world.writes() == before
    assert world.tree() == EXPECTED_FLAT


def test_a_room_that_answers_403_is_reported_and_the_rest_is_complete(world):
    room = world.docspace.add_room("Beta", tags=[f"asana:project:{world.ids['beta']}"])
    world.docspace.deny(room.id, status=403)
    run = world.run()
    assert run.code == 1
    assert "FAILED" in run.output and "403" in run.output
    assert world.tree()["Alpha"] == EXPECTED_FLAT["Alpha"]


def test_write_budget_stops_cleanly_and_the_next_run_continues(world):
    run = world.run("--max-writes", "3")
    assert run.code == 0 and "write budget reached" in run.output
    assert world.writes() == 3
    world.run()
    assert world.tree() == EXPECTED_FLAT


def test_lost_responses_5xx_and_429_bursts_converge_without_duplicates(world):
    faults = world.sb.docspace.faults
    faults.lose_responses(0.1, route="POST *")
    faults.errors(0.1, statuses=(500, 502, 503))
    faults.burst_429(5, retry_after=0)
    for _ in range(5):
        if world.run().code == 0:
            break
    faults.clear()
    world.run()
    tree = world.tree()
    assert duplicates(world.docspace) == []
    assert tree == EXPECTED_FLAT


def test_hostile_names_become_valid_distinct_stable_titles(workspace, sandbox, monkeypatch):
    from docspace_destination.titles import sanitize_title
    from sandbox.sample import populate

    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    populate(sandbox, size="small")
    w = AsanaWorld(sandbox)
    assert w.run().code == 0
    tree = w.tree()
    assert duplicates(w.docspace) == []

    def titles(node):
        for title, child in node.items():
            yield title
            if isinstance(child, dict):
                yield from titles(child)

    for title in titles(tree):
        bare = title.removesuffix(" [archived]")
        assert bare and sanitize_title(bare) == bare
    before = w.writes()
    assert w.run().code == 0
    assert w.writes() == before


def test_missing_docspace_key_is_one_line_naming_the_setting(world, monkeypatch):
    monkeypatch.delenv("DESTINATION__DOCSPACE__API_KEY")
    run = world.run()
    assert run.code == 1
    assert run.output.strip().splitlines()[-1].startswith("error: Missing DocSpace API key")
    assert "DESTINATION__DOCSPACE__API_KEY" in run.output


def test_refresh_puts_back_a_room_renamed_by_hand_and_recreates_a_folder_deleted_for_good(world):
    world.run()
    alpha = world.docspace.find_room("Alpha")
    world.docspace.rename(alpha.id, "Alpha (renamed by someone)")
    world.docspace.delete(
        world.docspace.find("Build")[0].id
    )  # for good; to the Trash: its own test
    assert world.run().code == 0
    assert "Alpha" not in world.tree()  # without --refresh the ledger is trusted
    assert world.run("--refresh").code == 0
    assert world.tree() == EXPECTED_FLAT
    assert world.sb.docspace.log.unknown_routes() == []


def test_every_run_is_logged_with_its_counts(world):
    world.run()
    world.run()
    rows = staged_rows(
        "SELECT created, unchanged, writes, outcome FROM docspace_state.runs ORDER BY started_at"
    )
    assert rows == [(8, 0, 8, "ok"), (0, 8, 0, "ok")]


def test_missing_asana_token_is_one_line_naming_where_to_set_it(world, monkeypatch):
    monkeypatch.delenv("SOURCES__ASANA__ACCESS_TOKEN")
    run = world.run()
    assert run.code == 1
    last = run.output.strip().splitlines()[-1]
    assert (
        last.startswith("error: Missing Asana credentials")
        and "SOURCES__ASANA__ACCESS_TOKEN" in last
    )


def test_refresh_recreates_a_room_deleted_by_hand(world):
    world.run()
    world.docspace.delete(world.docspace.find_room("Beta").id)
    assert world.run("--refresh").code == 0
    assert world.tree() == EXPECTED_FLAT


def test_room_type_privacy_and_tags_come_from_config_with_a_marker_tag_per_room(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__ROOM_TYPE", "CustomRoom")
    monkeypatch.setenv("DESTINATION__DOCSPACE__PRIVATE", "true")
    monkeypatch.setenv("DESTINATION__DOCSPACE__TAGS", '["pm", "synced"]')
    assert world.run().code == 0
    room = world.docspace.find_room("Alpha")
    assert room.room_type == 5 and room.private
    assert set(room.tags) == {"pm", "synced", f"asana:project:{world.ids['alpha']}"}


def test_a_bad_config_value_is_one_line_naming_the_key_and_nothing_is_written(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__LAYOUT", "nested")
    run = world.run()
    assert run.code == 1
    assert (
        run.output.strip()
        .splitlines()[-1]
        .startswith("error: destination.docspace.layout must be one of")
    )
    assert world.writes() == 0
