"""apply: the only place that writes to DocSpace.

Actions run step by step (unarchive; rooms; folders by depth; archive), each step
concurrently up to the configured limit — except that a create whose parent this run has
just made starts as soon as that parent exists (nothing there to look through or wait
for). Every step is re-runnable: an action the
ledger shows as done is skipped, a create first looks for what may already be
there (a lost reply, a crashed run, a lost ledger) and adopts it, and a record
that fails is noted with its reason without stopping the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

from docspace_destination.apply_report import ApplyReport
from docspace_destination.apply_settings import ApplySettings
from docspace_destination.client import DocSpaceClient, DocSpaceError, WriteLimitReached
from docspace_destination.fileops import FileOperationFailed
from docspace_destination.kinds import KINDS
from docspace_destination.ledger import APPLIED, FAILED, ORPHANED, PENDING, Ledger, LedgerEntry
from docspace_destination.operations import (  # noqa: F401  (OUTCOMES re-exported)
    ADOPT,
    ARCHIVE,
    CREATE,
    MOVE,
    ORPHAN,
    OUTCOMES,
    RENAME,
    RESTORE,
    UNARCHIVE,
    UPLOAD,
    Action,
    BudgetExhausted,
    RecordFailed,
)
from docspace_destination.template_jobs import TemplateJobFailed
from pm_runtime.errors import UserFacingError

log = logging.getLogger(__name__)


class Applier:
    """Runs a plan's actions against DocSpace: phases, concurrency, the write budget, the ledger.

    What an action does is its kind's step (`kinds.KINDS`: rooms, folders); the applier holds
    what every step shares — the ledger rows of this run, the ids already claimed, the budget —
    and the operations that touch only the ledger (orphan, restore).
    """

    def __init__(
        self,
        client: DocSpaceClient,
        ledger: Ledger,
        source: str,
        settings: ApplySettings,
        on_progress: Callable[[Action, str], None] | None = None,
        spent: int = 0,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.source = source
        self.settings = settings
        # the ledger rows the actions being applied read and write (`_read_ledger_for`)
        self.entries: dict[str, LedgerEntry] = {}
        self.report = ApplyReport()
        self.on_progress = on_progress
        self.fresh: set[int] = set()  # made by this run, so known to be empty
        # uploads' session and downloads (file_steps.Documents), set by a sync that copies them
        self.documents: Any = None
        self._lock = threading.Lock()
        self._writes = spent  # writes this run already made (a crashed run's package, resumed)
        # ids other records have where these actions may adopt (`_read_ledger_for`); rooms' and
        # folders' only: files are numbered apart in DocSpace (files_file vs files_folder)
        self._claimed: set[int] = set()
        self.kinds = {name: kind.steps(self) for name, kind in KINDS.items()}
        self._ledger_steps = {ORPHAN: self._orphan, RESTORE: self._restore}

    # -- driving ---------------------------------------------------------------

    def run(self, actions: Iterable[Action]) -> ApplyReport:
        """Apply actions given in plan order (see Plan.ordered): one batch of what dlt delivers.

        The ledger's writes stay off the requests' path where they can. The batch's rows are
        read and its creates written ahead in one transaction before the first request (opening
        the staging file costs ~25 ms, a transaction ~15 ms more, whatever its size); each
        step's outcomes are made durable by a thread of their own while the next step runs.
        And a step does not wait for the whole step before it where it has no need to: a
        folder whose parent this run just made (so known to be empty) is sent as soon as that
        parent exists. On a first sync of 50 rooms × 40 folders the two waits (the rooms'
        last wave, the folders' write-ahead) were a tenth of the apply."""
        started = time.perf_counter()
        actions = list(actions)
        steps = [list(step) for _, step in groupby(actions, key=lambda a: (a.phase, a.depth))]
        # per step: the rows its creates' write-ahead replaced (to undo if it is deferred)
        ahead: list[dict[str, LedgerEntry | None]] = [{} for _ in steps]
        # per step: what began early (`_sender`), with its outcome to come
        early: list[dict[str, Future[str]]] = [{} for _ in steps]
        with (
            ThreadPoolExecutor(
                self.settings.concurrency, thread_name_prefix="docspace-apply"
            ) as pool,
            ThreadPoolExecutor(1, thread_name_prefix="docspace-ledger") as ledger_thread,
        ):
            listed: Future[None] | None = None
            if not self.report.budget_exhausted:  # (past the budget, a batch is only deferred)
                with self.ledger.session():
                    self._read_ledger_for(actions)
                    if steps:  # its listings go out while the rows are written ahead
                        first = [a for a in steps[0] if not self._already_done(a)]
                        listed = ledger_thread.submit(self._prefetch, pool, first)
                    ahead = self._write_ahead_all(steps)
            for number, step in enumerate(steps):
                began = early[number]  # what the step before started of this one
                if self.report.budget_exhausted:
                    # the write budget (--max-writes) or DocSpace's daily limit is spent: nothing
                    # below can run — a child of a deferred parent least of all — so it waits,
                    # untouched, for the next run (deferred, not failed)
                    outcomes = {k: f.result() for k, f in began.items()}
                    self._undo_write_ahead(
                        {
                            k: e
                            for k, e in ahead[number].items()
                            if outcomes.get(k, "deferred") == "deferred"
                        }
                    )
                    self._defer_all(a for a in step if a.key not in began)
                    continue
                todo = []
                for a in step:
                    if a.key in began:
                        continue
                    if self._already_done(a):
                        self.report.add("unchanged")
                        self._progress(a, "unchanged")
                    else:
                        todo.append(a)
                if number:  # the listings a step's creates look in, while its rows are written
                    listed = ledger_thread.submit(self._prefetch, pool, todo)
                    # and the steps before become durable while this one runs
                    ledger_thread.submit(self.ledger.flush)
                self._write_ahead([a for a in self._creates(todo) if a.key not in ahead[number]])
                if listed:
                    listed.result()
                send = self._sender(pool, steps, number, ahead, early)
                # renames first: a move looks for a same-titled folder at its destination (see
                # folders.FolderSteps.move), and a sibling there may be about to take another title
                list(pool.map(send, [a for a in todo if a.op == RENAME]))
                list(pool.map(send, [a for a in todo if a.op != RENAME]))
                for f in list(began.values()):
                    f.result()
        self.ledger.flush()
        self.report.seconds += time.perf_counter() - started
        return self.report

    def _sender(
        self,
        pool: ThreadPoolExecutor,
        steps: list[list[Action]],
        number: int,
        ahead: list[dict[str, LedgerEntry | None]],
        early: list[dict[str, Future[str]]],
    ) -> Callable[[Action], str]:
        """What runs each of the step's actions: the action, then — when it made its record's
        parent just now, so empty — that record's children of the next step, at once. Only
        creates one level down in the same phase whose row is written ahead go early; the
        rest of the next step waits for this one, and a parent adopted or made from a template
        is listed first, at its children's own step, as ever."""
        step, later = steps[number], steps[number + 1] if number + 1 < len(steps) else []
        if not later or (later[0].phase, later[0].depth) != (step[0].phase, step[0].depth + 1):
            return self._execute
        parents = {a.key for a in step}
        waiting: dict[str, list[Action]] = {}
        for a in later:
            if a.op == CREATE and a.key in ahead[number + 1] and a.parent_key in parents:
                waiting.setdefault(a.parent_key, []).append(a)  # type: ignore[arg-type]

        def send(a: Action) -> str:
            outcome = self._execute(a)
            children = waiting.pop(a.key, None)
            if children and not self.report.budget_exhausted and self.id_of(a.key) in self.fresh:
                for child in children:
                    early[number + 1][child.key] = pool.submit(self._execute, child)
            return outcome

        return send

    def _prefetch(self, pool: ThreadPoolExecutor, todo: list[Action]) -> None:
        for kind in self.kinds.values():
            kind.prefetch(pool, todo)

    @staticmethod
    def _creates(actions: Iterable[Action]) -> list[Action]:
        return [a for a in actions if a.op in (CREATE, ADOPT)]

    def _write_ahead_all(self, steps: list[list[Action]]) -> list[dict[str, LedgerEntry | None]]:
        """Write every step's creates ahead, in one transaction; returns per step the rows they
        replaced. A step's creates only where no step before it touches the record: a record
        an earlier step renames, moves or fails is written ahead at its own step."""
        touched: set[str] = set()
        creates: list[Action] = []
        replaced: list[dict[str, LedgerEntry | None]] = []
        for step in steps:
            mine = [
                a for a in self._creates(step) if a.key not in touched and not self._already_done(a)
            ]
            replaced.append({a.key: self.entries.get(a.key) for a in mine})
            creates += mine
            touched.update(k for a in step for k in (a.key, a.from_key) if k)
        self._write_ahead(creates)
        return replaced

    def _undo_write_ahead(self, written: dict[str, LedgerEntry | None]) -> None:
        """A step written ahead is deferred after all (the budget ran out): its rows go back to
        what they were, so its records stay untouched (a crash before this is harmless: a
        pending row only makes the next run look before it creates)."""
        if not written:
            return
        self.ledger.write([e for e in written.values() if e is not None])
        self.ledger.forget([k for k, e in written.items() if e is None])
        with self._lock:
            for key, e in written.items():
                if e is None:
                    self.entries.pop(key, None)
                else:
                    self.entries[key] = e

    def _read_ledger_for(self, actions: list[Action]) -> None:
        """The ledger rows a batch reads — its records', their old keys' (moves), their
        parents' — and the ids claimed where it may adopt: every room's, and those of the rows
        under its parents. Read per batch (≤ `destination.BATCH_SIZE` actions), never the
        whole ledger: an apply of 200,000 folders holds one batch's rows (issue 21)."""
        self.ledger.flush()  # what earlier batches recorded is read back
        keys = {k for a in actions for k in (a.key, a.from_key, a.parent_key) if k}
        with self.ledger.reading():
            entries = self.ledger.load_keys(self.source, keys)
            parents = {a.parent_key for a in actions if a.parent_key}
            parent_ids = {
                e.docspace_id for k, e in entries.items() if k in parents and e.docspace_id
            }
            claimed = self.ledger.claimed_ids(self.source, parents, parent_ids)
        with self._lock:
            self.entries = entries
            self._claimed = claimed

    def _defer_all(self, actions: Iterable[Action]) -> None:
        for a in actions:
            self.report.add("deferred")
            self._progress(a, "deferred")

    def _progress(self, action: Action, outcome: str) -> None:
        if self.on_progress:
            self.on_progress(action, outcome)

    def _already_done(self, a: Action) -> bool:
        """At-least-once delivery replays actions: skip those the ledger shows as applied."""
        entry = self.entries.get(a.key)
        if entry is None:
            return False
        done = entry.status == APPLIED and entry.docspace_id is not None
        if a.op in (CREATE, ADOPT, RESTORE, UPLOAD):
            return done
        if a.op == RENAME:
            return done and entry.title == a.title
        if a.op == MOVE:
            # a replayed move whose old key is already gone was recorded under its new key
            moved_off = a.from_key in (None, a.key) or a.from_key not in self.entries
            return (
                done
                and moved_off
                and not entry.intent
                and entry.parent_key == a.parent_key
                and entry.title == a.title
            )
        if a.op == ARCHIVE:
            return bool(entry.archived)
        if a.op == UNARCHIVE:
            return done and not entry.archived
        if a.op == ORPHAN:
            return entry.status == ORPHANED
        return False

    def _write_ahead(self, creates: list[Action]) -> None:
        """Make the creates' rows `pending` before their requests go out: a crash or a lost
        reply then makes the next run look before it creates. The outcomes noted so far go in
        the same transaction."""
        pending = []
        for a in creates:
            old = self.entries.get(a.key)
            pending.append(
                self.entry(
                    a,
                    status=PENDING,
                    last_error=old.last_error if old else None,
                    attempts=(old.attempts if old else 0) + 1,
                )
            )
        if not pending:
            return
        self.ledger.flush(also=pending)
        with self._lock:
            for e in pending:
                self.entries[e.key] = e

    def _step(self, a: Action) -> Callable[[Action], str]:
        return self._ledger_steps.get(a.op) or self.kinds[a.kind].steps[a.op]

    def _execute(self, a: Action) -> str:
        """Run one action; never raises for its record alone (its outcome says what became of it)."""
        if self.report.write_limit_resets_at is not None:
            self._defer_all([a])
            return "deferred"
        try:
            outcome = self._step(a)(a)
        except BudgetExhausted:
            self.report.budget_exhausted = True
            self.report.add("deferred")
            outcome = "deferred"
        except WriteLimitReached as exc:
            # like the write budget, but set by DocSpace: the ledger keeps what was done (a
            # create written ahead stays pending, so the next run looks before it creates)
            with self._lock:
                self.report.budget_exhausted = True
                self.report.write_limit_resets_at = exc.resets_at
            self.report.add("deferred")
            outcome = "deferred"
        except UserFacingError:
            raise
        except (DocSpaceError, RecordFailed, TemplateJobFailed, FileOperationFailed) as exc:
            reason = exc.message if isinstance(exc, DocSpaceError) else str(exc)
            if isinstance(exc, DocSpaceError) and exc.status:
                reason = f"{exc.status} {reason}"
            if isinstance(exc, DocSpaceError) and exc.status == 403 and a.op != CREATE:
                # what the ledger knows is out of reach: typically deleted by hand into a Trash
                reason += " (deleted or moved by hand? --refresh looks and makes it again)"
            self._fail(a, reason)
            outcome = "failed"
        except Exception as exc:  # one bad record never stops the others
            log.exception("unexpected error applying %s", a.key)
            self._fail(a, f"{type(exc).__name__}: {exc}")
            outcome = "failed"
        else:
            self.report.add(outcome)
        self._progress(a, outcome)
        return outcome

    # -- what the kinds' steps share ----------------------------------------------

    def reserve(self, writes: int) -> None:
        """Count writes against the run's budget before sending them; refuse past it."""
        with self._lock:
            if self._writes + writes > self.settings.max_writes:
                raise BudgetExhausted
            self._writes += writes

    @property
    def writes_made(self) -> int:
        """DocSpace writes counted against the budget so far (resumed ones included)."""
        return self._writes

    def count_write(self) -> None:
        """Count a write that must follow one already sent, whatever the budget says."""
        with self._lock:
            self._writes += 1

    def claimed(self) -> set[int]:
        with self._lock:
            return set(self._claimed)

    def claim(self, docspace_id: int) -> None:
        with self._lock:
            if docspace_id in self._claimed:
                raise RecordFailed(f"room {docspace_id} is already another record's room")
            self._claimed.add(docspace_id)

    def unclaimed(
        self, candidates: list[dict[str, Any]], title: str | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            return [
                c
                for c in candidates
                if int(c["id"]) not in self._claimed and (title is None or c.get("title") == title)
            ]

    def id_of(self, key: str | None) -> int | None:
        if key is None:
            return None
        entry = self.entries.get(key)
        if entry is None or entry.docspace_id is None or entry.status not in (APPLIED, ORPHANED):
            return None
        return entry.docspace_id

    def subtree(self, key: str | None) -> list[LedgerEntry]:
        """The ledger rows of `key` and everything below it, at any depth, that have an id."""
        if key is None:
            return []
        self.ledger.flush()
        return [e for e in self.ledger.subtree(self.source, key) if e.docspace_id is not None]

    def file_ids_beside(self, entry: LedgerEntry) -> set[int]:
        """The ids of the files other records have in `entry`'s folder."""
        self.ledger.flush()
        return {
            e.docspace_id
            for e in self.ledger.files_in(self.source, entry.parent_key)
            if e.docspace_id is not None and e.key != entry.key
        }

    def save(self, entry: LedgerEntry) -> None:
        with self._lock:
            self.entries[entry.key] = entry
            if entry.docspace_id is not None and entry.kind != "file":
                self._claimed.add(entry.docspace_id)
        self.ledger.record(entry)

    def forget(self, key: str) -> None:
        """Drop a key whose record now lives under another (a moved folder's old key)."""
        self.ledger.flush()  # the new key is durable first
        self.ledger.forget([key])
        with self._lock:
            self.entries.pop(key, None)

    def entry(self, a: Action, **fields: Any) -> LedgerEntry:
        """A ledger row for the action's record; `fields` say what is known of it in DocSpace."""
        row: dict[str, Any] = {
            "docspace_id": None,
            "parent_id": None,
            "title": a.title,
            "archived": False,
            "updated_at": datetime.now(UTC),  # (as `evolve` sets it: a copy less per row)
        }
        row.update(fields)
        return LedgerEntry(
            key=a.key,
            source=self.source,
            entity=a.entity,
            kind=a.kind,
            parent_key=a.parent_key,
            **row,
        )

    def applied(
        self, a: Action, docspace_id: int, parent_id: int | None, title: str, archived: bool
    ) -> None:
        old = self.entries.get(a.key)
        self.save(
            self.entry(
                a,
                docspace_id=docspace_id,
                parent_id=parent_id,
                title=title,
                archived=archived,
                status=APPLIED,
                attempts=old.attempts if old else 0,
            )
        )

    def note_intent(self, entry: LedgerEntry, intent: str) -> LedgerEntry:
        """Write-ahead for a file operation: durable before the request goes out."""
        marked = entry.evolve(intent=intent)
        self.ledger.write([marked])
        self.ledger.record(marked)  # a later record of this key in the buffer replaces it
        with self._lock:
            self.entries[entry.key] = marked
        return marked

    def note_intents(self, entries: list[LedgerEntry]) -> None:
        """Write-ahead for many rows at once (a step's uploads): one short transaction."""
        self.ledger.write(entries)
        for e in entries:
            self.ledger.record(e)
        with self._lock:
            for e in entries:
                self.entries[e.key] = e

    def rename(self, a: Action, put: Callable[[int, str], Any]) -> str:
        """A rename is one synchronous PUT that is harmless to repeat (same title again), so it
        needs no write-ahead and the client may re-send it after a lost reply. It must not race
        a move or archive of the same object that a crashed run left running: it waits first."""
        entry = self.entries[a.key]
        self.reserve(1)
        if entry.intent:
            self.client.settle_operations()
        result = put(int(entry.docspace_id), a.title)  # type: ignore[arg-type]
        title = (result or {}).get("title", a.title) if isinstance(result, dict) else a.title
        self.save(entry.evolve(title=title, status=APPLIED, last_error=None))
        return "renamed"

    def _fail(self, a: Action, reason: str) -> None:
        self.report.fail(a, reason)
        old = self.entries.get(a.key)
        if old is None and a.op == MOVE and a.from_key in self.entries:
            # the reason goes on the folder's row: a row under the new key with no id would
            # make the next plan create an empty folder instead of moving this one again
            old = self.entries[a.from_key]
        if old is not None:
            status = FAILED if old.docspace_id is None else old.status
            self.save(old.evolve(status=status, last_error=reason[:500]))
        else:
            self.save(self.entry(a, status=FAILED, last_error=reason[:500], attempts=1))

    # -- operations on the ledger alone ----------------------------------------------

    def _orphan(self, a: Action) -> str:
        entry = self.entries[a.key]
        self.save(entry.evolve(status=ORPHANED, last_error=a.reason or None))
        return "orphaned"

    def _restore(self, a: Action) -> str:
        entry = self.entries[a.key]
        self.save(entry.evolve(status=APPLIED, last_error=None))
        return "restored"
