"""What the SIGKILL tests share: where to kill, a fresh DocSpace emulator, forgetting the
DocSpace side of a run, and a sync in a process of its own killed once DocSpace has taken N
writes."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from sandbox import DOCSPACE_API_KEY, EmulatorServer
from sandbox.docspace import DocSpaceEmulator
from tests.staged import staged_execute

ROOT = Path(__file__).resolve().parents[1]


def kill_count(default: int) -> int:
    """How many kills a test makes: `default` (make test's time is kept under 12 minutes), or
    `PM_TEST_KILLS` for a deeper sweep (`PM_TEST_KILLS=40 .venv/bin/python -m pytest -m slow`)."""
    return int(os.environ.get("PM_TEST_KILLS") or default)


def kill_points(seed: int, total_writes: int, kills: int) -> list[int]:
    """`kills` points between the first and the last write, one in each of `kills` equal
    stretches of the run (at random within it): the whole run is covered with fewer kills
    than points drawn at random over all of it, which bunch up and leave gaps."""
    rng = random.Random(seed)
    span = (total_writes - 1) / kills
    return [1 + min(total_writes - 2, int((i + rng.random()) * span)) for i in range(kills)]


def fresh_docspace() -> EmulatorServer:
    emulator = DocSpaceEmulator(api_key=DOCSPACE_API_KEY)
    emulator.faults.latency(0.01)
    return EmulatorServer(emulator).start()


def forget_docspace_side(workspace: Path, source: str = "asana") -> None:
    staged_execute("DROP SCHEMA IF EXISTS docspace_state CASCADE")
    pipeline = workspace / ".dlt-data" / "pipelines" / f"{source}_docspace"
    shutil.rmtree(pipeline, ignore_errors=True)


def sync_killed_after(server: EmulatorServer, writes: int, source: str = "asana") -> None:
    """A sync in a process of its own, SIGKILLed once DocSpace has taken `writes` writes."""
    env = {
        **os.environ,
        "DESTINATION__DOCSPACE__BASE_URL": server.root_url,
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "pipelines" / f"{source}_to_docspace.py"), "--sync-only"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while (
        server.emulator.log.writes() < writes
        and proc.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
