"""`--watch`: keep DocSpace within seconds of the source, unattended, until SIGTERM/SIGINT.

Wiring only: the change detectors live with their sources (`asana_source.changes`,
`trello_source.changes`), the cycle logic in `pipelines.watch_loop`, and the extract and
the sync are the very ones a one-off run uses (the source's dlt pipeline,
`docspace_destination.sync.Sync`).

Process rules:
- one watcher per pipeline: an exclusive `flock` on `<dlt pipelines dir>/<source>.watch.pid`;
  a second one refuses with one line naming the first one's PID;
- each cycle that extracts and syncs holds the pipeline's run lock (`pm_runtime.sync_lock`)
  from the extract to the last write, so a one-off run beside the watcher never interleaves;
- the loop runs in a worker thread, the main thread only handles signals: SIGTERM/SIGINT
  let the DocSpace writes in flight finish, defer the rest (the next run continues, as
  after `--max-writes`), and exit 0; a poll or an extract still running after
  GRACE_SECONDS is abandoned (it changed nothing yet; the next start repeats it);
- exit 1 when credentials are rejected (a restart cannot help), 3 when the secrets file
  was edited (a restart picks the new credentials up).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.watch_settings import WatchSettingsError, read_watch_settings
from pm_runtime.budget import RequestBudget
from pm_runtime.changes import ChangeDetector
from pm_runtime.pidlock import PidLock
from pm_runtime.sync_lock import sync_lock

GRACE_SECONDS = 8.0
MAX_SYNC_WAIT_SECONDS = 120.0  # writes in flight are bounded by the client's timeouts; never hang
EXIT_CRASHED = 70  # EX_SOFTWARE: unexpected, worth a restart (1 means: fix the configuration)


def make_detector(source: str) -> ChangeDetector:
    if source == "asana":
        from asana_source.changes import asana_change_detector

        return asana_change_detector()
    from trello_source.changes import trello_change_detector

    return trello_change_detector()


class ExtractStep:
    """The source → DuckDB load of a one-off run, with the detector's arguments (one pipeline object)."""

    def __init__(self, source: str) -> None:
        from pipelines.sources import SOURCES

        spec = SOURCES[source]
        self.source, self.dataset = source, spec["dataset"]
        self.make_source = getattr(importlib.import_module(spec["module"]), spec["function"])
        self.pipeline: Any = None

    def __call__(self, args: dict[str, Any]) -> dict[str, int]:
        from pm_runtime.staging import fit_file_formats, staging_pipeline

        if self.pipeline is None:
            self.pipeline = staging_pipeline(self.source, self.dataset)
        from docspace_destination.files import source_options  # attachments when copied

        options = {**source_options(self.source), **args}
        self.pipeline.run(fit_file_formats(self.pipeline, self.make_source(**options)))
        trace = self.pipeline.last_trace
        info = trace.last_normalize_info if trace else None
        counts = info.row_counts if info else {}
        # root tables only: child tables (tasks__memberships...) just repeat their parents' story
        return {t: n for t, n in counts.items() if "__" not in t and not t.startswith("_dlt") and n}


class SyncStep:
    """`Sync(...).run()`, interruptible: `stop()` lets the writes in flight finish and defers the rest.

    After each sync the finished load packages of both pipelines are pruned to the newest
    `keep_packages` (see `pipelines.watch_files`)."""

    def __init__(self, source: str, concurrency: int | None, keep_packages: int) -> None:
        self.source, self.concurrency = source, concurrency
        self.keep_packages = keep_packages
        self._lock = threading.Lock()
        self._current: Any = None
        self._stopped = False

    def __call__(self, max_writes: int | None) -> Any:
        from docspace_destination.sync import Sync

        sync = Sync(self.source, concurrency=self.concurrency, max_writes=max_writes)
        with self._lock:
            self._current = sync
            if self._stopped:
                sync.settings.apply.max_writes = 0
        try:
            return sync.run()
        finally:
            with self._lock:
                self._current = None
            self._prune()

    def _prune(self) -> None:
        from pipelines.watch_files import prune_loaded_packages
        from pm_runtime.dlt_state import pipelines_dir

        for name in (self.source, f"{self.source}_docspace"):
            prune_loaded_packages(Path(pipelines_dir()) / name, self.keep_packages)

    def stop(self) -> None:
        # the applier checks the write budget before every write: a zero budget defers what
        # has not started (reported "deferred", resumed by the next run) — the --max-writes path
        with self._lock:
            self._stopped = True
            if self._current is not None:
                self._current.settings.apply.max_writes = 0


