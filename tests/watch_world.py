"""Test harness for `--watch`: the real entry point in a subprocess, the emulators in this one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]


class Watcher:
    """`python pipelines/<source>_to_docspace.py --watch ...`, its output collected line by line."""

    def __init__(self, workspace: Path, env: dict[str, str], source: str, *args: str) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "pipelines" / f"{source}_to_docspace.py"),
                "--watch",
                *args,
            ],
            cwd=workspace,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, ""):
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the reader drain
                raise AssertionError(
                    f"watcher exited ({self.proc.returncode}) before {what}:\n{self.output}"
                )
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output[-3000:]}")

    def wait_for_line(self, text: str, timeout: float = 30.0) -> str:
        return self.wait_for(
            lambda: next((x for x in self.lines if text in x), None), timeout, repr(text)
        )

    def signal(self, sig: int = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)

    def exit_code(self, timeout: float = 15.0) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(5)
        return code

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)


def watch_env(workspace: Path, sandbox_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update(sandbox_env)
    env["DESTINATION__DUCKDB__CREDENTIALS"] = str(workspace / "pm.duckdb")
    env["DLT_DATA_DIR"] = str(workspace / ".dlt-data")
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def folder_titles(docspace: Any) -> set[str]:
    """Every folder title anywhere in DocSpace."""
    titles: set[str] = set()
    stack = [r.id for r in docspace.rooms("any")]
    while stack:
        for child in docspace.folders(stack.pop()):
            titles.add(child.title)
            stack.append(child.id)
    return titles


def load_packages(workspace: Path, pipeline: str) -> int:
    loaded = workspace / ".dlt-data" / "pipelines" / pipeline / "load" / "loaded"
    return len(list(loaded.iterdir())) if loaded.exists() else 0


def run_rows(workspace: Path) -> int:
    """Rows of the run log; -1 while the watcher holds the file."""
    try:
        con = duckdb.connect(str(workspace / "pm.duckdb"), read_only=True)
    except duckdb.IOException:
        return -1
    try:
        return con.execute("SELECT count(*) FROM docspace_state.runs").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
