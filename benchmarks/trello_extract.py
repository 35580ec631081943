"""Benchmark: extracting Trello (10 boards × 500 cards, 20 ms latency) into DuckDB.

Prints requests and wall time of a full and a no-op run of our source, the minimum
number of requests a complete load needs, and a naive baseline measured in the same
run (one unpaged call per collection, Trello's default limits, one call per card for
its custom-field values, no incremental: its no-op run is another full run).

Our emulator keeps Trello's real rate limits (100 req / 10 s per token); the naive
baseline's emulator has them switched off (a naive client has no 429 handling and
would simply fail), so its time is a lower bound.

Memory: the load of `--memory-boards` boards × `--memory-cards` cards (default 100 × 2,000)
runs in a process of its own against the emulator in another (rate limits off: the figure is
about the load, not pacing), beside the same load of a quarter of the boards, and prints the
peak RSS of extract, normalize and load (`--memory-boards 0` skips it). `--memory-before REF`
also measures the source as it was at git commit REF at the big size (same emulator).

    python -m benchmarks.trello_extract [--boards 10] [--cards 500] [--latency 0.02]
        [--memory-boards 100] [--memory-cards 2000] [--memory-only] [--memory-before REF]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from benchmarks.emulator_process import EmulatorProcess
from sandbox import TRELLO_KEY, TRELLO_TOKEN, EmulatorServer
from sandbox.trello import TrelloEmulator
from sandbox.trello_sample import build_benchmark_account

MAX_RATIO = 1.2
MAX_PEAK_MB = 400
MAX_GROWTH = 0.10
CARDS_PER_BOARD = 2000  # issue 21: 100 boards × 2,000 cards
ROOT = Path(__file__).resolve().parents[1]


def pages(items: int, limit: int = 1000) -> int:
    """Requests to read `items` with before-paging: a full page needs one more to see the end."""
    return items // limit + 1


def minimum_requests(em: TrelloEmulator) -> int:
    """One board listing, then per board one call per collection per 1000-item page."""
    total = 1
    for board in em.boards:
        idx = em.index[board]
        total += 3  # lists (never capped), members, custom fields
        total += pages(len(idx["cards"])) + pages(len(idx["labels"]))
        total += pages(len(idx["checklists"])) + pages(len(idx["actions"]))
    return total


def emulator(boards: int, cards: int, latency: float, limits: bool) -> TrelloEmulator:
    em = TrelloEmulator(seed=0, api_key=TRELLO_KEY, token=TRELLO_TOKEN)
    build_benchmark_account(em, boards=boards, cards_per_board=cards, seed=0)
    em.faults.latency(latency)
    if not limits:
        em.rate_limits = None
    return em


def our_runs(em: TrelloEmulator, workdir: str) -> list[dict[str, Any]]:
    from pm_runtime.staging import staging_pipeline
    from trello_source import trello_source

    results = []
    with EmulatorServer(em) as server:
        os.environ.update(
            {
                "SOURCES__TRELLO__API_KEY": TRELLO_KEY,
                "SOURCES__TRELLO__TOKEN": TRELLO_TOKEN,
                "SOURCES__TRELLO__BASE_URL": server.base_url,
                "DESTINATION__DUCKDB__CREDENTIALS": os.path.join(workdir, "bench.duckdb"),
                "DLT_DATA_DIR": os.path.join(workdir, "dlt"),
                "RUNTIME__DLTHUB_TELEMETRY": "false",
            }
        )
        for label in ("full", "no-op"):
            em.log.clear()
            pipeline = staging_pipeline("trello", "trello_data")
            start = time.perf_counter()
            pipeline.extract(trello_source())
            extracted = time.perf_counter() - start
            pipeline.normalize()
            pipeline.load()
            total = time.perf_counter() - start
            rows = pipeline.last_trace.last_normalize_info.row_counts
            results.append(
                {
                    "run": label,
                    "requests": len(em.log),
                    "extract_s": extracted,
                    "total_s": total,
                    "cards": rows.get("cards", 0),
                    "max_10s": em.log.max_in_window(10, token=TRELLO_TOKEN),
                }
            )
    return results


def naive_run(em: TrelloEmulator) -> dict[str, Any]:
    """What a first script does: no paging, default limits, a call per card."""
    auth = {"key": TRELLO_KEY, "token": TRELLO_TOKEN}
    cards_seen = 0
    with EmulatorServer(em) as server, requests.Session() as http:

        def get(path: str, **params: Any) -> Any:
            r = http.get(server.base_url + path, params={**auth, **params}, timeout=30)
            r.raise_for_status()
            return r.json()

        start = time.perf_counter()
        for board in get("/members/me/boards"):
            bid = board["id"]
            get(f"/boards/{bid}/lists")
            get(f"/boards/{bid}/labels")
            get(f"/boards/{bid}/members")
            get(f"/boards/{bid}/checklists")
            get(f"/boards/{bid}/actions")
            cards = get(f"/boards/{bid}/cards/all")
            cards_seen += len(cards)
            for card in cards:
                get(f"/cards/{card['id']}/customFieldItems")
        elapsed = time.perf_counter() - start
    return {"requests": len(em.log), "total_s": elapsed, "cards": cards_seen}


def serve_emulator(boards: int, cards: int) -> None:
    """Child process: build the account, serve it, print its URL, serve until stdin closes."""
    em = emulator(boards, cards, 0.0, limits=False)
    total = sum(len(em.index[b]["cards"]) for b in em.boards)
    with EmulatorServer(em) as server:
        print(json.dumps({"base_url": server.base_url, "cards": total}), flush=True)
        sys.stdin.read()


def export_ref(ref: str, into: str) -> Path:
    """The source packages as they were at `ref` (for the before-figure)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "trello_source", "pm_runtime"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return Path(into)


