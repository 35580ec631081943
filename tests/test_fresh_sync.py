"""A big run's sync in a fresh process (`pipelines.fresh_sync`): what the user sees is one run.

After a big extract (its load ran in a process of its own) the command line execs itself as
`--sync-only`, so the plan does not start on top of the ~300 MB the extract left (issue 21).
The user sees one process (same PID), one set of warnings, one summary, the same exit codes,
and the run lock held from the extract to the last write. Real processes of
`pipelines/asana_to_docspace.py` against the sandbox; "big" is forced by setting the load's
threshold to 0 bytes before the script runs (the sample is a few tasks).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sync_world import EXPECTED_FLAT, AsanaWorld, duplicates

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "pipelines" / "asana_to_docspace.py"
# the script as a user runs it, its extract taken for a big one (the load in a process of its own)
AS_BIG = (
    "import runpy, sys; sys.path.insert(0, sys.argv[1]); "
    "import pm_runtime.load_phases as phases; phases.OWN_PROCESS_FROM_BYTES = 0; "
    "sys.argv = sys.argv[2:]; {prelude}; runpy.run_path(sys.argv[0], run_name='__main__')"
)


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    return AsanaWorld(sandbox).build()


def _start_big(*args: str, prelude: str = "pass", **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", AS_BIG.format(prelude=prelude), str(ROOT), str(SCRIPT), *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=180)
    assert "Traceback" not in out + err, err[-3000:]
    return proc.returncode, out, err


def test_a_big_run_syncs_in_a_fresh_process_and_reads_as_one_run(world):
    proc = _start_big("-v", DESTINATION__DOCSPACE__LAYUOT="flat")
    code, out, err = _finish(proc)
    assert code == 0, err[-3000:]
    assert f"the sync continues in a fresh process (same PID {proc.pid})" in err
    assert out.count("Asana → DuckDB (asana_data): ") == 1
    assert out.count("created ") == 1, out  # one summary
    # the settings were checked (and a misspelt key warned about) once, before the extract
    assert err.count("unknown setting destination.docspace.layuot") == 1, err
    assert world.tree() == EXPECTED_FLAT
    assert duplicates(world.docspace) == []
    writes = world.writes()
    assert world.run().code == 0  # the lock was let go; nothing left to do
    assert world.writes() == writes


def test_the_run_lock_is_held_by_the_same_pid_from_the_extract_to_the_last_write(world):
    # the sync's writes crawl: the lock stays held past a loaded machine's start-up of the second run
    world.sb.docspace.faults.latency(5.0, route="POST *")
    first = _start_big("--concurrency", "1")
    deadline = time.monotonic() + 60
    while world.writes() == 0 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert first.poll() is None, first.communicate()
    skipped = subprocess.run(
        [sys.executable, str(SCRIPT), "--skip-if-running"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    world.sb.docspace.faults.clear()
    code, _, err = _finish(first)
    assert code == 0, err[-3000:]
    assert skipped.returncode == 0, skipped.stderr[-2000:]
    (line,) = skipped.stdout.strip().splitlines()
    assert line.startswith(
        f"skipped: another run of the asana pipeline is running (PID {first.pid} "
    )
    assert world.tree() == EXPECTED_FLAT


def test_a_plan_after_a_big_extract_exits_2_and_writes_nothing(world):
    code, out, err = _finish(_start_big("--plan"))
    assert code == 2, err[-3000:]
    assert "create" in out
    assert world.writes() == 0
    assert world.tree() == {}


def test_a_big_run_whose_fresh_process_cannot_start_syncs_where_it_extracted(world):
    refused = "OSError(12, 'Cannot allocate memory')"  # what exec says when the machine is full
    proc = _start_big(prelude=f"import os; os.execve = lambda *a: (_ for _ in ()).throw({refused})")
    code, out, err = _finish(proc)
    assert code == 0, err[-3000:]
    assert "the sync runs in this process: a fresh one could not start (" in err, err
    assert out.count("created ") == 1, out
    assert world.tree() == EXPECTED_FLAT


def test_a_small_run_syncs_in_the_process_that_extracted(world):
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "-v"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    code, _, err = _finish(proc)
    assert code == 0, err[-3000:]
    assert "fresh process" not in err
    assert world.tree() == EXPECTED_FLAT
