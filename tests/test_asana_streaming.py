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


def test_the_stream_holds_at_most_one_step_of_rows_while_dlt_pulls_its_resources(
    workspace: Path,
) -> None:
    """Resources whose tables finished early (users, tags, …) must not keep advancing the run
    while the tasks resource drains one step per round: memory would hold the whole account."""
    import dlt

    from asana_source import TABLES
    from asana_source.table_stream import TableStream

    tables = [t for t in TABLES if t != "stories"]  # the source's resources, in its order
    most_buffered = 0

    def steps(selected: frozenset[str]) -> Any:
        nonlocal most_buffered
        for table in ("workspaces", "users", "teams", "tags", "custom_fields"):
            yield table, [{"gid": table}]
        for project in range(200):
            for table in ("projects", "sections", "tasks"):
                buffered = sum(len(b) for b in stream._buffers.values())
                most_buffered = max(most_buffered, buffered)
                yield table, [{"gid": f"{table}-{project}"}]

    stream = TableStream(steps, tables)
    resources = [dlt.resource(stream.rows(t), name=t) for t in tables]
    pipeline = dlt.pipeline("stream_buffers", destination="duckdb")
    info = pipeline.extract(resources)
    metrics = next(iter(info.metrics.values()))[0]["table_metrics"]
    assert most_buffered <= 1
    assert metrics["tasks"].items_count == 200
