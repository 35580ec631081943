"""Moving a DuckDB staging to PostgreSQL is one command, and the first run there writes nothing."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest

from pm_runtime.move_staging import main as move_staging
from tests.staged import staged_rows
from tests.sync_world import EXPECTED_FLAT, AsanaWorld


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    return AsanaWorld(sandbox).build()


def _move(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = move_staging(list(args))
    return code, out.getvalue()


def test_the_first_run_after_moving_to_postgres_writes_nothing_to_docspace(
    world, postgres_url, monkeypatch
):
    assert world.run().code == 0
    on_duckdb = staged_rows(
        "SELECT key, docspace_id, status FROM docspace_state.ledger ORDER BY key"
    )
    writes = world.writes()

    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_url)
    code, output = _move("--to", "postgres")
    assert code == 0, output
    assert "docspace_state.ledger" in output and "asana_data.tasks" in output

    monkeypatch.setenv("STAGING__DESTINATION", "postgres")
    assert (
        staged_rows("SELECT key, docspace_id, status FROM docspace_state.ledger ORDER BY key")
        == on_duckdb
    )
    run = world.run()
    assert run.code == 0, run.output
    assert world.writes() == writes
    assert "Asana → PostgreSQL" in run.output
    assert world.run("--plan").code == 0
    assert world.tree() == EXPECTED_FLAT


def test_moving_onto_tables_that_exist_refuses_with_one_line_unless_told(
    world, postgres_url, monkeypatch
):
    assert world.run("--extract-only").code == 0
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_url)
    assert _move("--to", "postgres")[0] == 0
    code, output = _move("--to", "postgres")
    assert code == 1
    assert output.startswith("error: the target already has") and output.count("\n") == 1
    assert _move("--to", "postgres", "--replace")[0] == 0


def test_changes_after_the_move_reach_docspace_from_postgres(world, postgres_url, monkeypatch):
    assert world.run().code == 0
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_url)
    assert _move("--to", "postgres")[0] == 0
    monkeypatch.setenv("STAGING__DESTINATION", "postgres")
    world.asana.rename_task(world.ids["build"], "Build v2")
    assert world.run().code == 0
    assert set(world.tree()["Alpha"]) == {"Build v2", "Design", "Shared"}


def test_an_unknown_staging_destination_is_one_line_naming_the_key(world, monkeypatch):
    monkeypatch.setenv("STAGING__DESTINATION", "oracle")
    run = world.run()
    assert run.code == 1
    assert run.output.strip().splitlines() == [
        'error: staging.destination must be one of "duckdb" | "postgres" | "motherduck", got \'oracle\''
    ]
    assert world.writes() == 0
