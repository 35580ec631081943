"""Benchmark: `--watch` against the emulators at 20 ms API latency.

Four figures, each next to a same-run baseline:

- latency: change-to-folder time (p50, p95) over `--changes` changes (new task, rename,
  move to another project, archive/unarchive a project) at `--interval` 5 s; goal
  p95 ≤ interval + 3 s;
- idle cost: requests per minute with `--projects` 100 projects and nothing changing,
  against the minimum (one events call per project per interval — at the requested
  interval, and at the interval the Asana budget share stretches it to);
- cron: the same hour the cron way (a fresh process per interval: start-up, full
  incremental extract, plan) in requests and CPU seconds, measured on a few runs and
  scaled to an hour;
- flat: RSS after 10 and after 1,000 idle cycles (goal within 10%), and the dlt load
  packages and run-log rows those idle cycles added (goal 0).

The watcher and the cron runs are the real entry point in subprocesses; the emulators run
here.

    python -m benchmarks.watch [--changes 50] [--interval 5] [--projects 100] [--idle-seconds 60]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LATENCY = 0.02
ENTRY = str(ROOT / "pipelines" / "asana_to_docspace.py")


class Proc:
    """One watcher subprocess with its output collected."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, ENTRY, *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, ""):
            self.lines.append(line.rstrip("\n"))

    def count(self, text: str) -> int:
        return sum(text in x for x in self.lines)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=30)


def wait_until(check: Callable[[], Any], timeout: float, poll: float = 0.02) -> float | None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if check():
            return time.monotonic() - t0
        time.sleep(poll)
    return None


