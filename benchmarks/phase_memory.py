"""Peak RSS of each phase of a load (extract, normalize, load) in a process of its own.

The child imports the source from `root` (the working tree, or an exported older commit),
runs `pipeline.extract(source())` (file formats fitted as the command line does), `normalize()`, `load()`, resetting the peak (VmHWM)
before each, and prints the three peaks, its CPU seconds and wall time as JSON. A big load runs
in a process of its own, as the command line runs it (`pm_runtime.load_phases`): the load's
peak is then the higher of the two processes' (CPU seconds count both).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PHASES = ("extract", "normalize", "load")

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
import pm_runtime  # first, as the command line imports it: dlt starts without its dashboard plugin
from {module} import {function} as make_source
from pm_runtime.staging import staging_pipeline
try:
    from pm_runtime.staging import fit_file_formats
except ImportError:  # an older commit (--memory-before)
    fit_file_formats = lambda pipeline, source: source
try:  # as the command line does: a big load into DuckDB in a process of its own
    from pm_runtime.load_phases import load_in_child, own_process
except ImportError:  # an older commit
    own_process = lambda pipeline: False


def peak_mb():
    # VmHWM is this process's own peak; ru_maxrss would include the parent's size from before exec
    hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
    return int(hwm) / 1024


def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:  # "5" resets VmHWM to the current RSS
        f.write("5")


pipeline = staging_pipeline({pipeline!r}, {dataset!r})
t0 = time.perf_counter()
phases = {{}}
load_where = "in-process"
for phase in {phases!r}:
    reset_peak()
    child_mb = 0
    if phase == "extract":
        pipeline.extract(fit_file_formats(pipeline, make_source()))  # as the command line does
    elif phase == "load" and own_process(pipeline):
        child_mb = load_in_child(pipeline.pipeline_name, pipeline.dataset_name).peak_mb
        load_where = "own process"
    else:
        getattr(pipeline, phase)()
    phases[phase] = max(peak_mb(), child_mb)
usage = resource.getrusage(resource.RUSAGE_SELF)
children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the load's own process
print(json.dumps({{"peak_mb": max(phases.values()), "phases": phases, "load_in": load_where,
                  "cpu_s": usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime,
                  "seconds": time.perf_counter() - t0}}))
"""


def phase_peaks(
    root: Path,
    source: str,
    workdir: str,
    env: dict[str, str],
    phases: tuple[str, ...] = PHASES,
) -> dict[str, Any]:
    """`source` is "module:function", e.g. "trello_source:trello_source"; its pipeline and
    dataset are named after the module ("trello", "trello_data")."""
    module, function = source.split(":")
    name = module.removesuffix("_source")
    script = CHILD.format(
        root=str(root),
        module=module,
        function=function,
        pipeline=name,
        dataset=f"{name}_data",
        phases=list(phases),
    )
    child_env = {
        **os.environ,
        **env,
        "DLT_DATA_DIR": os.path.join(workdir, ".dlt-data"),
        "DESTINATION__DUCKDB__CREDENTIALS": os.path.join(workdir, f"{name}.duckdb"),
        "RUNTIME__LOG_LEVEL": "ERROR",
    }
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=child_env, cwd=workdir
    )
    if out.returncode:
        raise RuntimeError(f"{source} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
