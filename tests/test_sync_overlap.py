"""Two syncs of one pipeline at once (an overlapping cron, two machines): only one applies.

The lock lives in the staging database (an advisory lock on PostgreSQL, a lock file beside the
DuckDB file), so the second sync waits for the first and, past `[staging] lock_timeout`, stops
with one line naming the holder. Both run as real processes against the sandbox.
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


@pytest.fixture
def world(workspace, staging, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    world = AsanaWorld(sandbox).build()
    assert world.run("--extract-only").code == 0
    return world


def _start_slow_sync(world: AsanaWorld) -> subprocess.Popen:
    """A sync whose DocSpace answers slowly; returns once it has started writing."""
    world.sb.docspace.faults.latency(0.4, route="POST *")  # writes slow; the portal check is not
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "pipelines" / "asana_to_docspace.py"), "--sync-only"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while world.writes() == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()[0]
    return proc


def test_a_second_sync_stops_with_one_line_naming_the_one_that_applies(world, monkeypatch):
    first = _start_slow_sync(world)
    monkeypatch.setenv("STAGING__LOCK_TIMEOUT", "0.5")
    second = world.run("--sync-only")
    assert first.wait(120) == 0, first.stdout.read()
    assert second.code == 1
    errors = [line for line in second.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "another run of the asana pipeline" in errors[0] and f"PID {first.pid}" in errors[0]
    assert world.tree() == EXPECTED_FLAT
    assert duplicates(world.docspace) == []


def test_a_second_sync_waits_for_the_first_and_then_has_nothing_left_to_do(world):
    first = _start_slow_sync(world)
    second = world.run("--sync-only")
    assert first.wait(120) == 0, first.stdout.read()
    assert second.code == 0, second.output
    assert "unchanged" in second.output
    writes = world.writes()
    assert world.tree() == EXPECTED_FLAT
    assert duplicates(world.docspace) == []
    assert world.run("--sync-only").code == 0
    assert world.writes() == writes
