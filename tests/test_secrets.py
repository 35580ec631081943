"""Secrets never appear in output, logs, traces, the ledger or the run log."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import duckdb

from pm_runtime.staging import staging_database_path
from sandbox import ASANA_TOKEN, DOCSPACE_API_KEY
from tests.sync_world import AsanaWorld


def test_tokens_are_absent_from_output_logs_traces_ledger_and_run_log(
    workspace, sandbox, monkeypatch, caplog
):
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    world = AsanaWorld(sandbox).build()
    caplog.set_level(logging.DEBUG)
    run = world.run("-v")
    assert run.code == 0, run.output
    world.asana.rename_task(world.ids["build"], "Build v2")
    run2 = world.run("-v", "--refresh")

    places = {"output": run.output + run2.output, "logs": caplog.text}
    con = duckdb.connect(staging_database_path(), read_only=True)
    places["ledger"] = repr(con.execute("SELECT * FROM docspace_state.ledger").fetchall())
    places["runs"] = repr(con.execute("SELECT * FROM docspace_state.runs").fetchall())
    con.close()
    pipelines = Path(os.environ["DLT_DATA_DIR"]) / "pipelines"
    for path in pipelines.rglob("*"):
        if path.is_file() and path.stat().st_size < 5_000_000:
            places[str(path)] = path.read_bytes().decode("utf-8", "replace")
    for secret in (ASANA_TOKEN, DOCSPACE_API_KEY):
        leaks = [where for where, text in places.items() if secret in text]
        assert leaks == [], f"{secret[:6]}… found in {leaks}"
