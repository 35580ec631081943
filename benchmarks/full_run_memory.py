"""Benchmark: peak RSS of the real command line, extract + load + plan + apply in one run.

`asana_extract --memory-only` and `trello_extract --memory-only` measure the load into DuckDB
alone and `docspace_apply` the plan alone; a user runs `python pipelines/asana_to_docspace.py`
(or `trello_to_docspace.py`), which extracts and then syncs in the same process. Here that
command runs as it is, as a child process, against its source's emulator and the DocSpace
emulator (each in a process of its own, no latency, the source's quota and DocSpace's rate
and daily-write limits off), at `--baseline` records (default 50,000) and at `--tasks`
(default 200,000): Asana tasks (100 a project), or with `--source trello` Trello cards
(2,000 a board: 25 and 100 boards by default):

1. the first run, `--concurrency 15` (extract, plan, and apply up to the default
   `--max-writes` 9,000);
2. a `--sync-only --max-writes 10000000` run that applies the whole tree (every room and
   folder) to a fresh DocSpace, from a fresh ledger;
3. a `--sync-only` re-sync of that tree after 2,000 records were renamed in the staged data
   (the whole ledger known: what a daily run of a big account does).

The sampler reads /proc/<pid>/status of the command and of its children every 50 ms. The
command's phases are split by what it prints and spawns: *extract* (dlt's extract and
normalize, until the load's child process appears), *load* (while the load runs in that
child; its own peak is shown apart), *plan+apply* (from the line `Asana → DuckDB ...` or
`Trello → DuckDB ...` to the exit; after a big extract the command execs itself for the
sync, `pipelines/fresh_sync.py`: the same PID, whose high-water mark the exec starts afresh).
Each phase's peak is the kernel's high-water mark (VmHWM), reset at each phase's start
(/proc/<pid>/clear_refs), so a spike between two samples still counts. Beside the whole run's growth from the baseline, that of the part
before the sync (extract, load and the load's child) is printed apart.

    python -m benchmarks full_run_memory [--source asana|trello] [--tasks 200000]
        [--baseline 50000] [--no-apply-all]

`--tasks 5000 --baseline 0` runs in under a minute, for trying things.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.asana_extract import AsanaServer
from benchmarks.trello_extract import TrelloServer

ROOT = Path(__file__).resolve().parents[1]
MAX_RUN_MB = 400  # issue 21: the run at 200,000 tasks (or cards), per process
MAX_GROWTH = 0.10  # from the baseline account to the big one
MAX_APPLY_MB = 600  # issue 21: the plan/apply of 200,000 folders
SAMPLE_SECONDS = 0.05
PHASES = ("extract", "load", "plan+apply")


@dataclass(frozen=True)
class Source:
    """A source's command line, its emulator process, and what `--tasks` counts of it."""

    name: str  # pipelines/<name>_to_docspace.py
    records: str  # what the sizes count: "tasks", "cards"
    # an emulator process of about that many records (base_url, source_env, stop()) ...
    serve: Callable[[int], Any]
    served: Callable[[Any], int]  # ... and how many it holds
    # what the re-sync finds changed: `RENAMED` records renamed in the staged data
    rename_sql: str = ""

    @property
    def title(self) -> str:
        """The source as the command names it ("Asana"), from the source's own spec."""
        from pm_runtime.source_spec import spec_for

        return spec_for(self.name).display_title

    @property
    def extracted(self) -> str:
        """How the line starts that the command prints once the source is in DuckDB
        (`Trello → DuckDB (trello_data): cards 200000, ...`: pipelines/command.py)."""
        return f"{self.title} → "