class TrelloServer(EmulatorProcess):
    """`benchmarks.trello_extract --serve-emulator`: `boards` × `cards` cards, rate limits off."""

    def __init__(self, boards: int, cards: int) -> None:
        super().__init__(
            "benchmarks.trello_extract", "--boards", str(boards), "--cards", str(cards)
        )
        self.cards = int(self.info["cards"])

    @classmethod
    def with_cards(cls, total: int) -> TrelloServer:
        """`total` cards, 2,000 a board (a multiple of that exactly; otherwise a few more a board)."""
        boards = max(1, total // CARDS_PER_BOARD)
        return cls(boards, max(1, total // boards))

    @property
    def source_env(self) -> dict[str, str]:
        """The Trello source's settings for this emulator, as environment variables."""
        return {
            "SOURCES__TRELLO__API_KEY": TRELLO_KEY,
            "SOURCES__TRELLO__TOKEN": TRELLO_TOKEN,
            "SOURCES__TRELLO__BASE_URL": self.base_url,
        }


def memory_at(
    boards: int, cards: int, workdir: str, before: str | None = None
) -> tuple[int, list[tuple[str, dict[str, Any]]]]:
    """(cards, [(label, peaks)]): the working tree's load and, with `before`, that commit's."""
    from benchmarks.phase_memory import phase_peaks

    server = TrelloServer(boards, cards)
    try:
        versions = [("now", ROOT)]
        if before:
            os.makedirs(os.path.join(workdir, "before"))
            versions.insert(0, (f"before ({before})", export_ref(before, f"{workdir}/before")))
        runs = []
        for label, root in versions:
            run_dir = os.path.join(workdir, f"run-{len(runs)}")
            os.makedirs(run_dir)
            runs.append(
                (
                    label,
                    phase_peaks(root, "trello_source:trello_source", run_dir, server.source_env),
                )
            )
        return server.cards, runs
    finally:
        server.stop()


def memory_figures(boards: int, cards: int, before: str | None = None) -> None:
    from benchmarks.phase_memory import PHASES

    sizes = [max(1, boards // 4), boards]
    measured = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="trello-mem-") as workdir:
            measured.append((n, *memory_at(n, cards, workdir, before if n == boards else None)))
    print(
        "\nload into DuckDB (a big load in a process of its own, as the command line runs it; each"
        " phase's peak RSS apart); emulator in another"
    )
    header = "".join(f"{p + ' MB':>12}" for p in PHASES)
    print(f"{'boards':>7}{'cards':>9}  {'source':<22}{header}{'wall s':>9}")
    for n, total, runs in measured:
        for label, r in runs:
            cells = "".join(f"{r['phases'][p]:>12.0f}" for p in PHASES)
            print(f"{n:>7}{total:>9,}  {label:<22}{cells}{r['seconds']:>9.1f}")
    small, big = measured[0][2][-1][1]["peak_mb"], measured[-1][2][-1][1]["peak_mb"]
    growth = big / small - 1
    print(
        f"peak RSS at {measured[-1][1]:,} cards: {big:.0f} MB (≤ {MAX_PEAK_MB} MB) "
        f"{'PASS' if big <= MAX_PEAK_MB else 'FAIL'}"
    )
    print(
        f"peak growth from {measured[0][1]:,} to {measured[-1][1]:,} cards: {growth:+.1%} "
        f"(≤ +{MAX_GROWTH:.0%}) {'PASS' if growth <= MAX_GROWTH else 'FAIL'}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=10)
    parser.add_argument("--cards", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--memory-boards", type=int, default=100)
    parser.add_argument("--memory-cards", type=int, default=CARDS_PER_BOARD)
    parser.add_argument("--memory-only", action="store_true")
    parser.add_argument("--memory-before", metavar="REF", default=None)
    parser.add_argument("--serve-emulator", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    if args.serve_emulator:
        return serve_emulator(args.boards, args.cards)
    if args.memory_only:
        return memory_figures(args.memory_boards, args.memory_cards, args.memory_before)

    ours_em = emulator(args.boards, args.cards, args.latency, limits=True)
    floor = minimum_requests(ours_em)
    total_cards = sum(len(ours_em.index[b]["cards"]) for b in ours_em.boards)
    print(
        f"Trello extract: {args.boards} boards × {args.cards} cards ({total_cards} cards), "
        f"{args.latency * 1000:.0f} ms latency per request"
    )
    print(f"minimum requests for a complete load: {floor} (no-op: 1, the board listing)")

    with tempfile.TemporaryDirectory() as workdir:
        full, noop = our_runs(ours_em, workdir)
    naive_em = emulator(args.boards, args.cards, args.latency, limits=False)
    naive = naive_run(naive_em)

    print("\nours (rate limits ON, 100 req / 10 s per token):")
    for r, minimum in ((full, floor), (noop, 1)):
        ratio = r["requests"] / minimum
        verdict = "PASS" if ratio <= MAX_RATIO else "FAIL"
        print(
            f"  {r['run']:>5}: {r['requests']:5d} requests ({ratio:.2f}× minimum {verdict}), "
            f"extract {r['extract_s']:6.2f} s, extract+load {r['total_s']:6.2f} s, "
            f"{r['cards']} card rows loaded, peak {r['max_10s']} requests in any 10 s"
        )
    print("\nnaive baseline (rate limits OFF on its emulator; extract only, no load):")
    print(
        f"   full: {naive['requests']:5d} requests ({naive['requests'] / floor:.1f}× minimum), "
        f"{naive['total_s']:6.2f} s, {naive['cards']} cards seen"
    )
    print(
        f"  no-op: {naive['requests']:5d} requests ({naive['requests']:.0f}× minimum), "
        "no incremental: a re-run is another full run (not measured twice)"
    )
    print(
        f"\nours vs naive: full run {naive['requests'] / full['requests']:.0f}× fewer requests, "
        f"{naive['total_s'] / full['extract_s']:.1f}× faster extract; "
        f"no-op {naive['requests'] / max(1, noop['requests']):.0f}× fewer requests"
    )
    if args.memory_boards:
        memory_figures(args.memory_boards, args.memory_cards, args.memory_before)


if __name__ == "__main__":
    main()
