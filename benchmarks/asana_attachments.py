"""Benchmark: staging Asana attachments (100 projects × 100 tasks, 20 ms latency).

Prints, for the source with `attachments = true`, the HTTP requests and the Asana
rate-limit units (a batch of 10 listings counts 10, as Asana counts it) of a first run,
a no-change run and a run after one attachment was added; beside them, measured in the
same run, the source with attachments off (what attachments add) and the plain loop of one
`GET /attachments?parent=` per task (on `--baseline-tasks` tasks, scaled).

The emulator's per-minute quota is off here, so wall times are lower bounds: the rate
limit, not latency, bounds a real first run — the printed "minutes at N/min" are the
rate-limit units divided by Asana's quota (150/min free, 1,500/min paid).

    python -m benchmarks.asana_attachments [--projects 100] [--tasks 100] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any

import requests

from sandbox import ASANA_TOKEN, EmulatorServer
from sandbox.asana import AsanaEmulator
from sandbox.asana_sample import populate_asana

BATCH = 10


def run_source(em: AsanaEmulator, workdir: str, attachments: bool, label: str) -> dict[str, Any]:
    from asana_source import asana_source
    from pm_runtime.staging import staging_pipeline

    os.environ["DLT_DATA_DIR"] = os.path.join(workdir, ".dlt-data")
    os.environ["DESTINATION__DUCKDB__CREDENTIALS"] = os.path.join(workdir, "asana.duckdb")
    os.environ["SOURCES__ASANA__ATTACHMENTS"] = "true" if attachments else "false"
    em.log.clear()
    started = time.perf_counter()
    staging_pipeline("asana", "asana_data").run(asana_source())
    seconds = time.perf_counter() - started
    entries = em.log.entries
    http = sum(1 for e in entries if e.outcome != "batched")
    batched = sum(1 for e in entries if e.outcome == "batched")
    listings = sum(1 for e in entries if e.route == "/attachments")
    # a batch POST costs nothing itself: its actions do (specs/asana_oas.yaml, Batch API)
    units = http - sum(1 for e in entries if e.route == "/batch") + batched
    return {"label": label, "http": http, "units": units, "listings": listings, "s": seconds}


def plain_loop(em: AsanaEmulator, tasks: list[str]) -> dict[str, Any]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ASANA_TOKEN}"
    started = time.perf_counter()
    for gid in tasks:
        session.get(
            f"{em.base_url}/attachments",
            params={"parent": gid, "limit": 100, "opt_fields": "name,host,size,created_at"},
            timeout=30,
        ).raise_for_status()
    return {"requests": len(tasks), "s": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.asana_attachments")
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--baseline-tasks", type=int, default=500)
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ["SOURCES__ASANA__ACCESS_TOKEN"] = ASANA_TOKEN

    em = AsanaEmulator(seed=0, token=ASANA_TOKEN)
    sample = populate_asana(em, projects=args.projects, tasks_per_project=args.tasks)
    tasks = sample.all_tasks
    for i, gid in enumerate(tasks[::10]):  # one task in ten has a file
        em.add_file_attachment(gid, f"file-{i}.pdf", 10_000 + i)
    em.limits.requests_per_window = None  # see the docstring: times are lower bounds
    em.faults.latency(args.latency)
    print(
        f"sandbox: {len(tasks):,} tasks ({args.projects} projects × {args.tasks} + subtasks), "
        f"{len(tasks[::10]):,} attachments, {args.latency * 1000:.0f} ms latency"
    )
    rows = []
    with EmulatorServer(em), tempfile.TemporaryDirectory(prefix="att-bench-") as tmp:
        os.environ["SOURCES__ASANA__BASE_URL"] = em.base_url
        off = os.path.join(tmp, "off")
        rows.append(run_source(em, off, False, "attachments off: first run"))
        rows.append(run_source(em, off, False, "attachments off: no change"))
        on = os.path.join(tmp, "on")
        rows.append(run_source(em, on, True, "attachments on: first run"))
        rows.append(run_source(em, on, True, "attachments on: no change"))
        em.add_file_attachment(tasks[5], "late.pdf", 1_000)
        rows.append(run_source(em, on, True, "attachments on: one file added"))
        part = tasks[: args.baseline_tasks]
        loop = plain_loop(em, part)
    scale = len(tasks) / len(part)

    print(f"\n{'run':<40}{'HTTP req':>10}{'rate units':>12}{'listings':>10}{'wall s':>9}")
    for r in rows:
        print(f"{r['label']:<40}{r['http']:>10}{r['units']:>12}{r['listings']:>10}{r['s']:>9.1f}")
    plain = round(loop["requests"] * scale)
    print(
        f"{'plain loop, one GET per task (scaled)':<40}{plain:>10}{plain:>12}{plain:>10}"
        f"{loop['s'] * scale:>9.1f}"
    )
    first, off_first = rows[2], rows[0]
    added = first["units"] - off_first["units"]
    print(
        f"\nfirst run: attachments add {first['http'] - off_first['http']:,} HTTP requests "
        f"({first['listings']:,} listings in batches of {BATCH}) and {added:,} rate-limit units; "
        f"at least {first['units'] / 1500:.1f} min at 1,500/min (paid), "
        f"{first['units'] / 150:.0f} min at 150/min (free)"
    )
    print(
        f"no-change run: {rows[3]['listings']} listings (goal 0) "
        f"{'PASS' if rows[3]['listings'] == 0 else 'FAIL'}; "
        f"one file added: {rows[4]['listings']} listing(s) (goal 1) "
        f"{'PASS' if rows[4]['listings'] == 1 else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
