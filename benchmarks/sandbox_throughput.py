"""Benchmark: requests/s the DocSpace emulator sustains for `GET /api/2.0/files/rooms`.

The emulator (100 rooms, no injected latency) is served from this process; the
load comes from separate client processes, each running threads with their own
keep-alive connection (`http.client`, the leanest stock client, so that the
figure measures the server rather than the client). Target: ≥ 1,000 req/s on a
2-core machine, so that the sandbox is never the bottleneck of other benchmarks.

DocSpace's per-minute quota (1500 req/min = 25 req/s) and daily write budget are
switched off for the run: they would cap any load test by design. The
concurrency caps (50 reads at once) stay on; the clients stay below them.

    python -m benchmarks.sandbox_throughput [--seconds 5] [--processes 2] [--threads 4] [--rooms 100]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import threading
import time
from urllib.parse import urlsplit

TARGET = 1000.0


def _client(url: str, key: str, seconds: float, threads: int, start_at: float) -> tuple[int, int]:
    """One client process: `threads` keep-alive connections hammering `url`."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Authorization": f"Bearer {key}", "Connection": "keep-alive"}
    ok = [0] * threads
    bad = [0] * threads

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.time() < start_at:
            time.sleep(0.001)
        stop = start_at + seconds
        while time.time() < stop:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                ok[i] += 1
            else:
                bad[i] += 1
        conn.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(ok), sum(bad)


def _response_size(url: str, key: str) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", parts.path, headers={"Authorization": f"Bearer {key}"})
    size = len(conn.getresponse().read())
    conn.close()
    return size


def run(seconds: float, processes: int, threads: int, rooms: int) -> float:
    from sandbox import DOCSPACE_API_KEY, EmulatorServer
    from sandbox.docspace import DocSpaceEmulator

    emulator = DocSpaceEmulator(api_key=DOCSPACE_API_KEY)
    emulator.limits.requests_per_window = None
    emulator.limits.writes_per_day = None
    for i in range(rooms):
        emulator.add_room(f"Project {i:03}", tags=["pm-sync"])
    with EmulatorServer(emulator) as server:
        url = server.base_url + "/files/rooms"
        size = _response_size(url, DOCSPACE_API_KEY)
        start_at = time.time() + 1.0  # every client connected and waiting before the clock starts
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(processes) as pool:
            results = pool.starmap(
                _client, [(url, DOCSPACE_API_KEY, seconds, threads, start_at)] * processes
            )
    ok = sum(r[0] for r in results)
    bad = sum(r[1] for r in results)
    rate = ok / seconds
    print(
        f"GET /api/2.0/files/rooms ({rooms} rooms, no latency): {ok} OK, {bad} other "
        f"in {seconds:.1f} s from {processes} processes × {threads} keep-alive connections"
    )
    print(f"response size: {size:,} bytes per listing page")
    verdict = "meets" if rate >= TARGET else "DOES NOT meet"
    print(f"throughput: {rate:,.0f} requests/s — {verdict} the {TARGET:,.0f} req/s target")
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sandbox_throughput", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="measured duration (default 5)")
    parser.add_argument("--processes", type=int, default=2, help="client processes (default 2)")
    parser.add_argument(
        "--threads", type=int, default=4, help="connections per process (default 4)"
    )
    parser.add_argument("--rooms", type=int, default=100, help="rooms in the portal (default 100)")
    args = parser.parse_args(argv)
    run(args.seconds, args.processes, args.threads, args.rooms)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
