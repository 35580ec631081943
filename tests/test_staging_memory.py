"""dlt's loads into the staging DuckDB run under a memory limit, on one thread.

DuckDB's default is 80% of the machine: the merge of 200,000 Asana tasks took ~730 MB
in-process (`python -m benchmarks asana_extract` measures it).
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


def test_a_load_into_duckdb_runs_on_one_thread_under_256_mb(workspace: Path) -> None:
    assert loaded_settings() == ("244.1 MiB", 1)  # DuckDB shows 256 MB (10^6) in MiB


def test_staging_duckdb_memory_limit_sets_the_limit(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGING__DUCKDB_MEMORY_LIMIT", "1GB")
    assert loaded_settings()[0] == "953.6 MiB"