def lock_path(source: str) -> Path:
    from pm_runtime.dlt_state import pipelines_dir

    return Path(pipelines_dir()) / f"{source}.watch.pid"


def watch(
    source: str,
    args: argparse.Namespace,
    companion: Callable[[threading.Event], Any] | None = None,
) -> int:
    """Watch until stopped. `companion(stop)`, if given, starts something alongside (the sandbox
    demo's sample changes) and returns a thread-like object, joined briefly on the way out."""
    from pipelines.watch_loop import Budgets, Watcher, is_fatal_error
    from pm_runtime.secrets_watch import SecretsFingerprint, secrets_files

    try:
        settings = read_watch_settings(source, args.interval, args.api_share)
    except WatchSettingsError as exc:
        print(f"error: {exc}")
        return 1
    share = settings.api_share
    budgets = Budgets(
        source=RequestBudget(source, settings.source_quota, settings.source_window, share),
        docspace=RequestBudget("docspace", settings.docspace_quota, 60.0, share),
        docspace_writes=RequestBudget(
            "docspace writes", settings.docspace_writes_per_day, 86400.0, share
        ),
    )
    title = "Asana" if source == "asana" else "Trello"
    quota_text = (
        f"{share:.0%} of {title}'s {settings.source_quota:,.0f} {settings.source_quota_unit}"
    )
    interval = settings.interval

    with PidLock(lock_path(source), f"a watcher for pipeline '{source}'"):
        detector = make_detector(source)
        stop = threading.Event()
        sync_step = SyncStep(source, args.concurrency, settings.keep_load_packages)
        watcher = Watcher(
            source,
            detector,
            ExtractStep(source),
            sync_step,
            budgets,
            interval=interval,
            quota_text=quota_text,
            stop=stop,
            out=sys.stdout,
            verbose=args.verbose,
            max_writes=args.max_writes,
            reconcile_every=settings.reconcile_every_hours * 3600.0,
            credentials_changed=_credentials_watch(source, SecretsFingerprint, secrets_files),
            is_fatal=is_fatal_error,
            exclusive=lambda: sync_lock(source),
        )
        print(
            f"Watching {title} every {interval:g}s (within {quota_text}); "
            f"SIGTERM or Ctrl-C stops (PID {os.getpid()}).",
            flush=True,
        )
        alongside = companion(stop) if companion is not None else None
        try:
            return _run_until_stopped(watcher, stop, sync_step)
        finally:
            if alongside is not None:
                alongside.join(2.0)
            detector.close()
            # the Asana SDK's clients close their thread pools in __del__, which fails noisily
            # at interpreter exit: let them go now
            gc.collect()


def _credentials_watch(source: str, fingerprint: Any, files: Any) -> Any:
    sections = [f"sources.{source}", "destination.docspace"]
    try:
        watched = fingerprint(files(), sections)
    except Exception:  # no readable settings dir: nothing to watch
        return lambda: None
    return lambda: str(watched.changed() or "") or None


def _run_until_stopped(watcher: Any, stop: threading.Event, sync_step: SyncStep) -> int:
    result: list[int] = []
    received: list[int] = []

    def work() -> None:
        try:
            result.append(watcher.run())
        except BaseException as exc:  # never a silent death: say why; 70 lets systemd restart it
            print(f"error: watcher crashed: {type(exc).__name__}: {exc}", flush=True)
            result.append(EXIT_CRASHED)

    def on_signal(signum: int, frame: Any) -> None:
        received.append(signum)
        stop.set()
        sync_step.stop()

    worker = threading.Thread(target=work, name=f"watch-{watcher.source}", daemon=True)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
    worker.start()
    while worker.is_alive() and not stop.is_set():
        worker.join(0.2)
    deadline = time.monotonic() + GRACE_SECONDS
    while worker.is_alive() and (
        time.monotonic() < deadline
        or (watcher.phase == "sync" and time.monotonic() < deadline + MAX_SYNC_WAIT_SECONDS)
    ):
        worker.join(0.1)
    if worker.is_alive():
        # a poll or an extract: nothing applied yet, the next start repeats it
        print(
            f"stopped while {watcher.phase == 'extract' and 'extracting' or 'polling'}: "
            "the next start repeats it",
            flush=True,
        )
        sys.stdout.flush()
        os._exit(0)
    if received:
        name = signal.Signals(received[0]).name
        print(f"{watcher.source} watcher stopped ({name})", flush=True)
    return result[0] if result else 0
