"""`--watch`: keep DocSpace within seconds of the source, unattended, until SIGTERM/SIGINT.

Wiring only: the change detector comes from the source's `SourceSpec.change_detector`, the
cycle logic is `pipelines.watch.loop`, and the extract and the sync (`pipelines.watch.steps`)
are the very ones a one-off run uses (the source's dlt pipeline, `docspace_destination.sync.Sync`).

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
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pipelines.watch.budget import RequestBudget
from pipelines.watch.pidlock import PidLock
from pipelines.watch.settings import WatchSettingsError, read_watch_settings
from pipelines.watch.steps import ExtractStep, SyncStep
from pm_runtime.source_spec import SourceSpec, spec_for
from pm_runtime.sync_lock import sync_lock

GRACE_SECONDS = 8.0
MAX_SYNC_WAIT_SECONDS = 120.0  # writes in flight are bounded by the client's timeouts; never hang
EXIT_CRASHED = 70  # EX_SOFTWARE: unexpected, worth a restart (1 means: fix the configuration)


def lock_path(source: str) -> Path:
    from pm_runtime.dlt_state import pipelines_dir

    return Path(pipelines_dir()) / f"{source}.watch.pid"


def watch(source: str | SourceSpec, args: argparse.Namespace) -> int:
    """Watch `source` until stopped; the exit code (see the module's docstring)."""
    from pipelines.watch.credentials import SecretsFingerprint, secrets_files
    from pipelines.watch.loop import Budgets, Watcher, is_fatal_error

    spec = spec_for(source)
    name = spec.name
    try:
        if spec.change_detector is None:
            raise WatchSettingsError(f"{name} states no change detector: it cannot be watched")
        settings = read_watch_settings(spec, args.interval, args.api_share)
    except WatchSettingsError as exc:
        print(f"error: {exc}")
        return 1
    share = settings.api_share
    budgets = Budgets(
        source=RequestBudget(name, settings.source_quota, settings.source_window, share),
        docspace=RequestBudget("docspace", settings.docspace_quota, 60.0, share),
        docspace_writes=RequestBudget(
            "docspace writes", settings.docspace_writes_per_day, 86400.0, share
        ),
    )
    title = spec.display_title
    quota_text = (
        f"{share:.0%} of {title}'s {settings.source_quota:,.0f} {settings.source_quota_unit}"
    )
    interval = settings.interval

    with PidLock(lock_path(name), f"a watcher for pipeline '{name}'"):
        detector = spec.change_detector()
        stop = threading.Event()
        sync_step = SyncStep(spec, args.concurrency, settings.keep_load_packages)
        watcher = Watcher(
            name,
            detector,
            ExtractStep(spec),
            sync_step,
            budgets,
            interval=interval,
            quota_text=quota_text,
            stop=stop,
            out=sys.stdout,
            verbose=args.verbose,
            max_writes=args.max_writes,
            reconcile_every=settings.reconcile_every_hours * 3600.0,
            credentials_changed=_credentials_watch(name, SecretsFingerprint, secrets_files),
            is_fatal=is_fatal_error,
            exclusive=lambda: sync_lock(name),
        )
        print(
            f"Watching {title} every {interval:g}s (within {quota_text}); "
            f"SIGTERM or Ctrl-C stops (PID {os.getpid()}).",
            flush=True,
        )
        try:
            return _run_until_stopped(watcher, stop, sync_step)
        finally:
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