def environment(sb: Any, workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DESTINATION__"))}
    env.update(sb.environment())
    env.update(
        DESTINATION__DUCKDB__CREDENTIALS=str(workdir / "pm.duckdb"),
        DLT_DATA_DIR=str(workdir / "dlt"),
        RUNTIME__DLTHUB_TELEMETRY="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def titles_under(docspace: Any, room_title: str, area: str = "active") -> set[str]:
    for room in docspace.rooms(area):
        if room.title == room_title:
            return {f.title for f in docspace.folders(room.id)}
    return set()


def archived(docspace: Any, room_title: str) -> bool:
    return any(r.title == room_title for r in docspace.rooms("archive"))


# -- latency ------------------------------------------------------------------------------


def latency(changes: int, interval: float) -> list[float]:
    from sandbox import Sandbox

    with Sandbox() as sb, tempfile.TemporaryDirectory() as tmp:
        a, ds = sb.asana.emulator, sb.docspace.emulator
        for service in sb.services:
            service.faults.latency(LATENCY)
        ws = a.add_workspace("Acme")
        projects = [a.add_project(f"Project {i}", ws) for i in range(3)]
        names = {p: f"Project {i}" for i, p in enumerate(projects)}
        spare = a.add_project("Spare", ws)
        tasks = {
            p: [a.add_task(f"Task {p[-3:]}-{j}", [(p, None)]) for j in range(5)] for p in projects
        }
        a.add_task("Spare task", [(spare, None)])
        w = Proc(["--watch", "--interval", str(interval)], environment(sb, Path(tmp)), Path(tmp))
        try:
            if wait_until(lambda: archived(ds, "Spare") or titles_under(ds, "Spare"), 120) is None:
                raise SystemExit("the watcher did not catch up:\n" + "\n".join(w.lines[-20:]))
            rng = random.Random(1)
            kinds = ["new", "rename", "move", "archive"]
            is_archived, seen = False, []
            for n in range(changes):
                time.sleep(rng.uniform(0, interval))
                kind = kinds[n % len(kinds)]
                project = rng.choice([p for p in projects if tasks[p]])
                room, expected = "", ""  # the folder `expected` must appear in room `room`
                if kind == "new":
                    room, expected = names[project], f"New {n}"
                    a.add_task(expected, [(project, None)])
                elif kind == "rename":
                    room, expected = names[project], f"Renamed {n}"
                    a.rename_task(rng.choice(tasks[project]), expected)
                elif kind == "move":
                    task = tasks[project].pop(0)
                    target = rng.choice([p for p in projects if p != project])
                    tasks[target].append(task)
                    room, expected = names[target], a.get(task).name
                    a.move_task(task, target)
                else:
                    is_archived = not is_archived
                    a.archive_project(spare, is_archived)

                def check(
                    room: str = room, expected: str = expected, want: bool = is_archived
                ) -> bool:
                    if not room:
                        return archived(ds, "Spare") == want
                    return expected in titles_under(ds, room)

                took = wait_until(check, 60)
                seen.append(took if took is not None else float("inf"))
        finally:
            w.stop()
        return seen


# -- idle cost and the cron way -------------------------------------------------------------


def idle_and_cron(
    projects: int, interval: float, idle_seconds: float, cron_runs: int
) -> dict[str, float]:
    from sandbox import Sandbox

    with Sandbox() as sb, tempfile.TemporaryDirectory() as tmp:
        a = sb.asana.emulator
        for service in sb.services:
            service.faults.latency(LATENCY)
        ws = a.add_workspace("Acme")
        for i in range(projects):
            p = a.add_project(f"Project {i:03}", ws)
            a.add_task(f"Task {i:03}", [(p, None)])
        workdir = Path(tmp)
        env = environment(sb, workdir)
        w = Proc(["--watch", "--interval", str(interval), "-v"], env, workdir)
        out: dict[str, float] = {}
        try:
            if wait_until(lambda: w.count("no changes") >= 2, 300, 0.2) is None:
                raise SystemExit("the watcher did not settle:\n" + "\n".join(w.lines[-20:]))
            sb.asana.log.clear()
            sb.docspace.log.clear()
            cpu0, t0 = w.cpu_seconds(), time.monotonic()
            time.sleep(idle_seconds)
            minutes = (time.monotonic() - t0) / 60
            out["watch_requests_per_min"] = len(sb.asana.log) / minutes
            out["looks"] = sb.asana.log.count(route="/events") / projects
            out["requests_per_look"] = len(sb.asana.log) / max(out["looks"], 1)
            out["watch_docspace_per_min"] = len(sb.docspace.log) / minutes
            out["watch_cpu_per_hour"] = (w.cpu_seconds() - cpu0) / minutes * 60
            stretched = next((x for x in w.lines if "the interval is" in x), "")
            out["effective_interval"] = (
                float(stretched.split("the interval is ")[1].split("s")[0])
                if stretched
                else interval
            )
        finally:
            w.stop()
        # the cron way: a fresh one-off run per interval, nothing changed
        sb.asana.log.clear()
        sb.docspace.log.clear()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        for _ in range(cron_runs):
            subprocess.run(
                [sys.executable, ENTRY], cwd=workdir, env=env, capture_output=True, check=True
            )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out["cron_seconds_per_run"] = (time.monotonic() - t0) / cron_runs
        out["cron_requests_per_run"] = (len(sb.asana.log) + len(sb.docspace.log)) / cron_runs
        out["cron_cpu_per_run"] = (
            after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        ) / cron_runs
        return out


# -- flat memory and files ------------------------------------------------------------------


def flat(cycles: int) -> dict[str, float]:
    from sandbox import Limits, Sandbox

    with Sandbox() as sb, tempfile.TemporaryDirectory() as tmp:
        a = sb.asana.emulator
        a.limits = Limits()  # the real quota would stretch a fast interval: switched off here
        ws = a.add_workspace("Acme")
        for i in range(2):
            a.add_task(f"Task {i}", [(a.add_project(f"Project {i}", ws), None)])
        workdir = Path(tmp)
        env = environment(sb, workdir, WATCH__ASANA_QUOTA="100000000")
        w = Proc(["--watch", "--interval", "0.01", "-v"], env, workdir)
        loaded = workdir / "dlt" / "pipelines"
        try:
            wait_until(lambda: w.count("no changes") >= 10, 120, 0.005)
            rss10 = w.rss_mb()
            packages10 = len(list(loaded.glob("*/load/loaded/*")))
            wait_until(lambda: w.count("no changes") >= cycles, 600, 0.05)
            rss_n = w.rss_mb()
            packages_n = len(list(loaded.glob("*/load/loaded/*")))
        finally:
            w.stop()
        import duckdb

        con = duckdb.connect(str(workdir / "pm.duckdb"), read_only=True)
        runs = con.execute("SELECT count(*) FROM docspace_state.runs").fetchone()[0]  # type: ignore[index]
        con.close()
        return {
            "rss10": rss10,
            "rss_n": rss_n,
            "cycles": w.count("no changes"),
            "packages_added": packages_n - packages10,
            "runs": runs,
        }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.watch")
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--cron-runs", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--only", choices=["latency", "idle", "flat"])
    args = parser.parse_args(argv)

    if args.only in (None, "latency"):
        seen = sorted(latency(args.changes, args.interval))
        p50 = statistics.median(seen)
        p95 = seen[min(len(seen) - 1, int(round(0.95 * len(seen))) - 1)]
        goal = args.interval + 3
        print(
            f"latency   {len(seen)} changes, interval {args.interval:g}s, {LATENCY * 1000:.0f} ms API latency: "
            f"p50 {p50:.1f}s, p95 {p95:.1f}s, max {seen[-1]:.1f}s (goal p95 ≤ {goal:g}s) "
            f"{'PASS' if p95 <= goal else 'FAIL'}",
            flush=True,
        )
    if args.only in (None, "idle"):
        f = idle_and_cron(args.projects, args.interval, args.idle_seconds, args.cron_runs)
        minimum = args.projects * 60 / args.interval
        print(
            f"idle      {args.projects} projects, nothing changing: {f['requests_per_look']:.0f} Asana requests "
            f"per look = {f['requests_per_look'] / args.projects:.2f}× the minimum (one events call per project); "
            f"interval {args.interval:g}s stretched to {f['effective_interval']:.1f}s "
            f"({minimum:,.0f} requests/min at {args.interval:g}s would overspend half of Asana's 1,500/min): "
            f"{f['watch_requests_per_min']:.0f} requests/min; DocSpace {f['watch_docspace_per_min']:.0f}/min",
            flush=True,
        )
        per_hour = 3600 / f["effective_interval"]
        cron_req, cron_cpu = f["cron_requests_per_run"] * per_hour, f["cron_cpu_per_run"] * per_hour
        watch_req = f["watch_requests_per_min"] * 60
        print(
            f"cron      a fresh process every {f['effective_interval']:.1f}s, nothing changed: "
            f"{f['cron_requests_per_run']:.0f} requests and {f['cron_cpu_per_run']:.1f} CPU s per run "
            f"({f['cron_seconds_per_run']:.1f}s wall) → {cron_req:,.0f} requests and {cron_cpu:,.0f} CPU s an hour; "
            f"--watch: {watch_req:,.0f} requests and {f['watch_cpu_per_hour']:,.0f} CPU s an hour "
            f"({cron_req / max(watch_req, 1):.2f}× fewer requests, {cron_cpu / max(f['watch_cpu_per_hour'], 0.01):.0f}× less CPU)",
            flush=True,
        )
    if args.only in (None, "flat"):
        f = flat(args.cycles)
        growth = (f["rss_n"] - f["rss10"]) / f["rss10"]
        ok = abs(growth) <= 0.10 and f["packages_added"] == 0
        print(
            f"flat      RSS after 10 idle cycles {f['rss10']:.1f} MB, after {f['cycles']:.0f}: {f['rss_n']:.1f} MB "
            f"({growth:+.1%}, goal within 10%); load packages added while idle: {f['packages_added']:.0f}; "
            f"run-log rows: {f['runs']:.0f} (the catch-up) {'PASS' if ok else 'FAIL'}",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
