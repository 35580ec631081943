"""Every command `make demo` prints as a next step works exactly as printed, with no venv activated."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.demo_clone import DEMO_GROUP, Demo, dashboard, run_as_printed

pytestmark = pytest.mark.xdist_group(DEMO_GROUP)  # `demo`: conftest's, shared


def test_the_demo_prints_queries_a_dashboard_and_dlt_commands(demo: Demo) -> None:
    steps = demo.next_steps()
    assert sum("-m pm_runtime.query" in s for s in steps) == 3
    assert "make show PIPELINE=asana DEMO=1" in steps
    assert any(s.endswith("dlt pipeline asana info") for s in steps)
    assert any(s.endswith("dlt pipeline asana_docspace trace") for s in steps)
    # nothing assumes an activated venv: python by its path, dlt with .venv/bin on PATH
    for step in steps:
        assert not step.startswith(("python ", "dlt ")), step
        if " dlt " in f" {step}":
            assert step.startswith("PATH=.venv/bin:$PATH "), step


def test_the_printed_sql_queries_print_rows(demo: Demo) -> None:
    queries = [s for s in demo.next_steps() if "-m pm_runtime.query" in s]
    projects, ledger, runs = (run_as_printed(demo.root, q) for q in queries)
    for done in (projects, ledger, runs):
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
    assert "Website relaunch" in projects.stdout and "Customer interviews" in projects.stdout
    assert "applied" in ledger.stdout
    assert "ok" in runs.stdout  # the run the demo just made, one row


def test_the_printed_dlt_info_describes_the_load_into_duckdb(demo: Demo) -> None:
    (info,) = [s for s in demo.next_steps() if s.endswith("pipeline asana info")]
    done = run_as_printed(demo.root, info)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Found pipeline asana" in done.stdout and "dataset_name: asana_data" in done.stdout


def test_the_printed_dlt_trace_shows_the_run_into_docspace(demo: Demo) -> None:
    (trace,) = [s for s in demo.next_steps() if s.endswith("pipeline asana_docspace trace")]
    done = run_as_printed(demo.root, trace)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Found pipeline asana_docspace" in done.stdout
    assert "Step load COMPLETED" in done.stdout and "- actions:" in done.stdout


def test_dlt_info_of_the_docspace_pipeline_works_too(demo: Demo) -> None:
    (trace,) = [s for s in demo.next_steps() if s.endswith("pipeline asana_docspace trace")]
    done = run_as_printed(demo.root, trace.removesuffix("trace") + "info")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "destination_name: docspace" in done.stdout
    assert "completed load packages" in done.stdout


def test_the_printed_make_show_serves_the_dashboard(demo: Demo) -> None:
    with dashboard(demo.root, "make show PIPELINE=asana DEMO=1") as url:
        assert requests.get(url, timeout=10).status_code == 200
    assert not (Path(demo.root) / "asana.duckdb").exists()  # it read the demo's database
