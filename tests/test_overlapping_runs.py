"""Full runs of one pipeline started together (a cron overlapping the next, a run beside another):
one at a time from the extract to the last DocSpace write.

Each run holds the pipeline's lock (a file beside the DuckDB file, an advisory lock on
PostgreSQL) from before the source is extracted until its sync ends. The others wait up to
`[staging] lock_timeout`, then stop with one line naming the holder; `--skip-if-running` stops at
once with exit 0. None of them reads the other's half-written files, reports "nothing staged", or
loses a change. Real processes of `pipelines/asana_to_docspace.py` against the sandbox.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sync_world import EXPECTED_FLAT, AsanaWorld, duplicates

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "pipelines" / "asana_to_docspace.py"


@dataclass
class Done:
    code: int
    out: str
    err: str


@pytest.fixture
def world(workspace, staging, sandbox, monkeypatch) -> AsanaWorld:
    """On each staging database: the DuckDB file and PostgreSQL."""
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    return AsanaWorld(sandbox).build()


@pytest.fixture
def duck_world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    """On the DuckDB file only (the lock's waiting and skipping are one code path for both)."""
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    return AsanaWorld(sandbox).build()


def _start(*args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen) -> Done:
    out, err = proc.communicate(timeout=180)
    return Done(proc.returncode, out, err)


def _wait_for_writes(world: AsanaWorld, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while world.writes() == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()


def _assert_clean(done: Done) -> None:
    """Exit 0, or exit 1 with the one line naming the run under way; never a traceback."""
    assert "Traceback" not in done.out + done.err, done.err[-3000:]
    assert "nothing staged" not in done.out
    assert done.code in (0, 1), (done.code, done.out, done.err[-2000:])
    if done.code == 1:
        (line,) = done.out.strip().splitlines()
        assert line.startswith("error: another run of the asana pipeline is still running (PID ")
        assert " since " in line


@pytest.mark.slow
def test_three_runs_started_together_each_finish_or_stop_with_one_line(world):
    world.sb.docspace.faults.latency(0.05)  # long enough for the three to overlap
    runs = [_start(), _start(), _start(STAGING__LOCK_TIMEOUT="0.2")]
    done = [_finish(p) for p in runs]
    for d in done:
        _assert_clean(d)
    assert any(d.code == 0 for d in done)
    world.sb.docspace.faults.clear()
    assert world.run().code == 0
    assert world.tree() == EXPECTED_FLAT
    assert duplicates(world.docspace) == []
    writes = world.writes()
    assert world.run().code == 0
    assert world.writes() == writes


def _start_slow_run(world: AsanaWorld) -> subprocess.Popen:
    """A full run that holds the lock while its DocSpace writes crawl (until `faults.clear()`)."""
    world.sb.docspace.faults.latency(1.0, route="POST *")
    first = _start("--concurrency", "1")
    _wait_for_writes(world, first)
    return first


def _read_until(proc: subprocess.Popen, text: str) -> str:
    """stderr lines up to the one containing `text` (or all of them, if the process ends first)."""
    seen = []
    for line in iter(proc.stderr.readline, ""):
        seen.append(line)
        if text in line:
            break
    return "".join(seen)


@pytest.mark.slow
def test_a_run_started_during_another_waits_and_then_brings_the_change_made_meanwhile(duck_world):
    """The second run is not told "unchanged" while the first is between its steps: it waits,
    then extracts, and the task added in the meantime reaches DocSpace."""
    assert duck_world.run("--extract-only").code == 0
    first = _start_slow_run(duck_world)
    duck_world.asana.add_task(
        "Added meanwhile", [(duck_world.ids["beta"], duck_world.ids["beta_s"])]
    )
    second = _start()
    said = _read_until(second, "another run of the asana pipeline")
    assert "waiting up to 60s: another run of the asana pipeline is running (PID " in said
    duck_world.sb.docspace.faults.clear()
    first_done, second_done = _finish(first), _finish(second)
    for d in (first_done, second_done):
        assert d.code == 0, (d.out, d.err[-2000:])
        assert "Traceback" not in d.out + d.err
    assert "created          1" in second_done.out
    assert duck_world.tree()["Beta"] == {"Shared": {}, "Ship": {}, "Added meanwhile": {}}
    assert duplicates(duck_world.docspace) == []


@pytest.mark.slow
def test_skip_if_running_exits_0_at_once_with_one_line_naming_the_run_under_way(duck_world):
    assert duck_world.run("--extract-only").code == 0
    first = _start_slow_run(duck_world)
    skipped = _finish(_start("--skip-if-running"))
    duck_world.sb.docspace.faults.clear()
    first_done = _finish(first)
    assert first_done.code == 0, first_done.err[-2000:]
    assert skipped.code == 0, skipped.err[-2000:]
    (line,) = skipped.out.strip().splitlines()
    assert line.startswith("skipped: another run of the asana pipeline is running (PID ")
    assert f"PID {first.pid}" in line
    assert "Traceback" not in skipped.err
    assert duck_world.tree() == EXPECTED_FLAT


def test_skip_if_running_runs_as_usual_when_nothing_else_runs(duck_world):
    assert duck_world.run("--skip-if-running").code == 0
    assert duck_world.tree() == EXPECTED_FLAT
