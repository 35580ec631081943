"""Benchmark: documents (issue 20) — copying Asana attachments into DocSpace, against the sandbox.

Prints, for `--attachments` attachments (a few of them large, several chunks each) on tasks
of 20 projects, the full sync (extract + plan + apply, as a process, `attachments = "copy"`):

- bytes/s of the copy beside the same-run baseline, the plain sequential loop (per
  attachment: GET the attachment for its download URL, download it whole into memory, create a
  session, send the chunks, finalize) into a fresh room;
- DocSpace writes per file against the minimum the session API allows (2 under 10 MiB,
  2 + ceil(size / 10 MiB) above);
- Asana requests of the first run and of a no-change run (and its DocSpace writes and downloads);
- peak RSS of the sync process while it moves one 200 MB attachment, beside the same sync
  moving a 2 MB one.

Both sides answer after `--latency` seconds; the emulators' per-minute and daily quotas are off
for the sync and the baseline alike.

    python -m benchmarks.documents [--attachments 1000] [--large 3] [--big-mb 200] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from sandbox import ASANA_TOKEN, DOCSPACE_API_KEY, Sandbox

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
CHUNK = 10 * MIB
SMALL = 20_000
LARGE = 25 * MIB

_WRAPPER = (
    "import atexit, resource, runpy, sys\n"
    "atexit.register(lambda: print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
    " file=sys.stderr))\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)


def _network(sb: Sandbox, latency: float) -> None:
    """Both sides at `latency` per request; the per-minute and daily quotas off, for the sync
    and the baseline alike (a real portal's 1,500 requests a minute bound both the same way)."""
    for emulator in (sb.asana.emulator, sb.docspace.emulator):
        emulator.faults.latency(latency)
        emulator.limits.requests_per_window = None
        emulator.limits.writes_per_day = None


def _populate(sb: Sandbox, attachments: int, large: int) -> list[tuple[str, int]]:
    a = sb.asana.emulator
    ws = a.add_workspace("Acme")
    out: list[tuple[str, int]] = []
    tasks = []
    for p in range(20):
        project = a.add_project(f"Project {p}", ws)
        for t in range(max(1, attachments // 100)):
            tasks.append(a.add_task(f"Task {p}.{t}", [(project, None)]))
    for n in range(attachments):
        size = LARGE if n < large else SMALL + n
        out.append((a.add_file_attachment(tasks[n % len(tasks)], f"doc{n}.bin", size), size))
    return out


def _sync(sb: Sandbox, workdir: str, *args: str) -> tuple[float, int, str]:
    """One run of the command line as a process: (seconds, peak RSS in MB, output)."""
    env = {
        **os.environ,
        **sb.environment(),
        "DLT_DATA_DIR": os.path.join(workdir, ".dlt-data"),
        "DESTINATION__DUCKDB__CREDENTIALS": os.path.join(workdir, "pm.duckdb"),
        "DESTINATION__DOCSPACE__ATTACHMENTS": "copy",
        "DESTINATION__DOCSPACE__ATTACHMENT_MAX_MB": "300",
        "PYTHONPATH": str(ROOT),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
    }
    script = str(ROOT / "pipelines" / "asana_to_docspace.py")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, script, *args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"sync failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    rss = re.search(r"MAXRSS_KB (\d+)", done.stderr)
    return seconds, int(rss.group(1)) // 1024 if rss else -1, done.stdout


def _minimum_writes(sizes: list[int]) -> int:
    return sum(2 if s < CHUNK else 2 + -(-s // CHUNK) for s in sizes)


def _plain_loop(sb: Sandbox, files: list[tuple[str, int]]) -> float:
    """The naive script: one attachment after another, whole in memory. Returns seconds."""
    asana = requests.Session()
    asana.headers["Authorization"] = f"Bearer {ASANA_TOKEN}"
    docspace = requests.Session()
    docspace.headers["Authorization"] = f"Bearer {DOCSPACE_API_KEY}"
    api = sb.docspace.root_url.rstrip("/") + "/api/2.0"
    room = docspace.post(f"{api}/files/rooms", json={"title": "Baseline", "roomType": 2}).json()
    folder = room["response"]["id"]
    started = time.perf_counter()
    for gid, size in files:
        meta = asana.get(
            f"{sb.asana.base_url}/attachments/{gid}", params={"opt_fields": "download_url,size"}
        ).json()["data"]
        data = requests.get(meta["download_url"]).content
        session = docspace.post(
            f"{api}/files/{folder}/session",
            json={"fileName": f"{gid}.bin", "fileSize": size, "createNewIfExist": True},
        ).json()["response"]
        for n, start in enumerate(range(0, max(size, 1), CHUNK), start=1):
            docspace.post(
                f"{api}/files/{folder}/session/{session['id']}/upload",
                params={"chunkNumber": n},
                files={"file": ("chunk", data[start : start + CHUNK])},
            )
        if size >= CHUNK:
            docspace.put(f"{api}/files/{folder}/session/{session['id']}/finalize")
    return time.perf_counter() - started


def _copy_run(args: argparse.Namespace) -> dict[str, Any]:
    with Sandbox() as sb, tempfile.TemporaryDirectory() as workdir:
        _network(sb, args.latency)
        files = _populate(sb, args.attachments, args.large)
        sizes = [s for _, s in files]
        sb.asana.log.clear()
        assert _sync(sb, workdir, "--extract-only")
        first_extract = len(sb.asana.log)
        sb.docspace.log.clear()
        sb.asana.log.clear()
        wall, _, output = _sync(sb, workdir, "--sync-only")
        # the sync's own time (plan + apply), as its summary prints it: without the process's
        # start-up and dlt's bookkeeping, which the baseline does not have either
        found = re.search(r"DocSpace sync summary \(asana, ([\d.]+)s\)", output)
        seconds = float(found.group(1)) if found else wall
        writes = sb.docspace.log.writes()
        upload_writes = sum(
            n
            for route, n in sb.docspace.log.counts().items()
            if "/session" in route and not route.startswith("GET")
        )
        first_asana = len(sb.asana.log)
        sb.docspace.log.clear()
        sb.asana.log.clear()
        _sync(sb, workdir)  # extract + sync, nothing changed
        again = {
            "asana": len(sb.asana.log),
            "docspace_writes": sb.docspace.log.writes(),
            "downloads": sb.asana.log.count("GET", "/s3/*"),
        }
        baseline = _plain_loop(sb, files)
        return {
            "files": len(files),
            "bytes": sum(sizes),
            "seconds": seconds,
            "baseline": baseline,
            "writes": writes,
            "upload_writes": upload_writes,
            "minimum": _minimum_writes(sizes),
            "first_asana": first_asana,
            "first_extract": first_extract,
            "again": again,
            "wall": wall,
        }


def _rss_run(size_mb: int) -> int:
    with Sandbox() as sb, tempfile.TemporaryDirectory() as workdir:
        a = sb.asana.emulator
        ws = a.add_workspace("Acme")
        task = a.add_task("Big", [(a.add_project("Media", ws), None)])
        a.add_file_attachment(task, "film.mov", size_mb * MIB)
        _sync(sb, workdir, "--extract-only")
        _, rss, _ = _sync(sb, workdir, "--sync-only")
        return rss


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.documents")
    parser.add_argument("--attachments", type=int, default=1000)
    parser.add_argument("--large", type=int, default=3)
    parser.add_argument("--big-mb", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args(argv)

    r = _copy_run(args)
    mb = r["bytes"] / MIB
    ours, base = mb / r["seconds"], mb / r["baseline"]
    print(f"{r['files']} attachments ({args.large} of {LARGE // MIB} MiB), {mb:.0f} MiB in all")
    print(f"  sync (plan + apply)                {r['seconds']:7.1f} s  {ours:7.1f} MiB/s")
    print(f"  (the whole process, start-up and dlt included: {r['wall']:.1f} s)")
    print(f"  plain sequential loop (baseline)   {r['baseline']:7.1f} s  {base:7.1f} MiB/s")
    print(
        f"  ratio                              {ours / base:7.2f}x  {'PASS' if ours >= base else 'FAIL'} (goal: not slower)"
    )
    per_file = r["upload_writes"] / r["files"]
    minimum = r["minimum"] / r["files"]
    ok = r["upload_writes"] == r["minimum"]
    print(
        f"  DocSpace writes for uploads {r['upload_writes']} ({per_file:.3f}/file), the session "
        f"API's minimum {r['minimum']} ({minimum:.3f}/file)  {'PASS' if ok else 'FAIL'}"
    )
    print(f"  all DocSpace writes (rooms, folders, uploads) {r['writes']}")
    print(
        f"  Asana requests, first run: extract {r['first_extract']} (attachments listed in "
        f"batches), copy {r['first_asana']} (a fresh download URL + the download, per file)"
    )
    again = r["again"]
    quiet = again["docspace_writes"] == 0 and again["downloads"] == 0
    print(
        f"  no-change run: Asana requests {again['asana']}, DocSpace writes "
        f"{again['docspace_writes']}, downloads {again['downloads']}  {'PASS' if quiet else 'FAIL'}"
    )
    small, big = _rss_run(2), _rss_run(args.big_mb)
    grew = big - small
    print(
        f"  peak RSS of the sync: {big} MB moving {args.big_mb} MB, {small} MB moving 2 MB "
        f"(+{grew} MB)  {'PASS' if grew < 64 else 'FAIL'} (goal: the file is never in memory)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
