"""The Asana extract streams per table and fetches only what the selected resources need."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.asana_sample import populate_asana
from tests.asana_world import AsanaWorld


@pytest.fixture
def world(workspace: Path, asana_service: Any, monkeypatch: pytest.MonkeyPatch) -> AsanaWorld:
    sample = populate_asana(asana_service.emulator, projects=3, tasks_per_project=8)
    return AsanaWorld(asana_service, sample, monkeypatch)


def run_tables(world: AsanaWorld, *tables: str) -> Any:
    from asana_source import asana_source
    from pm_runtime.staging import staging_pipeline

    world.pipeline = staging_pipeline("asana", "asana_data")
    return world.pipeline.run(asana_source().with_resources(*tables))


def routes(world: AsanaWorld) -> set[str]:
    return {k.split(" ", 1)[1] for k in world.service.log.counts()}


def test_tasks_alone_list_no_users_teams_tags_custom_fields_or_sections(world: AsanaWorld) -> None:
    run_tables(world, "tasks")
    called = routes(world)
    assert not {r for r in called if r.endswith(("/users", "/teams", "/tags", "/custom_fields"))}
    assert not {r for r in called if r.endswith("/sections")}
    assert world.scalar("SELECT count(*) FROM tasks") == len(world.sample.all_tasks)


def test_sections_changed_while_only_tasks_were_loaded_arrive_with_the_next_full_run(
    world: AsanaWorld,
) -> None:
    world.run()
    project = world.sample.projects[0]
    section = world.sample.sections[project][0]
    world.service.emulator.rename_section(section, "Renamed while unselected")
    run_tables(world, "tasks")  # reads the events (the section change among them)
    world.run()
    assert world.scalar("SELECT name FROM sections WHERE gid = ?", section) == (
        "Renamed while unselected"
    )


def test_a_project_changed_while_unselected_is_loaded_by_the_next_run_that_asks(
    world: AsanaWorld,
) -> None:
    world.run()
    project = world.sample.projects[0]
    world.service.emulator.rename_project(project, "Renamed while unselected")
    run_tables(world, "tasks")
    world.run()
    assert world.scalar("SELECT name FROM projects WHERE gid = ?", project) == (
        "Renamed while unselected"
    )


def test_a_streamed_full_load_equals_the_same_load_of_every_table_at_once(
    world: AsanaWorld, workspace: Path
) -> None:
    world.run()
    together = world.snapshot()
    world.use_fresh_database(workspace / "by-table.duckdb")
    for table in ("workspaces", "users", "projects", "sections", "tasks"):
        run_tables(world, table)
    assert world.snapshot() == together
