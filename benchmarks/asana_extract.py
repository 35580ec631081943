"""Benchmark: extracting Asana (100 projects × 100 tasks, 20 ms latency) into DuckDB.

Prints requests and wall time of a full and a no-op incremental run of our source, the
minimum number of requests Asana's paging allows for a complete read, and a naive
baseline measured in the same run: sequential, no `opt_fields` (compact records), one
`GET /tasks/{gid}` per task for its details and one subtask listing per task that has
subtasks, no incremental (its no-op run is another full run).

The baseline is measured on the first `--baseline-projects` projects (default 10) and
scaled linearly to all of them: at 20 ms a request, the full naive run alone would
take ~4 minutes. Pass `--baseline-projects 100` to measure it whole. The baseline runs
with the request-per-minute quota switched off (a naive client has no 429 handling and
would simply fail), so its time is a lower bound.

Memory: the load into DuckDB of `--memory-tasks` tasks (default 200,000; 0 skips it) runs
in a process of its own against the emulator in another process, beside the same load of
`--memory-baseline` tasks (default 50,000), and prints the peak RSS (VmHWM) of each phase —
extract, normalize, load (a big load runs in a child process, as the command line runs it:
`pm_runtime.load_phases`) — and CPU seconds per 10,000 tasks (benchmarks/phase_memory.py).
`--memory-before REF` measures the source as it was at git commit REF the same way,
against the same emulator, for the before/after figure (the source of REF is exported with
`git archive` into a temp dir).

    python -m benchmarks.asana_extract [--projects 100] [--tasks 100] [--latency 0.02]
        [--memory-tasks 200000] [--memory-baseline 50000] [--memory-before REF]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from benchmarks.emulator_process import EmulatorProcess
from sandbox import ASANA_TOKEN, EmulatorServer
from sandbox.asana import AsanaEmulator
from sandbox.asana_sample import populate_asana

MAX_REQUEST_RATIO = 1.2
MIN_SPEEDUP = 5.0
MAX_EXTRACT_MB = 400
MAX_GROWTH = 0.10  # peak RSS from the baseline account to the big one
ROOT = Path(__file__).resolve().parents[1]


def minimum_requests(em: AsanaEmulator) -> int:
    """Every listing once at limit=100: workspaces, the four workspace listings, projects,
    then per project its sections and tasks, and one subtask listing per parent task."""
    with em.lock:
        workspaces = em.live("workspace")
        total = len(workspaces)
        parents: set[str] = set()
        for ws in workspaces:
            total += 4  # users, teams, tags, custom fields (each under 100 items here)
            projects = em.live(f"projects:{ws.gid}")
            total += max(1, math.ceil(len(projects) / 100))
            for p in projects:
                total += max(1, math.ceil(len(em.live(f"sections:{p.gid}")) / 100))
                total += max(1, math.ceil(len(em.live(f"tasks:{p.gid}")) / 100))
        for task in em.live("task"):
            if em.live(f"subtasks:{task.gid}"):
                parents.add(task.gid)
        return total + len(parents)


def our_runs(em: AsanaEmulator, workdir: str) -> list[dict[str, Any]]:
    from asana_source import asana_source
    from pm_runtime.staging import staging_pipeline

    os.environ["DLT_DATA_DIR"] = os.path.join(workdir, ".dlt-data")
    os.environ["DESTINATION__DUCKDB__CREDENTIALS"] = os.path.join(workdir, "asana.duckdb")
    os.environ["SOURCES__ASANA__ACCESS_TOKEN"] = ASANA_TOKEN
    os.environ["SOURCES__ASANA__BASE_URL"] = em.base_url
    pipeline = staging_pipeline("asana", "asana_data")
    out = []
    for label in ("full load", "no-op incremental"):
        em.log.clear()
        started = time.perf_counter()
        pipeline.run(asana_source())
        seconds = time.perf_counter() - started
        info = pipeline.last_trace.last_normalize_info
        rows = info.row_counts.get("tasks", 0) if info else 0
        out.append({"label": label, "requests": len(em.log), "seconds": seconds, "task_rows": rows})
    return out


def naive_run(em: AsanaEmulator, projects: int) -> dict[str, Any]:
    """What the simple scripts do: compact lists, then one call per task."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ASANA_TOKEN}"
    base = em.base_url
    em.log.clear()
    started = time.perf_counter()

    def listing(path: str, **params: Any) -> list[dict[str, Any]]:
        items, offset = [], None
        while True:
            query = {**params, "limit": 100, **({"offset": offset} if offset else {})}
            body = session.get(base + path, params=query, timeout=60).json()
            items += body["data"]
            if not body.get("next_page"):
                return items
            offset = body["next_page"]["offset"]

    def details(gid: str) -> None:
        task = session.get(f"{base}/tasks/{gid}", timeout=60).json()["data"]
        if task["num_subtasks"]:
            for sub in listing(f"/tasks/{gid}/subtasks"):
                details(sub["gid"])

    for ws in listing("/workspaces"):
        for path in ("users", "teams", "tags", "custom_fields"):
            listing(f"/workspaces/{ws['gid']}/{path}")
        for project in listing("/projects", workspace=ws["gid"])[:projects]:
            session.get(f"{base}/projects/{project['gid']}", timeout=60)
            listing(f"/projects/{project['gid']}/sections")
            for task in listing(f"/projects/{project['gid']}/tasks"):
                details(task["gid"])
    return {"requests": len(em.log), "seconds": time.perf_counter() - started}


