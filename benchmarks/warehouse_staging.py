"""Benchmark: the same scenarios with the staging in PostgreSQL beside DuckDB, in one run.

- the 50 × 40 apply of `docspace_apply` (20 ms DocSpace latency, 15 concurrent writes): the first
  sync and the no-op re-sync;
- the 100 × 100 extract of `asana_extract` (20 ms Asana latency): the full load and the no-op
  incremental run.

PostgreSQL is a real server (Debian's package) started in a temporary directory for the run;
the figures are seconds per scenario and the PostgreSQL / DuckDB ratio.

    python -m benchmarks.warehouse_staging [--projects 50] [--tasks 40] [--extract-projects 100]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import Any

from sandbox import ASANA_TOKEN, EmulatorServer
from sandbox.asana import AsanaEmulator
from sandbox.asana_sample import populate_asana
from sandbox.postgres_server import start_server

STAGINGS = ("duckdb", "postgres")


def _use(staging: str, workdir: Path, postgres_url: str | None) -> None:
    os.environ["DLT_DATA_DIR"] = str(workdir / "dlt")
    os.environ["DESTINATION__DUCKDB__CREDENTIALS"] = str(workdir / "pm.duckdb")
    if staging == "postgres":
        os.environ["STAGING__DESTINATION"] = "postgres"
        os.environ["DESTINATION__POSTGRES__CREDENTIALS"] = str(postgres_url)
    else:
        os.environ.pop("STAGING__DESTINATION", None)


def apply_figures(
    staging: str, workdir: Path, url: str | None, projects: int, tasks: int
) -> dict[str, Any]:
    from benchmarks.docspace_apply import ours

    _use(staging, workdir, url)
    return ours(projects, tasks)


def extract_figures(
    staging: str, workdir: Path, url: str | None, projects: int, tasks: int, latency: float
) -> list[dict[str, Any]]:
    from benchmarks.asana_extract import our_runs

    em = AsanaEmulator(seed=0, token=ASANA_TOKEN)
    populate_asana(em, projects=projects, tasks_per_project=tasks, seed=0)
    em.faults.latency(latency)
    with EmulatorServer(em):
        _use(staging, workdir, url)
        # our_runs names its own DuckDB file; for PostgreSQL the staging variable wins
        return our_runs(em, str(workdir))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.warehouse_staging", description=__doc__
    )
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--extract-projects", type=int, default=100)
    parser.add_argument("--extract-tasks", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"

    server = start_server()
    if server is None:
        print("PostgreSQL is not installed (apt-get install postgresql): nothing to compare")
        return 1
    here = os.getcwd()
    results: dict[str, dict[str, Any]] = {}
    try:
        for staging in STAGINGS:
            url = server.create_database() if staging == "postgres" else None
            with tempfile.TemporaryDirectory(prefix=f"wh-{staging}-") as tmp:
                os.chdir(tmp)
                applied = apply_figures(
                    staging, Path(tmp) / "apply", url, args.projects, args.tasks
                )
            url = server.create_database() if staging == "postgres" else None
            with tempfile.TemporaryDirectory(prefix=f"wh-{staging}-") as tmp:
                os.chdir(tmp)
                full, noop = extract_figures(
                    staging, Path(tmp), url, args.extract_projects, args.extract_tasks, args.latency
                )
            results[staging] = {"apply": applied, "full": full, "noop": noop}
    finally:
        os.chdir(here)
        server.stop()

    d, p = results["duckdb"], results["postgres"]
    rows = [
        (f"apply {args.projects}×{args.tasks}: first sync", "apply", "seconds"),
        (f"apply {args.projects}×{args.tasks}: the apply alone", "apply", "apply_seconds"),
        (f"apply {args.projects}×{args.tasks}: no-op re-sync", "apply", "noop_seconds"),
        (f"extract {args.extract_projects}×{args.extract_tasks}: full load", "full", "seconds"),
        (f"extract {args.extract_projects}×{args.extract_tasks}: no-op run", "noop", "seconds"),
    ]
    print(f"\n  {'scenario (seconds)':<40}{'DuckDB':>9}{'PostgreSQL':>12}{'PG/DuckDB':>11}")
    for label, group, key in rows:
        a, b = float(d[group][key]), float(p[group][key])
        print(f"  {label:<40}{a:>9.2f}{b:>12.2f}{b / a:>10.2f}×")
    print(
        f"  writes: DuckDB {d['apply']['writes']:.0f} / PostgreSQL {p['apply']['writes']:.0f}; "
        f"no-op writes {d['apply']['noop_writes']:.0f} / {p['apply']['noop_writes']:.0f}; "
        f"extract requests {d['full']['requests']} / {p['full']['requests']}, "
        f"no-op task rows {d['noop']['task_rows']} / {p['noop']['task_rows']}"
    )
    same = (
        d["apply"]["writes"] == p["apply"]["writes"]
        and p["apply"]["noop_writes"] == 0
        and d["full"]["requests"] == p["full"]["requests"]
        and p["noop"]["task_rows"] == 0
    )
    print(f"  same writes and requests on both, nothing re-done: {'PASS' if same else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
