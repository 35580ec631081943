"""`dlt pipeline asana info` and `dlt pipeline asana show` work after a run of the source."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from sandbox.asana_sample import populate_asana
from tests.asana_world import AsanaWorld

DLT = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "dlt")


@pytest.fixture
def after_a_run(workspace: Path, asana_service: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    world = AsanaWorld(asana_service, populate_asana(asana_service.emulator, 2, 4), monkeypatch)
    world.run()
    return workspace


def test_dlt_pipeline_info_describes_the_asana_pipeline(after_a_run: Path) -> None:
    done = subprocess.run(
        [DLT, "pipeline", "asana", "info"],
        cwd=after_a_run,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "asana_data" in done.stdout and "tasks" in done.stdout


@pytest.mark.xdist_group("dashboard")  # marimo picks its port racily: one dashboard at a time
def test_dlt_pipeline_show_serves_its_dashboard(after_a_run: Path) -> None:
    # `dlt` starts `marimo` by name: the venv's bin must be on PATH; no browser to open
    env = {
        **os.environ,
        "BROWSER": "true",
        "PATH": f"{Path(DLT).parent}{os.pathsep}{os.environ['PATH']}",
    }
    proc = subprocess.Popen(
        [DLT, "pipeline", "asana", "show"],
        cwd=after_a_run,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    reader = threading.Thread(
        target=lambda: output.extend(iter(proc.stdout.readline, "")), daemon=True
    )
    reader.start()
    try:
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline and status != 200 and proc.poll() is None:
            time.sleep(0.5)
            found = re.search(r"http://[\w.]+:(\d+)", "".join(output))
            if found:
                try:
                    status = requests.get(
                        f"http://127.0.0.1:{found.group(1)}/", timeout=5
                    ).status_code
                except requests.ConnectionError:
                    continue
        assert status == 200, "".join(output)[-2000:]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
