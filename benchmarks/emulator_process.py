"""A source emulator served by a process of its own (`python -m benchmarks.<name> --serve-emulator`).

The child builds its sample, prints one JSON line (its `base_url` and what it holds) and serves
until its stdin closes, so a benchmark's own process never shares a GIL or memory with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class EmulatorProcess:
    """The child process; `info` is the JSON line it printed once serving."""

    def __init__(self, module: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, "--serve-emulator", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.info: dict[str, Any] = json.loads(self.proc.stdout.readline())  # type: ignore[union-attr]
        self.base_url = str(self.info["base_url"])

    def stop(self) -> None:
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.proc.wait(timeout=60)
