"""What users look at besides a run's output: dlt's trace, the README's queries, `make show`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox import DOCSPACE_API_KEY
from tests.sync_world import AsanaWorld

ROOT = Path(__file__).resolve().parents[1]
DLT = str(ROOT / ".venv" / "bin" / "dlt")


def test_dlt_trace_names_the_portal_and_the_dataset_never_the_key(
    workspace, sandbox, monkeypatch
) -> None:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    world = AsanaWorld(sandbox).build()
    assert world.run().code == 0
    done = subprocess.run(
        [DLT, "pipeline", "asana_docspace", "trace"],
        cwd=ROOT,  # dlt imports the destination's module by name, as from a clone
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"used {sandbox.docspace.root_url} (DocSpace portal" in done.stdout
    assert "into dataset asana_docspace" in done.stdout
    assert "object at 0x" not in done.stdout and "dataset None" not in done.stdout
    assert DOCSPACE_API_KEY not in done.stdout + done.stderr


def test_the_readmes_duckdb_queries_run_on_postgresql(
    workspace, postgres_url, monkeypatch, capsys
) -> None:
    import psycopg2

    monkeypatch.setenv("STAGING__DESTINATION", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", postgres_url)
    with psycopg2.connect(postgres_url) as con, con.cursor() as cur:
        cur.execute(
            "CREATE SCHEMA docspace_state; CREATE TABLE docspace_state.ledger (status text)"
        )
        cur.execute("INSERT INTO docspace_state.ledger VALUES ('done'), ('done'), ('pending')")
    from pm_runtime.query import main

    readme = (ROOT / "README.md").read_text()
    query = "SELECT status, count(*) FROM docspace_state.ledger GROUP BY ALL"
    assert query in readme
    assert main([query]) == 0
    out = capsys.readouterr().out
    assert "done" in out and "2" in out and "(2 rows)" in out


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_show_before_any_load_says_which_command_loads_data(tmp_path) -> None:
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / ".install-stamp").touch()  # installed: only the check runs
    env = {k: v for k, v in os.environ.items() if k != "DESTINATION__DUCKDB__CREDENTIALS"}
    done = subprocess.run(
        ["make", "show"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "nothing loaded yet" in done.stdout
    assert "pipelines/asana_to_docspace.py --extract-only" in done.stdout