RENAMED = 2_000
_RENAME = (
    "UPDATE {table} SET name = name || ' (renamed)' "
    "WHERE {id} IN (SELECT {id} FROM {table} ORDER BY {id} LIMIT {renamed})"
)
SOURCES = {
    "asana": Source(
        "asana",
        "tasks",
        AsanaServer,
        lambda server: server.tasks,
        _RENAME.format(table="asana_data.tasks", id="gid", renamed=RENAMED),
    ),
    "trello": Source(
        "trello",
        "cards",
        TrelloServer.with_cards,
        lambda server: server.cards,
        _RENAME.format(table="trello_data.cards", id="id", renamed=RENAMED),
    ),
}


# -- /proc ------------------------------------------------------------------------------------


def _status_mb(pid: int, key: str) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (the load's process, and anything it starts)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        found += kids
        todo += kids
    return found


def _is_load(pid: int) -> bool:
    """Whether `pid` is the load's process (`pm_runtime.load_phases`), not a short-lived helper
    a library starts on the way (one such child during start-up once ended the extract phase
    at 50 MB)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"load_phases" in f.read()
    except OSError:
        return False


def _reset_peak(pid: int) -> bool:
    """VmHWM back to the current RSS ("5": the kernel's clear_refs for the peak)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@dataclass
class Sampled:
    """What the sampler saw of one command run."""

    phases: dict[str, float] = field(default_factory=dict)  # the command's own peak per phase
    children_mb: float = 0.0  # the highest RSS of any child (the load)
    seconds: float = 0.0
    lines: list[str] = field(default_factory=list)
    exit_code: int = 0

    @property
    def peak_mb(self) -> float:
        return max([*self.phases.values(), self.children_mb])

    @property
    def staging_mb(self) -> float:
        """The peak until the source is in DuckDB: extract, load and the load's child."""
        return max(
            [self.phases.get("extract", 0.0), self.phases.get("load", 0.0), self.children_mb]
        )


def run_sampled(
    argv: list[str], env: dict[str, str], cwd: str, extracted_line: str, phase: str = PHASES[0]
) -> Sampled:
    """Run the command; the peak RSS of each of its phases from `phase` on (see the module's doc).

    `extracted_line`: how the line starts that the command prints once the source is in DuckDB."""
    out = Sampled()
    extracted = threading.Event()
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd
    )

    def read_lines() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            out.lines.append(line.rstrip("\n"))
            if line.startswith(extracted_line):
                extracted.set()

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()
    hwm, rss = 0.0, 0.0
    while proc.poll() is None:
        hwm = _status_mb(proc.pid, "VmHWM") or hwm
        rss = max(rss, _status_mb(proc.pid, "VmRSS"))
        kids = _children(proc.pid)
        for kid in kids:
            out.children_mb = max(out.children_mb, _status_mb(kid, "VmHWM"))
        following = phase
        if extracted.is_set() and phase != "plan+apply":
            following = "plan+apply"
        elif phase == "extract" and any(_is_load(kid) for kid in kids):
            following = "load"
        if following != phase:
            # the phase's peak: the high-water mark, or the highest sample where /proc refuses the reset
            out.phases[phase] = max(hwm, rss) if hwm else rss
            if _reset_peak(proc.pid):
                hwm = _status_mb(proc.pid, "VmHWM")
            rss = _status_mb(proc.pid, "VmRSS")
            phase = following
        time.sleep(SAMPLE_SECONDS)
    out.phases[phase] = max(hwm, rss)
    out.exit_code = proc.wait()
    reader.join(timeout=5)
    out.seconds = time.perf_counter() - started
    return out


# -- the emulators, each in its own process -----------------------------------------------------


def command_env(workdir: str, source_env: dict[str, str], docspace_url: str) -> dict[str, str]:
    from sandbox import DOCSPACE_API_KEY

    return {
        **os.environ,
        **source_env,  # the source's credentials and its emulator's URL
        "DESTINATION__DOCSPACE__BASE_URL": docspace_url,
        "DESTINATION__DOCSPACE__API_KEY": DOCSPACE_API_KEY,
        "DLT_DATA_DIR": os.path.join(workdir, ".dlt-data"),
        "DESTINATION__DUCKDB__CREDENTIALS": os.path.join(workdir, "pm.duckdb"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        "RUNTIME__LOG_LEVEL": "ERROR",
    }


def command(source: Source, *flags: str) -> list[str]:
    return [sys.executable, str(ROOT / "pipelines" / f"{source.name}_to_docspace.py"), *flags]


def forget_docspace_side(workdir: str, source: Source) -> None:
    """A fresh ledger and no pending load for the sync (the staged source data stays)."""
    import duckdb

    con = duckdb.connect(os.path.join(workdir, "pm.duckdb"))
    try:
        con.execute("DROP SCHEMA IF EXISTS docspace_state CASCADE")
    finally:
        con.close()
    pipeline = f"{source.name}_docspace"  # docspace_destination.sync.Sync.pipeline_name
    shutil.rmtree(os.path.join(workdir, ".dlt-data", "pipelines", pipeline), True)


def rename_staged(workdir: str, source: Source) -> None:
    """`RENAMED` of the source's records renamed in the staged data (the next sync renames them)."""
    import duckdb

    con = duckdb.connect(os.path.join(workdir, "pm.duckdb"))
    try:
        con.execute(source.rename_sql)
    finally:
        con.close()


def measure(source: Source, size: int, apply_all: bool) -> dict[str, Any]:
    """The first run at `size` records; with `apply_all`, then the whole tree applied from
    scratch, and a re-sync of it that renames `RENAMED` folders."""
    from benchmarks.docspace_apply import RemoteDocSpace

    emulator = source.serve(size)
    result: dict[str, Any] = {"records": source.served(emulator)}
    extracted = source.extracted
    try:
        with tempfile.TemporaryDirectory(prefix="full-run-") as workdir:
            docspace = RemoteDocSpace(latency=0)
            env = command_env(workdir, emulator.source_env, docspace.root_url)
            first = command(source, "--concurrency", "15")
            result["first"] = run_sampled(first, env, workdir, extracted)
            result["first_docspace"] = docspace.stop()
            if apply_all:
                forget_docspace_side(workdir, source)
                docspace = RemoteDocSpace(latency=0)
                env = command_env(workdir, emulator.source_env, docspace.root_url)
                flags = ("--sync-only", "--concurrency", "15", "--max-writes", "10000000")
                result["all"] = run_sampled(
                    command(source, *flags), env, workdir, extracted, "plan+apply"
                )
                # a re-sync of the whole tree, the whole ledger known: a few changes among many
                rename_staged(workdir, source)
                flags = ("--sync-only", "--concurrency", "15")
                result["again"] = run_sampled(
                    command(source, *flags), env, workdir, extracted, "plan+apply"
                )
                result["all_docspace"] = docspace.stop()
    finally:
        emulator.stop()
    return result


def writes_printed(run: Sampled) -> int:
    """The DocSpace writes the run's summary names (`requests  N  (W writes)`)."""
    for line in reversed(run.lines):
        if line.strip().startswith("requests") and "writes)" in line:
            return int(line.rsplit("(", 1)[1].split()[0])
    return 0


def _show_run(label: str, run: Sampled, tree: dict[str, int]) -> None:
    cells = "".join(f"{run.phases[p]:>15.0f}" if p in run.phases else f"{'-':>15}" for p in PHASES)
    made = (
        f"{tree['renamed']:,} folders renamed, the whole ledger known"
        if "renamed" in tree
        else f"{tree['rooms']:,} rooms, {tree['folders']:,} folders, {tree['writes']:,} writes"
    )
    print(
        f"  {label:<26}{cells}{run.children_mb:>10.0f}{run.peak_mb:>9.0f}{run.seconds:>9.1f}"
        f"  exit {run.exit_code}; {made}"
    )
    if run.exit_code not in (0,):
        print("\n".join(f"    | {line}" for line in run.lines[-15:]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.full_run_memory", description=__doc__
    )
    parser.add_argument("--source", choices=sorted(SOURCES), default="asana")
    parser.add_argument(
        "--tasks", type=int, default=200_000, help="Asana tasks, or Trello cards (2,000 a board)"
    )
    parser.add_argument("--baseline", type=int, default=50_000, help="0 skips it")
    parser.add_argument(
        "--no-apply-all", action="store_true", help="skip the apply of the whole tree"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    source = SOURCES[args.source]

    sizes = [n for n in (args.baseline, args.tasks) if n]
    measured = [measure(source, n, not args.no_apply_all) for n in sizes]

    header = "".join(f"{p + ' MB':>15}" for p in PHASES)
    print(
        f"\npython pipelines/{source.name}_to_docspace.py as a child process ({source.title} and"
        " DocSpace emulators in processes of their own, no latency); peak RSS (VmHWM) of the"
        " command per phase, of its load child apart"
    )
    print(f"  {'run':<26}{header}{'child MB':>10}{'peak MB':>9}{'wall s':>9}")
    unit = source.records
    for m in measured:
        _show_run(f"{m['records']:,} {unit}, first run", m["first"], m["first_docspace"])
        if "all" in m:
            tree = {**m["all_docspace"], "writes": writes_printed(m["all"])}  # (re-sync apart)
            _show_run(f"{m['records']:,} {unit}, apply all", m["all"], tree)
            _show_run(f"{m['records']:,} {unit}, re-sync", m["again"], {"renamed": RENAMED})

    big = measured[-1]
    peak = big["first"].peak_mb
    ok = peak <= MAX_RUN_MB and big["first"].exit_code == 0
    print(
        f"{source.title} full run at {big['records']:,} {unit}: peak {peak:.0f} MB per process "
        f"(≤ {MAX_RUN_MB} MB) {'PASS' if ok else 'FAIL'}"
    )
    if len(measured) == 2:
        small = measured[0]["first"].peak_mb
        growth = peak / small - 1
        print(
            f"{source.title} full run peak from {measured[0]['records']:,} to "
            f"{big['records']:,} {unit}: {small:.0f} → {peak:.0f} MB, {growth:+.1%} "
            f"(≤ +{MAX_GROWTH:.0%}) {'PASS' if growth <= MAX_GROWTH else 'FAIL'}"
        )
        # the part before the sync apart: the source's extract and the load into DuckDB
        small, staged = measured[0]["first"].staging_mb, big["first"].staging_mb
        print(
            f"  of which extract + load (and its child): {small:.0f} → {staged:.0f} MB, "
            f"{staged / small - 1:+.1%}"
        )
    if len(measured) == 2 and "again" in big:
        small, again = measured[0]["again"].peak_mb, big["again"].peak_mb
        growth = again / small - 1
        ok = growth <= MAX_GROWTH and big["again"].exit_code == 0
        print(
            f"{source.title} re-sync of the whole tree ({RENAMED:,} renames) from "
            f"{measured[0]['records']:,} to {big['records']:,} {unit}: {small:.0f} → {again:.0f} MB, "
            f"{growth:+.1%} (≤ +{MAX_GROWTH:.0%}) {'PASS' if ok else 'FAIL'}"
        )
    if "all" in big:
        run, tree = big["all"], {**big["all_docspace"], "writes": writes_printed(big["all"])}
        ok = run.peak_mb <= MAX_APPLY_MB and run.exit_code == 0
        print(
            f"{source.title} apply of the whole tree ({tree['rooms']:,} rooms, "
            f"{tree['folders']:,} folders, {tree['writes']:,} writes): peak {run.peak_mb:.0f} MB "
            f"(≤ {MAX_APPLY_MB} MB) {'PASS' if ok else 'FAIL'}, {run.seconds:.0f} s "
            f"({tree['writes'] / run.seconds:.0f} writes/s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
