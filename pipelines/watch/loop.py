"""The watch loop: look cheaply, and extract, plan and apply only when something moved.

One cycle:

1. poll the source's change detector (Asana: events per project; Trello: the board
   listing) inside the source API's budget share; nothing else happens when it is idle —
   no DuckDB connection, no dlt load package, no run-log row;
2. on a change: an incremental extract of what moved, then plan + apply (the same
   `Sync` a one-off run uses), inside DocSpace's per-minute and daily write shares;
3. commit the detector's cursors only after both succeeded, so a failed cycle sees the
   same changes again after its backoff.

The first cycle after start is a catch-up (a full incremental extract and a sync:
changes made while no watcher ran), and every `reconcile_every` seconds an unfiltered
extract lets the source run its periodic full reconcile.

A failing cycle (API down, 5xx after retries, DuckDB locked, another run of the pipeline
holding its lock past `[staging] lock_timeout`) backs off and logs one line;
only rejected credentials (or edited ones) end the loop.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from pipelines.watch.budget import RequestBudget
from pm_runtime.changes import ChangeDetector, Changes
from pm_runtime.errors import ConfigurationError, find_user_error

MAX_BACKOFF_SECONDS = 300.0
RETRY_MAX_SECONDS = 3600.0  # failed records: retried at the latest hourly (and on every change)
EXIT_STOPPED, EXIT_FATAL, EXIT_CREDENTIALS_CHANGED = 0, 1, 3


class CredentialsChanged(Exception):
    """The secrets file was edited under the running watcher: a restart picks the new ones up."""


@dataclass
class Budgets:
    """The shares of each API's quota this watcher may spend."""

    source: RequestBudget  # Asana requests/min or Trello requests/10 s
    docspace: RequestBudget  # DocSpace requests/min
    docspace_writes: RequestBudget  # DocSpace writes/day


@dataclass
class CycleStats:
    """What the loop did so far (for benchmarks and -v)."""

    cycles: int = 0
    idle: int = 0
    synced: int = 0
    failed: int = 0
    detect_requests: int = 0
    latencies: list[float] = field(default_factory=list)


