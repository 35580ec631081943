"""`pipeline.run(data)` with a big load into the staging DuckDB in a process of its own.

DuckDB runs inside the process that loads. After the extract and normalize of 200,000 Asana
tasks that process holds ~290 MB (pyarrow, duckdb, dlt, the schema: live, not garbage, so
`malloc_trim` frees ~10 MB), and the load adds DuckDB's working memory on top: the peak
grew with the account (384 MB at 52,502 tasks, 556 MB at 210,002). A load started in a
fresh process begins at ~100 MB and, running one load job at a time under DuckDB's 128 MB,
stays below the normalize's peak: the run's peak is flat (~310 MB for Asana, ~230 MB for
Trello at 50,000 and 200,000; `python -m benchmarks asana_extract --memory-only`).

Everything else is dlt's own `run()`: destination state sync, pending packages first,
extract, normalize — only its load step is swapped for a child process (this module's
`_child`, same interpreter, working directory and environment) that opens the same pipeline
and calls `load()`. The parent keeps holding the run lock
(`pm_runtime.sync_lock`) meanwhile; the child opens the DuckDB file as every opener does
(waiting while it is locked). A failed load reaches the user as the same one `error:` line
(the child describes it with `pm_runtime.failures.describe_failure`), exit 1.

Small loads (an incremental run, a watcher's cycle: normalized files under
`OWN_PROCESS_FROM_BYTES`) stay in-process, so they pay no second start-up; so do loads into
PostgreSQL or MotherDuck (the server does the work). `PM_LOAD_IN_PROCESS=1` keeps every
load in-process. A load that ran here marks the run as big: the command line then syncs in a
fresh process too (`pipelines.fresh_sync`).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pm_runtime.errors import UserFacingError

IN_PROCESS_ENV = "PM_LOAD_IN_PROCESS"
WORKERS_ENV = "LOAD__WORKERS"  # dlt's `[load] workers`
TRACEBACK_ENV = "PM_LOAD_TRACEBACK"  # set for the child when the parent logs at DEBUG (-vv)
# ~15,000 Asana tasks of parquet: below, DuckDB's share of the load is a few tens of MB
OWN_PROCESS_FROM_BYTES = 4 * 1024 * 1024
# the child imports this package from where the parent has it, whatever the working directory
CHILD = (
    f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r}); "
    "from pm_runtime.load_phases import _child; from pm_runtime.lean_start import lean_exit; "
    "lean_exit(_child(*sys.argv[1:3]))"
)


class LoadFailed(UserFacingError):
    """The load step, run in a child process, failed; the message is the child's one line."""


@dataclass(frozen=True)
class ChildLoad:
    """What the load in a child process reported: dlt's LoadInfo as text, the child's peak RSS."""

    info: str
    peak_mb: float

    def __str__(self) -> str:
        return self.info


def run_pipeline(pipeline: Any, data: Any) -> Any:
    """`pipeline.run(data)`; its load step in a process of its own when it is big (see above).

    Returns dlt's LoadInfo, or a `ChildLoad` (printed as the LoadInfo) when the load ran there.
    """

    def load(
        destination: Any = None, dataset_name: Any = None, credentials: Any = None, **more: Any
    ) -> Any:
        if destination is not None or credentials is not None or more or not own_process(pipeline):
            return type(pipeline).load(pipeline, destination, dataset_name, credentials, **more)
        return load_in_child(pipeline.pipeline_name, dataset_name or pipeline.dataset_name)

    pipeline.load = load  # dlt's run() calls self.load(...): only that step moves
    try:
        return pipeline.run(data)
    finally:
        del pipeline.load


def load_in_child(pipeline_name: str, dataset_name: str) -> ChildLoad:
    """Loads the pipeline's normalized packages from a fresh process; raises LoadFailed."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, pipeline_name, dataset_name],
        stdout=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            IN_PROCESS_ENV: "1",
            # one load job at a time: each concurrent job holds its own read buffers outside
            # DuckDB's memory limit (Trello's 200,000 cards: 312 MB peak with dlt's 20, 239 with 1,
            # and the load is seconds either way next to minutes of extract)
            WORKERS_ENV: os.environ.get(WORKERS_ENV, "1"),
            TRACEBACK_ENV: "1" if logging.getLogger().isEnabledFor(logging.DEBUG) else "",
        },
    )
    lines = out.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except ValueError:
        answer = {}
    if out.returncode or "info" not in answer:
        said = answer.get("error") or f"the load step stopped (exit {out.returncode})"
        raise LoadFailed(said.strip())
    return ChildLoad(str(answer["info"]), float(answer.get("peak_mb", 0)))


def own_process(pipeline: Any) -> bool:
    """Whether this pipeline's pending load runs in a child process (see the module's doc)."""
    from pm_runtime.staging_database import configured_destination

    if os.environ.get(IN_PROCESS_ENV, "0").lower() in ("1", "true", "yes"):
        return False
    if configured_destination() != "duckdb":
        return False
    normalized = Path(pipeline.working_dir) / "load" / "normalized"
    size = sum(f.stat().st_size for f in normalized.rglob("*") if f.is_file())
    return size >= OWN_PROCESS_FROM_BYTES


def _peak_mb() -> float:
    """This process's peak RSS (VmHWM; Linux), 0 where /proc is not there."""
    try:
        with open("/proc/self/status") as status:
            hwm = next(line for line in status if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        return 0.0
    return int(hwm.split()[1]) / 1024


def _child(pipeline_name: str, dataset_name: str) -> int:
    import pm_runtime  # noqa: F401 - first: dlt starts lean (pm_runtime.lean_start)
    from pm_runtime.failures import describe_failure
    from pm_runtime.staging import staging_pipeline

    try:
        info = staging_pipeline(pipeline_name, dataset_name).load()
    except Exception as exc:  # the parent prints it as the one error line
        if os.environ.get(TRACEBACK_ENV):
            import traceback

            traceback.print_exc()  # -vv: the child's traceback on stderr
        print(json.dumps({"error": describe_failure(exc)}), flush=True)
        return 1
    print(json.dumps({"info": str(info), "peak_mb": _peak_mb()}), flush=True)
    return 0
