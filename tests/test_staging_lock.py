"""The staging DuckDB is shared between processes: short holds, waits for a locked file, one-line errors.

DuckDB lets one process write a file or several read it, never both. The sync therefore
opens data/pm.duckdb only for short transactions, and every opener (the sync, dlt's
loads, `python -m pm_runtime.query`) waits up to `[staging] lock_timeout` for a holder.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync_world import EXPECTED_FLAT, AsanaWorld

ROOT = Path(__file__).resolve().parents[1]
NEWER_DUCKDB_FILE = Path(__file__).parent / "fixtures" / "written_by_duckdb_2.0.0.duckdb.gz"

# another process that opens the database and sits on it
_HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read-only")
print("holding", flush=True)
time.sleep(float(sys.argv[3]))
con.close()
"""


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    return AsanaWorld(sandbox).build()


def _database() -> str:
    from pm_runtime.staging import staging_database_path

    return staging_database_path()


@contextlib.contextmanager
def another_process_holds_the_database(
    seconds: float, mode: str = "read-only"
) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, _database(), mode, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "holding"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def _query(sql: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pm_runtime.query", sql],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_sync_waits_for_a_reader_holding_the_database_and_completes(world, capfd):
    assert world.run("--extract-only").code == 0
    capfd.readouterr()
    with another_process_holds_the_database(2.0) as reader:
        started = time.monotonic()
        run = world.run()  # dlt's load of the source and the sync's own transactions
        waited = time.monotonic() - started
    assert run.code == 0, run.output
    assert world.tree() == EXPECTED_FLAT
    assert waited >= 1.5  # it really was locked out, and waited rather than failing
    said = capfd.readouterr().err
    assert f"is in use by another process, PID {reader.pid}" in said
    assert said.count(f"PID {reader.pid}") == 1  # said once, not on every retry


def test_dlts_own_load_into_duckdb_waits_for_a_reader_too(world, capfd):
    assert world.run("--extract-only").code == 0
    world.asana.rename_task(world.ids["build"], "Build v2")
    capfd.readouterr()
    with another_process_holds_the_database(2.0) as reader:
        run = world.run("--extract-only")  # only dlt opens the database here
    assert run.code == 0, run.output
    assert f"PID {reader.pid}" in capfd.readouterr().err
    from pm_runtime.staging import open_staging

    with open_staging(read_only=True) as con:
        names = {r[0] for r in con.execute("SELECT name FROM asana_data.tasks").fetchall()}
    assert "Build v2" in names


def test_query_before_any_load_says_there_is_nothing_yet(workspace):
    done = _query("SELECT 1")
    assert done.returncode == 1
    assert done.stderr.strip() == "error: data/pm.duckdb does not exist yet: run a pipeline first"
    assert not (workspace / "data" / "pm.duckdb").exists()


def test_the_sync_stops_with_one_line_when_the_lock_outlasts_the_timeout(world, monkeypatch):
    assert world.run("--extract-only").code == 0
    monkeypatch.setenv("STAGING__LOCK_TIMEOUT", "1")
    with another_process_holds_the_database(30, mode="read-write") as writer:
        run = world.run("--sync-only")
    assert run.code == 1
    errors = [line for line in run.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.output
    assert f"is locked by another process, PID {writer.pid}" in errors[0]
    assert "stayed locked for 1 s" in errors[0] and "lock_timeout" in errors[0]
    assert "Traceback" not in run.output
    assert world.sb.docspace.log.writes() == 0


def test_query_waits_for_a_writer_and_prints_the_rows(world):
    assert world.run("--extract-only").code == 0
    # held for longer than the query takes to start, so it finds the file locked
    with another_process_holds_the_database(6.0, mode="read-write") as writer:
        done = _query("SELECT count(*) AS tasks FROM asana_data.tasks")
    assert done.returncode == 0, done.stderr
    assert "tasks" in done.stdout and "5" in done.stdout
    assert f"in use by another process, PID {writer.pid}" in done.stderr


def test_query_gives_up_after_the_lock_timeout_with_one_line(world):
    assert world.run("--extract-only").code == 0
    with another_process_holds_the_database(30, mode="read-write") as writer:
        done = _query("SELECT 1", STAGING__LOCK_TIMEOUT="1")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and f"PID {writer.pid}" in lines[-1]
    assert "stayed locked for 1 s" in lines[-1]
    assert "Traceback" not in done.stderr


def test_query_succeeds_during_the_apply_of_a_slow_sync(world):
    assert world.run("--extract-only").code == 0
    world.sb.docspace.emulator.faults.latency(1.5)  # every DocSpace request takes 1.5 s
    sync = subprocess.Popen(
        [sys.executable, str(ROOT / "pipelines" / "asana_to_docspace.py"), "--sync-only"]
        + ["--concurrency", "1"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while world.writes() < 2 and sync.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sync.poll() is None and world.writes() >= 2, "the apply never got going"
        answers = [_query("SELECT count(*) AS tasks FROM asana_data.tasks")]
        still_applying = sync.poll() is None
        output, _ = sync.communicate(timeout=120)
    finally:
        if sync.poll() is None:
            sync.kill()
    for done in answers:
        assert done.returncode == 0, done.stderr
        assert "5" in done.stdout
    assert still_applying, "the sync ended before the queries: nothing shown"
    assert sync.returncode == 0, output
    assert world.tree() == EXPECTED_FLAT


def _newer_duckdb_file() -> str:
    path = _database()
    with gzip.open(NEWER_DUCKDB_FILE) as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def test_a_file_from_a_newer_duckdb_gets_one_line_saying_what_to_do(world):
    _newer_duckdb_file()
    done = _query("SELECT 1")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("error: data/pm.duckdb was written by a newer DuckDB (storage version")
    assert "this project pins duckdb 1.5.6" in line and "delete the file and re-run" in line


def test_a_sync_over_a_file_from_a_newer_duckdb_stops_with_that_line(world):
    _newer_duckdb_file()
    for args in (["--extract-only"], ["--sync-only"]):  # dlt's load, then the sync's own reads
        run = world.run(*args)
        assert run.code == 1
        errors = [line for line in run.output.splitlines() if line.startswith("error:")]
        assert errors == [errors[0]] and "was written by a newer DuckDB" in errors[0], run.output
        assert "Traceback" not in run.output


def test_a_bad_lock_timeout_names_the_key(world):
    assert world.run("--extract-only").code == 0
    done = _query("SELECT 1", STAGING__LOCK_TIMEOUT="soon")
    assert done.returncode == 1
    assert "staging.lock_timeout" in done.stderr and "'soon'" in done.stderr