Extract = Callable[[dict[str, Any]], dict[str, int]]
SyncStep = Callable[[int | None], Any]  # max_writes -> SyncResult


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Watcher:
    def __init__(
        self,
        source: str,
        detector: ChangeDetector,
        extract: Extract,
        sync: SyncStep,
        budgets: Budgets,
        *,
        interval: float,
        quota_text: str,
        stop: threading.Event,
        out: TextIO,
        verbose: int = 0,
        max_writes: int | None = None,
        reconcile_every: float = 24 * 3600.0,
        credentials_changed: Callable[[], str | None] = lambda: None,
        is_fatal: Callable[[BaseException], bool] = lambda exc: False,
        clock: Callable[[], float] = time.monotonic,
        exclusive: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext,
    ) -> None:
        self.source = source
        self.detector = detector
        self.extract = extract
        self.sync = sync
        self.budgets = budgets
        self.interval = interval
        self.quota_text = quota_text
        self.stop = stop
        self.out = out
        self.verbose = verbose
        self.max_writes = max_writes
        self.reconcile_every = reconcile_every
        self.credentials_changed = credentials_changed
        self.is_fatal = is_fatal
        self.clock = clock
        # the pipeline's run lock, held from the extract to the last write of a cycle (a one-off
        # run of the same pipeline waits for it, and the cycle waits for such a run, then backs off)
        self.exclusive = exclusive
        self.phase = "idle"  # idle | detect | extract | sync: what a stop request interrupts
        self.stats = CycleStats()
        self._stretch_told = False
        self._budget_told = False
        # records that failed (or were deferred) are retried without a source change, with a
        # doubling pause: a record that keeps failing must not cost a sync and a run row per look
        self._sync_pending = False
        self._retries = 0
        self._retry_at = 0.0

    # -- output -----------------------------------------------------------------------------

    def say(self, text: str) -> None:
        print(f"{_now()} {self.source}: {text}", file=self.out, flush=True)

    # -- pacing -------------------------------------------------------------------------------

    def effective_interval(self) -> float:
        """The requested interval, stretched when one poll would overspend the source's share."""
        per_poll = self.detector.requests_per_poll()
        needed = self.budgets.source.min_interval(per_poll)
        if needed <= self.interval:
            return self.interval
        if not self._stretch_told:
            self._stretch_told = True
            self.say(
                f"one look costs {per_poll} requests; within {self.quota_text} that allows one "
                f"look every {needed:.1f}s, so the interval is {needed:.1f}s instead of {self.interval:g}s"
            )
        return needed

    def _wait(self, seconds: float) -> bool:
        """Sleep unless stopped; True when a stop was requested."""
        return self.stop.wait(seconds) if seconds > 0 else self.stop.is_set()

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> int:
        failures = 0
        full_due, caught_up = (
            True,
            False,
        )  # the first cycle catches up on changes made while stopped
        next_reconcile = self.clock() + self.reconcile_every
        while not self.stop.is_set():
            started = self.clock()
            try:
                changed_file = self.credentials_changed()
                if changed_file:
                    raise CredentialsChanged(changed_file)
                reason = "" if not full_due else ("periodic reconcile" if caught_up else "catch-up")
                self.cycle(full=full_due, reason=reason)
                if full_due and not self.stop.is_set():
                    full_due, caught_up = False, True
                    next_reconcile = self.clock() + self.reconcile_every
                if self.clock() >= next_reconcile:
                    full_due = True
                failures = 0
            except CredentialsChanged as exc:
                self.say(
                    f"credentials in {exc} changed: stopping so that a restart uses the new ones"
                )
                return EXIT_CREDENTIALS_CHANGED
            except Exception as exc:
                if self.is_fatal(exc) or self.detector.is_credentials_error(exc):
                    user = find_user_error(exc)
                    print(f"error: {user or exc}", file=self.out, flush=True)
                    return EXIT_FATAL
                failures += 1
                self.stats.failed += 1
                delay = min(MAX_BACKOFF_SECONDS, self.interval * 2**failures)
                self.say(f"cycle failed: {_one_line(exc)}; next try in {delay:.0f}s")
                self.phase = "idle"
                if self._wait(delay):
                    break
                continue
            finally:
                self.phase = "idle"
            if self._wait(self.effective_interval() - (self.clock() - started)):
                break
        return EXIT_STOPPED

    def cycle(self, full: bool = False, reason: str = "") -> None:
        self.stats.cycles += 1
        self.phase = "detect"
        wait = self.budgets.source.delay(self.detector.requests_per_poll())
        if wait and self._wait(wait):
            return
        t0 = self.clock()
        changes = self.detector.poll()
        self.budgets.source.spend(changes.requests)
        self.stats.detect_requests += changes.requests
        retry_due = self._sync_pending and self.clock() >= self._retry_at
        if not (changes.any or full or retry_due):
            self.stats.idle += 1
            if self.verbose:
                self.say(f"no changes ({changes.requests} requests)")
            return
        if self.stop.is_set():
            return
        with self.exclusive():
            self._apply(changes, full, reason, t0)

    def _apply(self, changes: Changes, full: bool, label: str, t0: float) -> None:
        rows: dict[str, int] = {}
        if changes.any or full:
            self.phase = "extract"
            self.budgets.source.spend(changes.extract_cost)
            rows = self.extract({} if full else changes.source_args)
            if self.stop.is_set():
                return  # staged, not applied: the next start's catch-up applies it
        self.phase = "sync"
        max_writes = self._writes_allowed()
        if max_writes == 0:
            self._pending(True)
            changes.commit()  # staged; the plan picks them up when the write share refills
            return
        wait = self.budgets.docspace.delay(1)
        if wait and self._wait(wait):
            return
        result = self.sync(max_writes)
        self.budgets.docspace.spend(result.reads + result.writes)
        self.budgets.docspace_writes.spend(result.writes)
        changes.commit()
        self.stats.synced += 1
        self.stats.latencies.append(self.clock() - t0)
        report = result.report
        self._pending(bool(result.failed or (report and report.budget_exhausted)))
        done = _outcomes(result)
        if not (changes.any or rows or done or result.failed or self.verbose):
            return  # a catch-up or reconcile that found nothing: silence
        what = ", ".join(changes.what[:5]) + (
            f" and {len(changes.what) - 5} more" if len(changes.what) > 5 else ""
        )
        head = " / ".join(x for x in (label, what) if x) or "sync"
        staged = ", ".join(f"{t} {n}" for t, n in sorted(rows.items())) or "nothing new"
        self.say(
            f"{head} → DuckDB {staged}; DocSpace {done or 'nothing to do'} "
            f"({result.reads + result.writes} requests, {self.clock() - t0:.1f}s)"
        )
        for key, title, why in (report.failures if report else [])[:5]:
            self.say(f"FAILED {key} {title!r}: {why} (retried next cycle)")

    def _pending(self, pending: bool) -> None:
        self._sync_pending = pending
        self._retries = self._retries + 1 if pending else 0
        pause = min(RETRY_MAX_SECONDS, self.interval * 2**self._retries)
        self._retry_at = self.clock() + pause if pending else 0.0

    def _writes_allowed(self) -> int | None:
        """This cycle's DocSpace write budget: what is left of the daily share (and --max-writes)."""
        daily = self.budgets.docspace_writes
        left = max(0, int(daily.allowed) - daily.used())
        if left == 0:
            if not self._budget_told:
                self._budget_told = True
                self.say(
                    f"DocSpace write share for the day reached ({int(daily.allowed)} writes): "
                    "changes are staged and applied when it refills"
                )
            return 0
        self._budget_told = False
        return left if self.max_writes is None else min(left, self.max_writes)


def _outcomes(result: Any) -> str:
    counts = dict(result.report.counts) if result.report else {}
    shown = [f"{k} {v}" for k, v in counts.items() if v and k != "unchanged"]
    for step in (getattr(result, "writeback", None), getattr(result, "members", None)):
        if step is not None:
            changed = {
                k: v
                for k, v in step.counts.items()
                if v and k not in ("unchanged", "unknown people")
            }
            shown += [f"{step.step} {k} {v}" for k, v in sorted(changed.items())]
    return ", ".join(shown)


def _one_line(exc: BaseException) -> str:
    user = find_user_error(exc)
    text = str(user) if user else f"{type(exc).__name__}: {exc}"
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def is_fatal_error(exc: BaseException) -> bool:
    """Errors a retry cannot fix: rejected DocSpace key, bad configuration."""
    from docspace_destination.client import DocSpaceAuthError

    user = find_user_error(exc)
    return isinstance(user, (DocSpaceAuthError, ConfigurationError))