# -- memory: the extract in a process of its own, the emulator in another ----------------------


def serve_emulator(projects: int, tasks: int) -> None:
    """Child process: build the sample, serve it, print its URL, serve until stdin closes."""
    em = AsanaEmulator(seed=0, token=ASANA_TOKEN)
    em.limits.requests_per_window = None  # the memory figure is about the extract, not pacing
    populate_asana(em, projects=projects, tasks_per_project=tasks, seed=0)
    with EmulatorServer(em):
        print(json.dumps({"base_url": em.base_url, "tasks": len(em.live("task"))}), flush=True)
        sys.stdin.read()


class AsanaServer(EmulatorProcess):
    """`benchmarks.asana_extract --serve-emulator`: the sample of `tasks` tasks, quota off."""

    def __init__(self, tasks: int) -> None:
        projects = max(1, tasks // 100)
        super().__init__(
            "benchmarks.asana_extract",
            "--projects",
            str(projects),
            "--tasks",
            str(tasks // projects),
        )
        self.tasks = int(self.info["tasks"])

    @property
    def source_env(self) -> dict[str, str]:
        """The Asana source's settings for this emulator, as environment variables."""
        return {
            "SOURCES__ASANA__ACCESS_TOKEN": ASANA_TOKEN,
            "SOURCES__ASANA__BASE_URL": self.base_url,
        }


def extract_memory(root: Path, server: AsanaServer, workdir: str) -> dict[str, Any]:
    from benchmarks.phase_memory import phase_peaks

    return phase_peaks(root, "asana_source:asana_source", workdir, server.source_env)


def export_ref(ref: str, into: str) -> Path:
    """The source packages as they were at `ref` (for the before-figure)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "asana_source", "pm_runtime"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return Path(into)


def measure_size(tasks_total: int, before: str | None) -> tuple[int, list[tuple[str, dict]]]:
    """Serve `tasks_total` tasks from an emulator process; load them into DuckDB from a
    fresh process per source version (each phase's peak apart). Returns (tasks, runs)."""
    server = AsanaServer(tasks_total)
    runs: list[tuple[str, dict]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="asana-mem-") as tmp:
            versions = [("now", ROOT)]
            if before:
                os.makedirs(os.path.join(tmp, "before"))
                versions.insert(0, (f"before ({before})", export_ref(before, f"{tmp}/before")))
            for label, root in versions:
                workdir = os.path.join(tmp, f"run-{len(runs)}")
                os.makedirs(workdir)
                runs.append((label, extract_memory(root, server, workdir)))
    finally:
        server.stop()
    return server.tasks, runs


def memory_figures(tasks_total: int, before: str | None, baseline: int) -> None:
    """Peak RSS of extract, normalize and load at `baseline` tasks and at `tasks_total`:
    flat memory means the bigger account costs (almost) no more."""
    from benchmarks.phase_memory import PHASES

    sizes = [n for n in (baseline, tasks_total) if n]
    measured = [measure_size(n, before if n == tasks_total else None) for n in sizes]
    print(
        "\nload into DuckDB in a process of its own (each phase's peak RSS apart; a big load in a"
        " process of its own, as the command line runs it); emulator in another"
    )
    header = "".join(f"{p + ' MB':>12}" for p in PHASES)
    print(f"{'tasks':>9}  {'source':<22}{header}{'CPU s / 10k tasks':>19}{'wall s':>9}")
    for tasks, runs in measured:
        for label, r in runs:
            cells = "".join(f"{r['phases'][p]:>12.0f}" for p in PHASES)
            cpu = r["cpu_s"] / (tasks / 10_000)
            print(f"{tasks:>9,}  {label:<22}{cells}{cpu:>19.2f}{r['seconds']:>9.1f}")
    peak = measured[-1][1][-1][1]["peak_mb"]
    print(
        f"peak RSS at {measured[-1][0]:,} tasks: {peak:.0f} MB (≤ {MAX_EXTRACT_MB} MB) "
        f"{'PASS' if peak <= MAX_EXTRACT_MB else 'FAIL'}"
    )
    if len(measured) == 2:
        small = measured[0][1][-1][1]["peak_mb"]
        growth = peak / small - 1
        print(
            f"peak growth from {measured[0][0]:,} to {measured[-1][0]:,} tasks: {growth:+.1%} "
            f"(≤ +{MAX_GROWTH:.0%}) {'PASS' if growth <= MAX_GROWTH else 'FAIL'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.asana_extract", description=__doc__)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--baseline-projects", type=int, default=10)
    parser.add_argument("--memory-tasks", type=int, default=200_000)
    parser.add_argument("--memory-baseline", type=int, default=50_000)
    parser.add_argument("--memory-before", metavar="REF", default=None)
    parser.add_argument("--memory-only", action="store_true")
    parser.add_argument("--serve-emulator", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    if args.serve_emulator:
        serve_emulator(args.projects, args.tasks)
        return 0
    if args.memory_only:
        memory_figures(args.memory_tasks, args.memory_before, args.memory_baseline)
        return 0

    em = AsanaEmulator(seed=0, token=ASANA_TOKEN)
    t0 = time.perf_counter()
    populate_asana(em, projects=args.projects, tasks_per_project=args.tasks, seed=0)
    print(
        f"sandbox: {args.projects} projects × {args.tasks} tasks "
        f"({len(em.live('task'))} tasks incl. subtasks), built in {time.perf_counter() - t0:.1f}s; "
        f"{args.latency * 1000:.0f} ms latency per request"
    )
    em.faults.latency(args.latency)
    minimum = minimum_requests(em)
    with EmulatorServer(em), tempfile.TemporaryDirectory(prefix="asana-bench-") as workdir:
        full, noop = our_runs(em, workdir)
        em.limits.requests_per_window = None
        sample = max(1, min(args.baseline_projects, args.projects))
        naive = naive_run(em, sample)
    scale = args.projects / sample
    naive_requests = round(naive["requests"] * scale)
    naive_seconds = naive["seconds"] * scale
    note = "" if scale == 1 else f" (measured on {sample} projects, ×{scale:g})"

    print()
    print(f"{'run':<46}{'requests':>10}{'wall s':>10}{'task rows':>11}")
    print(f"{'minimum Asana paging allows':<46}{minimum:>10}{'':>10}{'':>11}")
    for r in (full, noop):
        print(
            f"{'ours: ' + r['label']:<46}{r['requests']:>10}{r['seconds']:>10.2f}{r['task_rows']:>11}"
        )
    print(f"{'naive: full load' + note:<46}{naive_requests:>10}{naive_seconds:>10.2f}{'':>11}")
    print(
        f"{'naive: no-op (another full load)':<46}{naive_requests:>10}{naive_seconds:>10.2f}{'':>11}"
    )
    print()
    ratio = full["requests"] / minimum
    speedup = naive_seconds / full["seconds"]
    print(
        f"full load requests / minimum: {ratio:.2f} (≤ {MAX_REQUEST_RATIO}) "
        f"{'PASS' if ratio <= MAX_REQUEST_RATIO else 'FAIL'}"
    )
    print(
        f"speed-up over naive baseline: {speedup:.1f}× (≥ {MIN_SPEEDUP:g}×) "
        f"{'PASS' if speedup >= MIN_SPEEDUP else 'FAIL'}"
    )
    print(
        f"no-op run: {noop['requests']} requests ({args.projects} events calls + fixed listings), "
        f"{noop['task_rows']} task rows"
    )
    if args.memory_tasks:
        memory_figures(args.memory_tasks, args.memory_before, args.memory_baseline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
