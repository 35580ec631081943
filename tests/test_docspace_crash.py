"""SIGKILL during apply at 20 random points: one more run always leaves the exact tree, no duplicates."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from sandbox import DOCSPACE_API_KEY, EmulatorServer
from sandbox.docspace import DocSpaceEmulator
from sandbox.sample import populate
from tests.sync_world import AsanaWorld, duplicates

ROOT = Path(__file__).resolve().parents[1]
KILLS = 20


def _fresh_docspace() -> EmulatorServer:
    emulator = DocSpaceEmulator(api_key=DOCSPACE_API_KEY)
    emulator.faults.latency(0.01)
    return EmulatorServer(emulator).start()


def _forget_docspace_side(workspace: Path) -> None:
    from pm_runtime.staging import staging_database_path

    con = duckdb.connect(staging_database_path())
    con.execute("DROP SCHEMA IF EXISTS docspace_state CASCADE")
    con.close()
    shutil.rmtree(workspace / ".dlt-data" / "pipelines" / "asana_docspace", ignore_errors=True)


def _tree(emulator: DocSpaceEmulator) -> dict:
    return {r.title: emulator.tree(r.id) for r in emulator.rooms("any")}


@pytest.mark.slow
def test_sigkill_at_random_points_during_apply_never_duplicates_or_loses_anything(
    workspace, sandbox, monkeypatch
):
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    # the sample's archived projects too (their create-then-archive steps are kill points)
    monkeypatch.setenv("DESTINATION__DOCSPACE__ARCHIVED_PROJECTS", "mirror")
    populate(sandbox, size="small")
    world = AsanaWorld(sandbox)
    assert world.run("--extract-only").code == 0

    # the tree a run without crashes builds
    clean = _fresh_docspace()
    monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", clean.root_url)
    assert world.run("--sync-only").code == 0
    expected, total_writes = _tree(clean.emulator), clean.emulator.log.writes()
    clean.stop()
    assert total_writes > 20

    rng = random.Random(7)
    resumed = 0
    for attempt in range(KILLS):
        _forget_docspace_side(workspace)
        server = _fresh_docspace()
        env = {
            **os.environ,
            "DESTINATION__DOCSPACE__BASE_URL": server.root_url,
            "PYTHONPATH": str(ROOT),
        }
        kill_after = rng.randrange(1, total_writes)
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "pipelines" / "asana_to_docspace.py"), "--sync-only"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while (
            server.emulator.log.writes() < kill_after
            and proc.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.wait()

        monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", server.root_url)
        run = world.run("--sync-only")
        assert run.code == 0, f"kill #{attempt} after {kill_after} writes: {run.output}"
        resumed += "interrupted run first" in run.output
        assert duplicates(server.emulator) == [], f"kill #{attempt} after {kill_after} writes"
        assert _tree(server.emulator) == expected, f"kill #{attempt} after {kill_after} writes"
        server.stop()
    # most kills land inside dlt's load step and leave a package that the next run finishes first
    assert resumed > 0
