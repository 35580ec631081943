"""Asana → DuckDB → ONLYOFFICE DocSpace. `--help` explains every flag."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.command import main  # noqa: E402
from pm_runtime.lean_start import lean_exit  # noqa: E402

if __name__ == "__main__":
    lean_exit(main("asana"))
