"""Test helper: `make demo` in a fresh copy of the project, and the commands it prints, run as printed.

The copy links the project's files into a temporary directory (its own `data/`, its own
dlt state), so the printed relative paths (.venv/bin/python, data/sandbox/...) resolve
exactly as in a clone, without touching the working tree's data.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
LINKED = [
    ".dlt",
    ".venv",
    "Makefile",
    "pyproject.toml",
    "requirements.txt",
    "requirements-dev.txt",
    "asana_source",
    "trello_source",
    "docspace_destination",
    "pipelines",
    "pm_runtime",
    "sandbox",
]
_URL = re.compile(r"URL: (http://[\w.]+:\d+)")
# The xdist group of the tests that read what the demo left or serve a dashboard: one worker runs
# them all, so the demo is made once (conftest's session-scoped `demo`) and the project of
# test_readme_commands once, and two dashboards never start at once (marimo probes for a port).
DEMO_GROUP = "demo"


@dataclass
class Demo:
    root: Path
    output: str

    def next_steps(self) -> list[str]:
        """The commands printed after "Next, ...", in order."""
        tail = self.output[self.output.index("\nNext, ") :]
        return [line.strip() for line in tail.splitlines() if line.startswith("  ")]

    def loaded(self) -> dict[str, int]:
        """{table: rows} from the demo's "Asana → DuckDB (asana_data): tasks 70, ..." line."""
        line = next(ln for ln in self.output.splitlines() if ln.startswith("Asana → DuckDB"))
        return {t: int(n) for t, n in re.findall(r"(\w+) (\d+)", line.split(": ", 1)[1])}

    def environment(self) -> dict[str, str]:
        """Where the demo left dlt's pipelines and the staging database."""
        return {
            "DLT_DATA_DIR": str(self.root / "data" / "sandbox" / "dlt"),
            "DESTINATION__DUCKDB__CREDENTIALS": str(self.root / "data" / "sandbox" / "pm.duckdb"),
        }


def _clean_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a new shell: nothing of this test run's dlt settings (but `extra`)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOURCES__", "DESTINATION__", "STAGING__"))
        and k not in ("DLT_DATA_DIR", "PYTHONPATH")
    }
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    env["BROWSER"] = "true"  # `show` must not try to open a browser window
    return {**env, **(extra or {})}


def clone_project(into: Path) -> Path:
    """A directory that looks like a fresh clone with `make install` done (the venv is shared)."""
    into.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        (into / name).symlink_to(ROOT / name)
    return into


def run_demo(into: Path) -> Demo:
    clone_project(into)
    done = subprocess.run(
        [".venv/bin/python", "pipelines/asana_to_docspace.py", "--sandbox"],
        cwd=into,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return Demo(into, done.stdout)


def run_as_printed(
    root: Path, command: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """`command` pasted into a shell in the project directory `root` (`env`: the user's exports).

    Run in its own session, so a command that hangs is stopped with everything it started.
    """
    proc = subprocess.Popen(
        ["bash", "-c", command],
        cwd=root,
        env=_clean_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(proc)
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@contextlib.contextmanager
def dashboard(
    root: Path, command: str, env: dict[str, str] | None = None, timeout: float = 180
) -> Iterator[str]:
    """Start a printed `show` command; yield the dashboard's URL once it answers; stop it after.

    marimo picks a free port by probing, so two dashboards starting at once can collide and one
    exits: that start is retried.
    """
    for attempt in range(3):
        proc, output = _start(root, command, env)
        try:
            url = _wait_for_dashboard(proc, output, timeout)
            if url is None and attempt < 2:
                continue  # it exited before serving: a port collision, start again
            assert url is not None, "the dashboard stopped:\n" + "".join(output)[-3000:]
            yield url
            return
        finally:
            _stop(proc)


def _start(root: Path, command: str, env: dict[str, str] | None) -> tuple[subprocess.Popen, list]:
    proc = subprocess.Popen(
        ["bash", "-c", command],
        cwd=root,
        env=_clean_environment(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # marimo runs under make/dlt: stop the whole group
    )
    output: list[str] = []
    threading.Thread(
        target=lambda: output.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    ).start()
    return proc, output


def _wait_for_dashboard(proc: subprocess.Popen, output: list[str], timeout: float) -> str | None:
    """The URL once it answers 200; None if the process exits first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        assert time.monotonic() < deadline, "no dashboard:\n" + "".join(output)[-3000:]
        found = _URL.search("".join(output))
        if found:
            with contextlib.suppress(requests.RequestException):
                if requests.get(found.group(1), timeout=10).status_code == 200:
                    return found.group(1)
        time.sleep(0.5)
    return None


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
