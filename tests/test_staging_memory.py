"""dlt's loads into the staging DuckDB run under a memory limit, on one thread.

DuckDB's default is 80% of the machine: the merge of 200,000 Asana tasks took ~730 MB
in-process (`python -m benchmarks asana_extract` measures it). Its merges deduplicate in
memory DuckDB can spill, and a big load runs in a process of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def loaded_settings() -> tuple[str, int]:
    import dlt

    from pm_runtime.staging import staging_pipeline

    pipeline = staging_pipeline("memory_probe", "probe_data")
    pipeline.run(dlt.resource([{"id": 1}], name="rows"))
    with pipeline.sql_client() as sql:
        rows = sql.execute_sql("SELECT current_setting('memory_limit'), current_setting('threads')")
    return rows[0][0], int(rows[0][1])


def test_a_load_into_duckdb_runs_on_one_thread_under_128_mb(workspace: Path) -> None:
    assert loaded_settings() == ("122.0 MiB", 1)  # DuckDB shows 128 MB (10^6) in MiB


def test_staging_duckdb_memory_limit_sets_the_limit(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGING__DUCKDB_MEMORY_LIMIT", "1GB")
    assert loaded_settings()[0] == "953.6 MiB"


# -- the merge deduplicates in memory DuckDB can spill (pm_runtime.duckdb_merge) --------------


def staged_rows(pipeline_name: str, rows: list[dict], **hints: object) -> dict[str, list]:
    """Loads `rows` in one run through the staging pipeline, merging on `id`; returns each table."""
    import dlt

    from pm_runtime.staging import staging_pipeline

    pipeline = staging_pipeline(pipeline_name, "probe_data")
    resource = dlt.resource(rows, name="items", write_disposition="merge", primary_key="id")
    if hints:
        resource.apply_hints(**hints)  # type: ignore[arg-type]
    pipeline.run(resource)
    with pipeline.sql_client() as sql:
        return {
            "items": sql.execute_sql("SELECT id, name FROM items ORDER BY id"),
            "tags": sql.execute_sql(
                "SELECT i.id, t.value FROM items i JOIN items__tags t ON t._dlt_root_id = i._dlt_id"
                " ORDER BY i.id, t.value"
            ),
        }


def test_a_key_staged_twice_in_one_load_becomes_one_row_with_its_own_nested_rows(
    workspace: Path,
) -> None:
    rows = [
        {"id": 1, "name": "one", "tags": ["a", "b"]},
        {"id": 2, "name": "two", "tags": ["c"]},
        {"id": 1, "name": "one", "tags": ["a", "b"]},
    ]
    tables = staged_rows("dedup_probe", rows)
    assert tables["items"] == [(1, "one"), (2, "two")]
    assert tables["tags"] == [(1, "a"), (1, "b"), (2, "c")]


def test_a_dedup_sort_keeps_the_newest_row_of_a_key(workspace: Path) -> None:
    rows = [
        {"id": 1, "name": "old", "version": 1, "tags": ["x"]},
        {"id": 1, "name": "new", "version": 3, "tags": ["y"]},
        {"id": 1, "name": "middle", "version": 2, "tags": ["z"]},
    ]
    tables = staged_rows("dedup_sort_probe", rows, columns={"version": {"dedup_sort": "desc"}})
    assert tables["items"] == [(1, "new")]
    assert tables["tags"] == [(1, "y")]


def test_the_merge_sql_has_no_window_over_the_staged_rows() -> None:
    from pm_runtime.duckdb_merge import SpillableDedupMergeJob

    sql = SpillableDedupMergeJob.gen_select_from_dedup_sql(
        '"s"."tasks__custom_fields"', ['"_dlt_id"'], ['"gid"', '"name"', '"_dlt_id"']
    )
    assert "OVER" not in sql and 'GROUP BY "_dlt_id"' in sql


# -- a big load runs in a process of its own (pm_runtime.load_phases) -------------------------


def run_probe(monkeypatch: pytest.MonkeyPatch, rows: list[dict], own_process: bool) -> object:
    import dlt

    from pm_runtime import load_phases
    from pm_runtime.staging import staging_pipeline

    monkeypatch.setattr(load_phases, "OWN_PROCESS_FROM_BYTES", 0 if own_process else 1 << 40)
    pipeline = staging_pipeline("own_process_probe", "probe_data")
    return load_phases.run_pipeline(pipeline, dlt.resource(rows, name="rows", primary_key="id"))


def test_a_big_load_runs_in_a_process_of_its_own_and_lands_the_rows(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pm_runtime.load_phases import ChildLoad
    from pm_runtime.staging import open_staging

    info = run_probe(monkeypatch, [{"id": 1}, {"id": 2}], own_process=True)
    assert isinstance(info, ChildLoad) and "1 load package(s) were loaded" in str(info)
    with open_staging(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM probe_data.rows").fetchone() == (2,)


def test_a_small_load_stays_in_process(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pm_runtime.load_phases import ChildLoad

    assert not isinstance(run_probe(monkeypatch, [{"id": 1}], own_process=False), ChildLoad)


def test_a_load_failing_in_its_own_process_is_one_error_line(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pm_runtime.load_phases import LoadFailed
    from pm_runtime.staging import open_staging

    with open_staging() as con:  # a table the load cannot write: every id must be negative
        con.execute("CREATE SCHEMA probe_data")
        con.execute(
            "CREATE TABLE probe_data.rows (id BIGINT CHECK (id < 0),"
            " _dlt_load_id VARCHAR NOT NULL, _dlt_id VARCHAR NOT NULL UNIQUE)"
        )
    with pytest.raises(LoadFailed) as failed:
        run_probe(monkeypatch, [{"id": 1}], own_process=True)
    message = str(failed.value)
    assert len(message.splitlines()) == 1 and "CHECK constraint" in message, repr(message)


@pytest.fixture
def big_loads_apart(workspace, sandbox, monkeypatch):  # type: ignore[no-untyped-def]
    """The Asana sandbox world, with every load counted big: it runs in a process of its own."""
    from pm_runtime import load_phases
    from tests.sync_world import AsanaWorld

    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(load_phases, "OWN_PROCESS_FROM_BYTES", 0)
    return AsanaWorld(sandbox).build()


def test_a_run_whose_load_runs_apart_mirrors_the_tasks_as_before(big_loads_apart) -> None:  # type: ignore[no-untyped-def]
    from tests.sync_world import EXPECTED_FLAT

    run = big_loads_apart.run()
    assert run.code == 0, run.output
    assert "Asana → DuckDB (asana_data): " in run.output and "tasks " in run.output
    assert big_loads_apart.tree() == EXPECTED_FLAT


def test_a_load_apart_that_fails_stops_the_run_with_one_error_line(  # type: ignore[no-untyped-def]
    big_loads_apart, monkeypatch
) -> None:
    monkeypatch.setenv("STAGING__DUCKDB_MEMORY_LIMIT", "not a size")  # the child's load refuses it
    run = big_loads_apart.run("--extract-only")
    assert run.code == 1
    errors = [line for line in run.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.output
    assert "Memory must have a number" in errors[0] and "Traceback" not in run.output
