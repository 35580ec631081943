"""`python -m sandbox serve`: three emulators on loopback, their URLs and tokens printed, until interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def test_sandbox_serve_prints_each_service_and_answers_until_interrupted():
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--sample", "small"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        # Ctrl-C as in a terminal, even when this suite was started with SIGINT ignored (a
        # background job of a script: `make test &`), which the child would inherit and keep
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        lines = {}
        while len(lines) < 3:
            line = proc.stdout.readline()
            assert line, "sandbox serve exited early"
            name, url, *creds = line.split()
            lines[name] = (url, dict(c.split("=", 1) for c in creds))
        assert set(lines) == {"asana", "trello", "docspace"}
        url, creds = lines["asana"]
        assert url.startswith("http://127.0.0.1:")
        projects = requests.get(
            f"{url}/projects",
            params={
                "limit": 100,
                "workspace": requests.get(
                    f"{url}/workspaces",
                    headers={"Authorization": f"Bearer {creds['access_token']}"},
                    timeout=5,
                ).json()["data"][0]["gid"],
            },
            headers={"Authorization": f"Bearer {creds['access_token']}"},
            timeout=5,
        )
        assert projects.status_code == 200 and len(projects.json()["data"]) == 3
        url, creds = lines["docspace"]
        rooms = requests.get(
            f"{url}/files/rooms", headers={"Authorization": f"Bearer {creds['api_key']}"}, timeout=5
        )
        assert rooms.status_code == 200 and rooms.json()["statusCode"] == 200
        url, creds = lines["trello"]
        boards = requests.get(
            f"{url}/members/me/boards",
            params={"key": creds["api_key"], "token": creds["token"]},
            timeout=5,
        )
        assert boards.status_code == 200 and len(boards.json()) >= 2
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
