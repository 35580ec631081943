"""Two syncs of one pipeline never apply at once: the second waits, then names the holder."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from pm_runtime.sync_lock import SyncLockHeld, file_sync_lock, postgres_sync_lock

HOLD_IN_SUBPROCESS = textwrap.dedent(
    """
    import sys, time
    from pm_runtime.sync_lock import file_sync_lock
    with file_sync_lock(sys.argv[1], "asana_docspace", timeout=5):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def _hold_file_lock(db: str, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_IN_SUBPROCESS, db, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_sync_on_duckdb_staging_stops_naming_the_holder(tmp_path):
    db = str(tmp_path / "pm.duckdb")
    holder = _hold_file_lock(db, 5)
    try:
        with pytest.raises(SyncLockHeld) as err, file_sync_lock(db, "asana_docspace", timeout=0.5):
            pass
        message = str(err.value)
        assert f"PID {holder.pid}" in message and "asana_docspace" in message
        assert "\n" not in message
    finally:
        holder.kill()
        holder.wait()


def test_second_sync_on_duckdb_staging_waits_for_the_first_to_finish(tmp_path):
    db = str(tmp_path / "pm.duckdb")
    holder = _hold_file_lock(db, 1)
    said: list[str] = []
    started = time.monotonic()
    with file_sync_lock(db, "asana_docspace", timeout=30, say=said.append):
        waited = time.monotonic() - started
    holder.wait()
    assert 0.3 < waited < 20
    assert len(said) == 1 and f"PID {holder.pid}" in said[0]


def test_a_killed_sync_leaves_no_lock_behind_on_duckdb_staging(tmp_path):
    db = str(tmp_path / "pm.duckdb")
    holder = _hold_file_lock(db, 60)
    holder.kill()
    holder.wait()
    with file_sync_lock(db, "asana_docspace", timeout=1):
        pass


def test_other_pipelines_do_not_wait_on_duckdb_staging(tmp_path):
    db = str(tmp_path / "pm.duckdb")
    holder = _hold_file_lock(db, 5)
    try:
        with file_sync_lock(db, "trello_docspace", timeout=0.5):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_second_sync_on_postgres_staging_stops_naming_the_holder(postgres_url):
    acquired = threading.Event()
    release = threading.Event()

    def first() -> None:
        with postgres_sync_lock(lambda: psycopg2.connect(postgres_url), "asana_docspace"):
            acquired.set()
            release.wait(10)

    t = threading.Thread(target=first)
    t.start()
    try:
        assert acquired.wait(10)
        with (
            pytest.raises(SyncLockHeld) as err,
            postgres_sync_lock(
                lambda: psycopg2.connect(postgres_url), "asana_docspace", timeout=0.5
            ),
        ):
            pass
        import os

        assert f"PID {os.getpid()}" in str(err.value)
        with postgres_sync_lock(
            lambda: psycopg2.connect(postgres_url), "trello_docspace", timeout=0.5
        ):
            pass
    finally:
        release.set()
        t.join()
    with postgres_sync_lock(lambda: psycopg2.connect(postgres_url), "asana_docspace", timeout=0.5):
        pass


def test_a_dropped_connection_releases_the_postgres_lock(postgres_url):
    code = textwrap.dedent(
        f"""
        import time, psycopg2
        from pm_runtime.sync_lock import postgres_sync_lock
        with postgres_sync_lock(lambda: psycopg2.connect({postgres_url!r}), "asana_docspace"):
            print("held", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    proc.kill()
    proc.wait()
    with postgres_sync_lock(lambda: psycopg2.connect(postgres_url), "asana_docspace", timeout=10):
        pass


def _taken_elsewhere(database: str, pipeline: str) -> bool:
    """Whether another process finds `pipeline`'s lock held (it does not wait)."""
    tries = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pm_runtime.sync_lock import file_sync_lock\n"
            "with file_sync_lock(sys.argv[1], sys.argv[2], timeout=0): pass",
            database,
            pipeline,
        ],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        capture_output=True,
        text=True,
    )
    return tries.returncode != 0 and "SyncLockHeld" in tries.stderr


def test_a_handed_over_descriptor_that_is_not_the_lock_file_takes_the_lock_as_usual(workspace):
    """`pipelines.fresh_sync` passes the lock's descriptor across exec; a wrong number (not the
    lock file) must neither leave the run unlocked nor hold anything else open."""
    from pm_runtime.staging import staging_database_path
    from pm_runtime.sync_lock import adopted_lock

    database = str(staging_database_path())
    unrelated = os.open(workspace / "unrelated", os.O_RDWR | os.O_CREAT)
    with adopted_lock("asana", unrelated):
        assert _taken_elsewhere(database, "asana")
    assert not _taken_elsewhere(database, "asana")
    with pytest.raises(OSError):
        os.fstat(unrelated)  # closed: it was handed to the lock
