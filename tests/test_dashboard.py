"""dlt's dashboard (`dlt pipeline asana show`) reads the demo's data: its own helpers, on the demo's files.

The dashboard's "Load row counts" button, its table browser and its SQL box call these
helpers of dlt's (dlt._workspace.helpers.dashboard.utils.queries) in the marimo process;
here they run on exactly the files `make demo` leaves, with the demo's environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.demo_clone import DEMO_GROUP, Demo

pytestmark = pytest.mark.xdist_group(DEMO_GROUP)  # `demo`: conftest's, shared


@pytest.fixture
def queries() -> Any:
    """dlt's dashboard helpers: imported by the test that uses them, not by every worker's
    collection (they bring marimo and pyarrow, ~1 s)."""
    return pytest.importorskip("dlt._workspace.helpers.dashboard.utils.queries")


@pytest.fixture
def pipeline(demo: Demo, queries: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator:
    """The demo's pipeline, attached from the demo's directory with its environment (where
    `dlt pipeline asana show` runs)."""
    import dlt
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

    monkeypatch.chdir(demo.root)
    for key, value in demo.environment().items():
        monkeypatch.setenv(key, value)
    # dlt reads `.dlt/*.toml` of the directory it is in once per process, when a setting is
    # first resolved: read the demo's here, and none after, or every later test of this worker
    # would run with the project's .dlt/config.toml (its role_map, ...)
    run_context = Container()[PluggableRunContext]
    run_context.reload_providers()
    queries.clear_query_cache()
    try:
        yield dlt.attach("asana")
    finally:
        monkeypatch.chdir(tmp_path)  # an empty directory, like the other tests' workspaces
        run_context.reload_providers()


def _direct(sql: str) -> list[tuple]:
    from pm_runtime.staging import open_staging

    with open_staging(read_only=True) as con:
        return con.execute(sql).fetchall()


def test_row_counts_cover_every_staged_table_with_what_the_demo_loaded(pipeline, queries, demo):
    counts = queries.get_row_counts(pipeline)
    staged = pipeline.default_schema.data_table_names(seen_data_only=True)
    assert staged and set(staged) <= set(counts)
    for table in staged:
        (expected,) = _direct(f"SELECT count(*) FROM asana_data.{table}")[0]
        assert counts[table] == expected > 0, table
    # a first load: the counts are what the demo said it loaded
    assert {t: counts[t] for t in demo.loaded()} == demo.loaded()


def test_a_sql_query_on_tasks_returns_its_rows(pipeline, queries):
    result, error, _ = queries.get_query_result(
        pipeline, "SELECT gid, name FROM asana_data.tasks ORDER BY gid"
    )
    assert error is None
    rows = [(r["gid"], r["name"]) for r in result.to_pylist()]
    assert rows == _direct("SELECT gid, name FROM asana_data.tasks ORDER BY gid")
    assert len(rows) > 10


def test_browsing_a_table_shows_its_rows(pipeline, queries):
    sql, error, _ = queries.get_default_query_for_table(pipeline, "asana", "projects", True)
    assert error is None
    result, error, _ = queries.get_query_result(pipeline, sql)
    assert error is None
    assert {r["name"] for r in result.to_pylist()} >= {"Website relaunch", "Customer interviews"}


def test_the_loads_list_shows_the_demo_load(pipeline, queries):
    from dlt._workspace.helpers.dashboard.config import DashboardConfiguration

    loads, error, _ = queries.get_loads(DashboardConfiguration(), pipeline)
    assert error is None
    assert len(loads) == 1 and loads[0]["status"] == 0
