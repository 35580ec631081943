"""The Asana source against the sandbox over HTTP, loading a real DuckDB file."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sandbox.asana_sample import AsanaSample, populate_asana
from tests.asana_world import AsanaWorld


@pytest.fixture
def world(workspace: Path, asana_service: Any, monkeypatch: pytest.MonkeyPatch) -> AsanaWorld:
    sample = populate_asana(asana_service.emulator, projects=3, tasks_per_project=8)
    return AsanaWorld(asana_service, sample, monkeypatch)


@pytest.fixture
def loaded(world: AsanaWorld) -> AsanaWorld:
    world.run()
    world.service.log.clear()
    return world


def test_full_load_lands_the_generated_workspace_with_exact_counts(world: AsanaWorld) -> None:
    world.run()
    s: AsanaSample = world.sample
    assert world.scalar("SELECT count(*) FROM workspaces") == 1
    assert world.scalar("SELECT count(*) FROM users WHERE email LIKE '%@example.com'") == 6
    assert world.scalar("SELECT count(*) FROM teams WHERE workspace_gid = ?", s.workspace) == 4
    assert world.scalar("SELECT count(*) FROM projects") == len(s.projects)
    assert world.scalar("SELECT count(*) FROM projects WHERE archived") == len(s.archived_projects)
    assert world.scalar("SELECT count(*) FROM projects WHERE completed") == len(
        s.completed_projects
    )
    assert world.scalar("SELECT count(*) FROM sections") == sum(map(len, s.sections.values()))
    assert world.scalar("SELECT count(*) FROM tasks") == len(s.all_tasks)
    assert world.scalar("SELECT count(*) FROM tasks WHERE parent__gid IS NOT NULL") == len(
        s.subtasks
    )
    assert world.scalar("SELECT count(*) FROM tasks__memberships") == s.membership_count
    assert world.scalar("SELECT count(*) FROM tasks WHERE is_deleted") == 0


def test_a_task_in_two_projects_has_one_row_and_two_memberships(world: AsanaWorld) -> None:
    world.run()
    rows = world.sql(
        "SELECT m.project__gid FROM tasks t JOIN tasks__memberships m ON m._dlt_parent_id = t._dlt_id "
        "WHERE t.gid = ? ORDER BY 1",
        world.sample.shared_task,
    )
    assert sorted(r[0] for r in rows) == sorted(world.sample.projects[:2])


def test_subtasks_three_deep_land_with_their_parent_chain(world: AsanaWorld) -> None:
    world.run()
    depth, gid = 0, world.sample.deepest_subtask
    while (parent := world.scalar("SELECT parent__gid FROM tasks WHERE gid = ?", gid)) is not None:
        depth, gid = depth + 1, parent
    assert depth == 3


def test_projects_carry_team_owner_members_and_project_type(world: AsanaWorld) -> None:
    world.run()
    project = world.sample.projects[0]
    row = world.sql(
        "SELECT team__name, owner__email, permalink_url FROM projects WHERE gid = ?", project
    )[0]
    assert row[0] == "Marketing" and row[1].endswith("@example.com") and row[2]
    kind = world.scalar(
        "SELECT c.display_value FROM projects p JOIN projects__custom_fields c ON c._dlt_parent_id = p._dlt_id "
        "WHERE p.gid = ? AND c.name = 'Project type'",
        project,
    )
    assert kind == "Marketing"
    assert (
        world.scalar(
            "SELECT count(*) FROM projects p JOIN projects__members m ON m._dlt_parent_id = p._dlt_id WHERE p.gid = ?",
            project,
        )
        == 2
    )


def test_hostile_names_and_custom_fields_of_every_type_load_without_loss(world: AsanaWorld) -> None:
    world.run()
    em = world.service.emulator
    expected = sorted(em.objects[g].name for g in world.sample.all_tasks)
    assert sorted(r[0] for r in world.sql("SELECT name FROM tasks")) == expected
    types = {r[0] for r in world.sql("SELECT DISTINCT resource_subtype FROM tasks__custom_fields")}
    assert types == {"text", "number", "enum", "multi_enum", "date", "people"}
    assert world.scalar("SELECT count(*) FROM tasks WHERE assignee__gid IS NULL") > 0


def test_second_run_without_changes_loads_no_task_rows_and_one_events_call_per_project(
    loaded: AsanaWorld,
) -> None:
    loaded.run()
    log = loaded.service.log
    assert loaded.rows_loaded("tasks") == 0
    assert log.count("GET", "/events") == len(loaded.sample.projects)
    per_project = {
        k: v
        for k, v in log.counts().items()
        if "/events" not in k and not k.startswith("GET /workspaces")
    }
    assert per_project == {}


def test_rename_is_reflected_after_one_run(loaded: AsanaWorld) -> None:
    task = loaded.sample.tasks[loaded.sample.projects[0]][2]
    loaded.service.emulator.rename_task(task, "Renamed in Asana")
    loaded.run()
    assert loaded.scalar("SELECT name FROM tasks WHERE gid = ?", task) == "Renamed in Asana"
    assert loaded.rows_loaded("tasks") < len(loaded.sample.all_tasks)


def test_completion_is_reflected_after_one_run(loaded: AsanaWorld) -> None:
    task = loaded.sample.tasks[loaded.sample.projects[0]][0]
    loaded.service.emulator.complete_task(task)
    loaded.run()
    assert loaded.scalar("SELECT completed FROM tasks WHERE gid = ?", task) is True


def test_move_to_another_section_is_reflected_after_one_run(loaded: AsanaWorld) -> None:
    s = loaded.sample
    project, task = s.projects[0], s.tasks[s.projects[0]][0]
    loaded.service.emulator.move_task(task, project, s.sections[project][2])
    loaded.run()
    assert loaded.memberships(task) == [(project, s.sections[project][2])]


def test_move_to_another_project_replaces_the_membership_row(loaded: AsanaWorld) -> None:
    s = loaded.sample
    source, target = s.projects[0], s.projects[1]
    task = s.tasks[source][2]
    loaded.service.emulator.move_task(task, target, s.sections[target][1])
    loaded.run()
    assert loaded.memberships(task) == [(target, s.sections[target][1])]


def test_task_removed_from_one_of_two_projects_loses_that_membership(loaded: AsanaWorld) -> None:
    s = loaded.sample
    loaded.service.emulator.remove_task_from_project(s.shared_task, s.projects[0])
    loaded.run()
    assert [p for p, _ in loaded.memberships(s.shared_task)] == [s.projects[1]]


def test_archived_project_is_reflected_after_one_run(loaded: AsanaWorld) -> None:
    project = loaded.sample.projects[0]
    loaded.service.emulator.archive_project(project)
    loaded.run()
    assert loaded.scalar("SELECT archived FROM projects WHERE gid = ?", project) is True


def test_deleted_event_keeps_the_row_marked_deleted_with_its_subtasks(loaded: AsanaWorld) -> None:
    s = loaded.sample
    task = s.tasks[s.projects[0]][0]  # the head of the three-deep subtask chain
    loaded.service.emulator.delete_task(task)
    loaded.run()
    deleted = {
        r[0]
        for r in loaded.sql("SELECT gid FROM tasks WHERE is_deleted AND deleted_at IS NOT NULL")
    }
    chain = {g for g in s.subtasks if loaded.service.emulator.objects[g].deleted}
    assert deleted == {task} | chain and len(chain) == 3
    assert (
        loaded.scalar("SELECT name FROM tasks WHERE gid = ?", task)
        == loaded.service.emulator.objects[task].name
    )
    assert loaded.memberships(task) == [(s.projects[0], s.sections[s.projects[0]][0])]
    assert loaded.scalar("SELECT count(*) FROM tasks") == len(s.all_tasks)


def test_deletion_is_found_after_an_expired_sync_token(loaded: AsanaWorld) -> None:
    s = loaded.sample
    task = s.tasks[s.projects[1]][3]
    em = loaded.service.emulator
    em.delete_task(task)
    em.expire_sync_tokens()
    loaded.run()
    assert loaded.scalar("SELECT is_deleted FROM tasks WHERE gid = ?", task) is True
    assert loaded.scalar("SELECT count(*) FROM tasks WHERE is_deleted") == 1


def test_vanished_sections_and_projects_are_marked_deleted(loaded: AsanaWorld) -> None:
    s = loaded.sample
    em = loaded.service.emulator
    em.delete_section(s.sections[s.projects[0]][2])
    em.delete_project(s.projects[2])
    loaded.run()
    assert (
        loaded.scalar("SELECT is_deleted FROM sections WHERE gid = ?", s.sections[s.projects[0]][2])
        is True
    )
    assert loaded.scalar("SELECT is_deleted FROM projects WHERE gid = ?", s.projects[2]) is True
    assert (
        loaded.scalar("SELECT name FROM projects WHERE gid = ?", s.projects[2])
        == em.objects[s.projects[2]].name
    )


def test_subtask_changes_show_up_when_the_parent_changes_or_on_reconcile(
    loaded: AsanaWorld,
) -> None:
    """Trade-off: a subtask change reaches neither its parent nor the project's events."""
    s = loaded.sample
    em = loaded.service.emulator
    sub = s.subtasks[0]
    em.rename_task(sub, "Subtask renamed")
    loaded.run()
    assert loaded.scalar("SELECT name FROM tasks WHERE gid = ?", sub) != "Subtask renamed"
    loaded.run(reconcile_every_hours=0)
    assert loaded.scalar("SELECT name FROM tasks WHERE gid = ?", sub) == "Subtask renamed"
    deepest = s.subtasks[2]  # third level below the first task of the first project
    em.delete_task(deepest)
    em.rename_task(s.tasks[s.projects[0]][0], "Parent touched")
    loaded.run()
    assert loaded.scalar("SELECT is_deleted FROM tasks WHERE gid = ?", deepest) is True


