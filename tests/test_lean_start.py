"""A sync process does not load what it does not use: dlt's dashboard plugin, pandas, ibis.

Checked in a fresh interpreter (the test process itself may have loaded anything), importing
what a sync imports, in the order the command line does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNUSED = ["dlthub", "dlt_runtime", "pandas", "ibis", "marimo"]

SYNC_IMPORTS = """
import json, sys
import pipelines.command
from asana_source import asana_source
from trello_source import trello_source
from docspace_destination.sync import Sync
from pm_runtime.staging import staging_pipeline
import dlt
dlt.pipeline("lean_start_probe", destination="duckdb")  # dlt's plugin manager starts here
print(json.dumps(sorted({m.split(".")[0] for m, v in sys.modules.items() if v is not None})))
"""


def loaded_by_a_sync(tmp_path: Path, **env: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", SYNC_IMPORTS],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DLT_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_a_sync_process_loads_neither_the_dashboard_plugin_nor_pandas_nor_ibis(
    tmp_path: Path,
) -> None:
    assert loaded_by_a_sync(tmp_path) & set(UNUSED) == set()


def test_pm_lean_start_0_leaves_dlt_as_installed(tmp_path: Path) -> None:
    assert "dlthub" in loaded_by_a_sync(tmp_path, PM_LEAN_START="0")
