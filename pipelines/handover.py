"""`--sandbox`: hand the command line over to `python -m sandbox demo` in a child process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]


def hand_over_to_sandbox(source: str, argv: list[str]) -> int:
    """`--sandbox`: the same command line, run by `python -m sandbox demo` in a child process.

    The product never imports the emulators; the child shares this terminal (stdout/stderr)
    and its exit code is ours. SIGTERM is passed on; so is SIGINT unless the terminal already
    sent Ctrl-C to the child (it is in the terminal's foreground process group with us).
    """
    sys.stdout.flush()
    child = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "demo", source, *argv], env=project_environment()
    )

    def pass_on(signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and _in_foreground():
            return
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, pass_on)
    while True:
        with contextlib.suppress(InterruptedError):
            return child.wait()


def project_environment() -> dict[str, str]:
    """This process's environment, in which `python -m <package of this project>` finds the
    project's packages from any working directory."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_DIR), env.get("PYTHONPATH")]))
    return env


def _in_foreground() -> bool:
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError):
        return False