def test_faults_leave_the_same_data_as_a_fault_free_run(
    workspace: Path, asana_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = populate_asana(asana_service.emulator, projects=6, tasks_per_project=105)
    world = AsanaWorld(asana_service, sample, monkeypatch)
    world.use_fresh_database(workspace / "clean.duckdb")
    world.run()
    clean = world.snapshot()
    world.use_fresh_database(workspace / "faulty.duckdb")
    faults = asana_service.faults
    faults.errors(0.10, statuses=(500, 502, 503))
    faults.burst_429(5, retry_after=0)
    asana_service.emulator.expire_offsets_after(0)
    asana_service.log.clear()
    world.run()
    log = asana_service.log
    assert log.count(outcome="fault") > 0 and log.count(status=429) == 5
    assert log.count(status=400) == 1  # the expired offset, after which the listing restarted
    assert world.snapshot() == clean


def test_bad_token_stops_with_one_clear_line_and_non_zero_exit(world: AsanaWorld) -> None:
    env = {**os.environ, **world.env, "SOURCES__ASANA__ACCESS_TOKEN": "not-the-token"}
    done = subprocess.run(
        [sys.executable, "-m", "asana_source"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == ["error: Asana rejected the access token (401)"]
    assert "Traceback" not in done.stdout + done.stderr and "not-the-token" not in done.stderr


def test_unreadable_project_is_skipped_with_a_warning_and_the_others_load(
    world: AsanaWorld, caplog: pytest.LogCaptureFixture
) -> None:
    s = world.sample
    world.service.emulator.restrict_project(s.projects[1], 403)
    with caplog.at_level(logging.WARNING, logger="asana_source"):
        world.run()
    warning = [r.getMessage() for r in caplog.records if r.name == "asana_source"]
    assert len(warning) == 1 and s.projects[1] in warning[0] and "403" in warning[0]
    tasks = {r[0] for r in world.sql("SELECT gid FROM tasks")}
    assert set(s.tasks[s.projects[0]]) <= tasks and set(s.tasks[s.projects[2]]) <= tasks
    # only the task it shares with the first project is known from the unreadable one
    assert set(s.tasks[s.projects[1]]) & tasks == {s.shared_task}


def test_plain_http_to_a_remote_host_is_refused(world: AsanaWorld) -> None:
    from asana_source import asana_source
    from pm_runtime.errors import ConfigurationError

    world.monkeypatch.setenv("SOURCES__ASANA__BASE_URL", "http://asana.example.com/api/1.0")
    with pytest.raises(ConfigurationError, match="sources.asana.base_url"):
        asana_source()


def test_the_source_calls_no_endpoint_the_emulator_does_not_know(world: AsanaWorld) -> None:
    world.run(include_stories=True)
    assert world.service.log.unknown_routes() == []
    assert world.scalar("SELECT count(*) FROM stories") >= len(world.sample.all_tasks)
