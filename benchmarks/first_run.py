"""Benchmark: DocSpace writes of a first run where 80% of the projects are already archived.

A team switching to this tool brings years of finished projects. With
`archived_projects = "mirror"` each gets a room, its folders and an archive call; with
the default `"skip"` none of that is written. Both runs start from an empty DocSpace and
are measured in the same process; a third run shows the migration case (the active
projects' rooms and folders already made by a sample-style script): only marker tags.

    python -m benchmarks.first_run [--projects 100] [--tasks 20] [--archived 0.8]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

DAILY_WRITES = 10_000  # DocSpace's POST+PUT limit per user and day


def stage(projects: int, tasks: int, archived_share: float) -> list[tuple[str, bool, list[str]]]:
    """Asana-shaped rows in the staging DuckDB; returns (name, archived, task names) per project."""
    import dlt

    from pm_runtime.staging import staging_pipeline

    archived_count = round(projects * archived_share)
    plan = [
        (f"Project {p}", p < archived_count, [f"Task {t} of {p}" for t in range(tasks)])
        for p in range(projects)
    ]
    rows_p = [
        {"gid": str(1000 + p), "name": name, "archived": archived, "is_deleted": False}
        for p, (name, archived, _) in enumerate(plan)
    ]
    rows_t = [
        {
            "gid": str(10_000_000 + p * tasks + t),
            "name": task,
            "is_deleted": False,
            "memberships": [{"project": {"gid": str(1000 + p)}}],
        }
        for p, (_, _, names) in enumerate(plan)
        for t, task in enumerate(names)
    ]
    staging_pipeline("asana", "asana_data").run(
        [
            dlt.resource(rows_p, name="projects", primary_key="gid", write_disposition="merge"),
            dlt.resource(
                rows_t,
                name="tasks",
                primary_key="gid",
                write_disposition="merge",
                columns={"parent__gid": {"data_type": "text"}},
            ),
        ]
    )
    return plan


def first_run(
    tmp: Path, name: str, setting: str, args: argparse.Namespace, migrate: bool = False
) -> dict[str, float]:
    """One first sync (and its no-op re-run) against a fresh DocSpace emulator."""
    from docspace_destination.sync import Sync
    from sandbox import DOCSPACE_API_KEY, EmulatorServer
    from sandbox.docspace import DocSpaceEmulator

    os.environ["DLT_DATA_DIR"] = str(tmp / name / "dlt")
    os.environ["DESTINATION__DUCKDB__CREDENTIALS"] = str(tmp / name / "pm.duckdb")
    os.environ["DESTINATION__DOCSPACE__ARCHIVED_PROJECTS"] = setting
    projects = stage(args.projects, args.tasks, args.archived)
    emulator = DocSpaceEmulator(api_key=DOCSPACE_API_KEY)
    emulator.limits.writes_per_day = None
    emulator.limits.requests_per_window = None
    if migrate:  # what a sample-style script left: a room per active project, a folder per task
        for title, archived, tasks in projects:
            if not archived:
                room = emulator.add_room(title)
                for task in tasks:
                    emulator.add_folder(room.id, task)
    rooms_before, folders_before = emulator.count_rooms(), emulator.count_folders()
    server = EmulatorServer(emulator).start()
    os.environ["DESTINATION__DOCSPACE__BASE_URL"] = server.root_url
    os.environ["DESTINATION__DOCSPACE__API_KEY"] = DOCSPACE_API_KEY
    try:
        t0 = time.perf_counter()
        result = Sync("asana", concurrency=8).run()
        seconds = time.perf_counter() - t0
        writes = emulator.log.writes()
        noop = Sync("asana", concurrency=8).run()
    finally:
        server.stop()
    return {
        "writes": writes,
        "rooms": emulator.count_rooms() - rooms_before,
        "folders": emulator.count_folders() - folders_before,
        "skipped": result.plan.skipped_projects,
        "failed": result.failed,
        "seconds": seconds,
        "noop_writes": noop.writes,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--archived", type=float, default=0.8, help="share of archived projects")
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"

    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        mirror = first_run(Path(tmp), "mirror", "mirror", args)
        skip = first_run(Path(tmp), "skip", "skip", args)
        migrate = first_run(Path(tmp), "migrate", "skip", args, migrate=True)

    archived = round(args.projects * args.archived)
    print(
        f"\nFirst run: {args.projects} projects ({archived} archived) × {args.tasks} tasks, "
        "empty DocSpace"
    )
    print(
        f"  {'archived_projects':34}{'writes':>8}{'rooms':>7}{'folders':>9}{'skipped':>9}"
        f"{'seconds':>9}{'re-run writes':>15}"
    )
    for label, r in (
        ('"mirror" (baseline)', mirror),
        ('"skip" (default)', skip),
        ('"skip", samples\' rooms already there', migrate),
    ):
        print(
            f"  {label:34}{r['writes']:>8.0f}{r['rooms']:>7.0f}{r['folders']:>9.0f}"
            f"{r['skipped']:>9.0f}{r['seconds']:>9.2f}{r['noop_writes']:>15.0f}"
        )
    saved = 1 - skip["writes"] / mirror["writes"]
    print(f"  skip / mirror writes = {skip['writes'] / mirror['writes']:5.2f}  ({saved:.0%} fewer)")
    per_day = f"{DAILY_WRITES:,}"
    print(
        f"  share of one day's {per_day} writes: mirror {mirror['writes'] / DAILY_WRITES:.1%}, "
        f"skip {skip['writes'] / DAILY_WRITES:.1%}, migration {migrate['writes'] / DAILY_WRITES:.1%}"
    )
    ok = (
        skip["writes"] < mirror["writes"]
        and migrate["rooms"] == 0
        and migrate["folders"] == 0
        and max(r["failed"] + r["noop_writes"] for r in (mirror, skip, migrate)) == 0
    )
    print(
        f"  migration creates nothing, no failures, no-op re-runs write nothing: {'PASS' if ok else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
