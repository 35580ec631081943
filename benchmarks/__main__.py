"""`python -m benchmarks [name ...]`: run the benchmarks (all by default) and print their figures.

`python -m benchmarks name --flag ...` hands the flags to that one benchmark
(the same as `python -m benchmarks.name --flag ...`; `--help` lists them).

Each benchmark measures its own baseline in the same run and prints ratios with
PASS/FAIL against the project's goals; nothing here is a timed test.
"""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = {
    "sandbox_throughput": "DocSpace emulator: GET /files/rooms requests per second",
    "asana_extract": "Asana source: requests and wall time vs the paging minimum and a naive script; peak RSS per phase at 50,000 and 200,000 tasks",
    "asana_attachments": "Asana source: requests and rate-limit units of staging attachments, first and no-change runs",
    "trello_extract": "Trello source: requests and wall time vs the paging minimum and a naive script; peak RSS per phase at 25 and 100 boards × 2,000 cards",
    "documents": "Documents: 1,000 attachments copied vs the plain download-then-upload loop; writes per file vs the session minimum; no-change run; peak RSS moving 200 MB",
    "docspace_apply": "DocSpace apply: vs the write floor and a naive create loop; no-op; plan memory",
    "full_run_memory": "The command line's full run (extract, load, plan, apply) at 50,000 and 200,000 Asana tasks (--source trello: Trello cards, 2,000 a board): peak RSS per phase; the apply of all 200,000 folders",
    "first_run": "First run, 80% of projects archived: writes with archived_projects skip vs mirror",
    "warehouse_staging": "PostgreSQL staging beside DuckDB: the 50 × 40 apply and the 100 × 100 extract",
    "startup": "Start-up: import dlt with/without its plugin, first apply vs no-op re-sync vs no-op --plan, as processes",
    "watch": "--watch: change-to-folder latency, idle cost vs the minimum and vs cron, flat memory",
}


def main(argv: list[str]) -> int:
    first_flag = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, flags = argv[:first_flag] or list(BENCHMARKS), argv[first_flag:]
    if flags and len(names) != 1:
        print("flags go to one benchmark: python -m benchmarks NAME --flag ...")
        return 2
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from: {', '.join(BENCHMARKS)}")
        return 2
    for name in names:
        print(f"\n=== {name}: {BENCHMARKS[name]}", flush=True)
        t0 = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").main(flags)
        print(f"=== {name} took {time.perf_counter() - t0:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
