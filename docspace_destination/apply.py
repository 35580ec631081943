"""apply: the only place that writes to DocSpace.

Actions run step by step (unarchive; rooms; folders by depth; archive), each step
concurrently up to the configured limit. Every step is re-runnable: an action the
ledger shows as done is skipped, a create first looks for what may already be
there (a lost reply, a crashed run, a lost ledger) and adopts it, and a record
that fails is noted with its reason without stopping the others.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from docspace_destination.client import (
    AmbiguousWriteError,
    DocSpaceClient,
    DocSpaceError,
    WriteLimitReached,
)
from docspace_destination.ledger import APPLIED, FAILED, ORPHANED, PENDING, Ledger, LedgerEntry
from docspace_destination.plan import (
    ARCHIVE,
    CREATE,
    MOVE,
    ORPHAN,
    PHASE,
    RENAME,
    RESTORE,
    UNARCHIVE,
    Action,
)
from docspace_destination.template_jobs import (
    TemplateJobFailed,
    TemplateJobs,
    has_marker,
    marker_key,
    tag_names,
)
from pm_runtime.errors import UserFacingError

log = logging.getLogger(__name__)

MAX_CONCURRENCY = 15  # DocSpace rejects a 16th concurrent write per user
CREATE_ATTEMPTS = 3
MARKERS_PER_LISTING = 40  # marker tags per room listing (one query parameter; keep URLs short)


# what a run reports, in the order the summary prints it (docspace_state.runs has a column each)
OUTCOMES = (
    "created",
    "adopted",
    "renamed",
    "moved",
    "archived",
    "unarchived",
    "orphaned",
    "restored",
    "failed",
    "deferred",
    "unchanged",
)


class BudgetExhausted(Exception):
    """The run's write budget is spent; what is left waits for the next run."""


class RecordFailed(Exception):
    """One record cannot be applied; the message says why."""


@dataclass
class ApplySettings:
    concurrency: int = 8
    max_writes: int = 9000
    room_type: int = 2
    private: bool = False
    room_tags: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise UserFacingError(
                f"concurrency must be between 1 and {MAX_CONCURRENCY} (DocSpace allows 15 concurrent writes), "
                f"got {self.concurrency}"
            )
        if self.max_writes < 0:
            raise UserFacingError(f"max_writes must be >= 0, got {self.max_writes}")


@dataclass
class ApplyReport:
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # key, title, reason
    budget_exhausted: bool = False
    # DocSpace's daily write limit was hit: nothing more is sent, the rest waits for this time
    write_limit_resets_at: datetime | None = None
    seconds: float = (
        0.0  # time spent applying (inside the destination), without planning or dlt's steps
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.counts[outcome] += n

    def fail(self, action: Action, reason: str) -> None:
        with self._lock:
            self.counts["failed"] += 1
            self.failures.append((action.key, action.title, reason))


class Applier:
    def __init__(
        self,
        client: DocSpaceClient,
        ledger: Ledger,
        source: str,
        settings: ApplySettings,
        entries: dict[str, LedgerEntry] | None = None,
        on_progress: Callable[[Action, str], None] | None = None,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.source = source
        self.settings = settings
        self.entries = dict(entries if entries is not None else ledger.load(source))
        self.report = ApplyReport()
        self.on_progress = on_progress
        self._lock = threading.Lock()
        self._writes = 0
        self._claimed = {e.docspace_id for e in self.entries.values() if e.docspace_id is not None}
        self._children: dict[int, list[dict[str, Any]]] = {}
        self._fresh: set[int] = set()  # made by this run, so known to be empty
        self._gone: set[int] = set()  # parents found deleted in DocSpace during this run
        self._rooms_by_marker: dict[str, list[dict[str, Any]]] = {}
        self._template_jobs = TemplateJobs(client)

    # -- driving ---------------------------------------------------------------

    def run(self, actions: Iterable[Action]) -> ApplyReport:
        """Apply actions given in plan order (see Plan.ordered)."""
        started = time.perf_counter()
        with ThreadPoolExecutor(
            self.settings.concurrency, thread_name_prefix="docspace-apply"
        ) as pool:
            for _, step in groupby(actions, key=lambda a: (PHASE[a.op], a.depth)):
                if self.report.write_limit_resets_at is not None:
                    self._defer_all(step)  # the daily limit: stop at once, the next run continues
                    continue
                todo = []
                for a in step:
                    if self._already_done(a):
                        self.report.add("unchanged")
                        self._progress(a, "unchanged")
                    else:
                        todo.append(a)
                self._write_ahead([a for a in todo if a.op == CREATE])
                self._prefetch_rooms(pool, todo)
                self._prefetch_children(pool, todo)
                list(pool.map(self._execute, todo))
                self.ledger.flush()
        self.report.seconds += time.perf_counter() - started
        return self.report

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
        if a.op == CREATE:
            return done
        if a.op == RENAME:
            return done and entry.title == a.title
        if a.op == MOVE:
            return (
                done
                and a.from_key == a.key
                and entry.parent_key == a.parent_key
                and entry.title == a.title
            )
        if a.op == ARCHIVE:
            return bool(entry.archived)
        if a.op == UNARCHIVE:
            return done and not entry.archived
        if a.op == ORPHAN:
            return entry.status == ORPHANED
        if a.op == RESTORE:
            return done
        return False

    def _write_ahead(self, creates: list[Action]) -> None:
        pending = []
        for a in creates:
            old = self.entries.get(a.key)
            pending.append(
                self._entry(
                    a,
                    status=PENDING,
                    last_error=old.last_error if old else None,
                    attempts=(old.attempts if old else 0) + 1,
                )
            )
        self.ledger.write(pending)
        with self._lock:
            for e in pending:
                self.entries[e.key] = e

    def _prefetch_rooms(self, pool: ThreadPoolExecutor, todo: list[Action]) -> None:
        """Look for every room about to be created in a few listings (the tags filter matches any)."""
        markers = [a.key for a in todo if a.op == CREATE and a.kind == "room"]
        chunks = [
            markers[i : i + MARKERS_PER_LISTING]
            for i in range(0, len(markers), MARKERS_PER_LISTING)
        ]

        def fetch(chunk: list[str]) -> None:
            try:
                rooms = self.client.list_rooms(area="any", tags=chunk)
            except DocSpaceError:
                return  # each create looks on its own then
            # the portal matches tags case-insensitively (MySQL collation): so do we
            found: dict[str, list[dict[str, Any]]] = {marker_key(m): [] for m in chunk}
            for room in rooms:
                for tag in {marker_key(t) for t in tag_names(room)}:
                    if tag in found:
                        found[tag].append(room)
            self._rooms_by_marker.update({m: found[marker_key(m)] for m in chunk})

        list(pool.map(fetch, chunks))

    def _prefetch_children(self, pool: ThreadPoolExecutor, todo: list[Action]) -> None:
        parents = set()
        for a in todo:
            if a.op == CREATE and a.kind == "folder":
                pid = self._id_of(a.parent_key)
                if pid is not None and pid not in self._fresh and pid not in self._children:
                    parents.add(pid)

        def fetch(pid: int) -> None:
            try:
                self._children[pid] = self.client.subfolders(pid)
            except DocSpaceError:
                pass  # the create will look again and report the error on its own record

        list(pool.map(fetch, sorted(parents)))

    def _execute(self, a: Action) -> None:
        if self.report.write_limit_resets_at is not None:
            self._defer_all([a])
            return
        try:
            outcome = {
                CREATE: self._create,
                RENAME: self._rename,
                MOVE: self._move,
                ARCHIVE: self._archive,
                UNARCHIVE: self._unarchive,
                ORPHAN: self._orphan,
                RESTORE: self._restore,
            }[a.op](a)
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
        except (DocSpaceError, RecordFailed, TemplateJobFailed) as exc:
            reason = exc.message if isinstance(exc, DocSpaceError) else str(exc)
            if isinstance(exc, DocSpaceError) and exc.status:
                reason = f"{exc.status} {reason}"
            self._fail(a, reason)
            outcome = "failed"
        except Exception as exc:  # one bad record never stops the others
            log.exception("unexpected error applying %s", a.key)
            self._fail(a, f"{type(exc).__name__}: {exc}")
            outcome = "failed"
        else:
            self.report.add(outcome)
        self._progress(a, outcome)

    # -- bookkeeping -------------------------------------------------------------

    def _reserve(self, writes: int) -> None:
        with self._lock:
            if self._writes + writes > self.settings.max_writes:
                raise BudgetExhausted
            self._writes += writes

    def _id_of(self, key: str | None) -> int | None:
        if key is None:
            return None
        entry = self.entries.get(key)
        if entry is None or entry.docspace_id is None or entry.status not in (APPLIED, ORPHANED):
            return None
        return entry.docspace_id

    def _save(self, entry: LedgerEntry) -> None:
        with self._lock:
            self.entries[entry.key] = entry
            if entry.docspace_id is not None:
                self._claimed.add(entry.docspace_id)
        self.ledger.record(entry)

    def _fail(self, a: Action, reason: str) -> None:
        self.report.fail(a, reason)
        old = self.entries.get(a.key)
        if old is not None:
            status = FAILED if old.docspace_id is None else old.status
            self._save(old.evolve(status=status, last_error=reason[:500]))
        else:
            self._save(self._entry(a, status=FAILED, last_error=reason[:500], attempts=1))

    def _entry(self, a: Action, **fields: Any) -> LedgerEntry:
        """A ledger row for the action's record; `fields` say what is known of it in DocSpace."""
        row: dict[str, Any] = {
            "docspace_id": None,
            "parent_id": None,
            "title": a.title,
            "archived": False,
        }
        row.update(fields)
        return LedgerEntry(
            key=a.key,
            source=self.source,
            entity=a.entity,
            kind=a.kind,
            parent_key=a.parent_key,
            **row,
        ).evolve()

    def _applied(
        self, a: Action, docspace_id: int, parent_id: int | None, title: str, archived: bool
    ) -> None:
        old = self.entries.get(a.key)
        self._save(
            self._entry(
                a,
                docspace_id=docspace_id,
                parent_id=parent_id,
                title=title,
                archived=archived,
                status=APPLIED,
                attempts=old.attempts if old else 0,
            )
        )

    # -- actions -----------------------------------------------------------------

    def _create(self, a: Action) -> str:
        return self._create_room(a) if a.kind == "room" else self._create_folder(a)

    def _rooms_with_marker(self, marker: str) -> list[dict[str, Any]]:
        return [
            r for r in self.client.list_rooms(area="any", tags=[marker]) if has_marker(r, marker)
        ]

    def _create_room(self, a: Action) -> str:
        marker = a.key
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            listed = self._rooms_by_marker.pop(marker, None) if attempt == 1 else None
            found = self._unclaimed(
                listed if listed is not None else self._rooms_with_marker(marker)
            )
            if len(found) > 1:
                ids = ", ".join(str(r["id"]) for r in found)
                raise RecordFailed(
                    f"{len(found)} rooms carry the marker tag {marker!r} (ids {ids}); resolve by hand"
                )
            if found:
                room = found[0]
                archived = int(room.get("rootFolderType") or 0) == 20
                self._applied(a, int(room["id"]), None, room.get("title", a.title), archived)
                return "adopted"
            if a.template_id is not None:
                room = self._template_jobs.create_room(
                    int(a.template_id),
                    a.title,
                    tags=[marker, *self.settings.room_tags],
                    private=self.settings.private,
                    before_start=lambda: self._reserve(1),
                )
                if room is None:
                    continue  # the slot ran someone else's job: look again, then retry
                self._applied(a, int(room["id"]), None, room.get("title", a.title), False)
                return "created"
            self._reserve(1)
            try:
                room = self.client.create_room(
                    a.title,
                    self.settings.room_type,
                    private=self.settings.private,
                    tags=[marker, *self.settings.room_tags],
                )
            except AmbiguousWriteError:
                if attempt == CREATE_ATTEMPTS:
                    raise
                continue  # look again before creating
            self._fresh.add(int(room["id"]))
            self._applied(a, int(room["id"]), None, room.get("title", a.title), False)
            return "created"
        raise RecordFailed("gave up creating the room")

    def _unclaimed(
        self, candidates: list[dict[str, Any]], title: str | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            return [
                c
                for c in candidates
                if int(c["id"]) not in self._claimed and (title is None or c.get("title") == title)
            ]

    def _parent_gone(self, a: Action, parent_id: int) -> RecordFailed:
        """The parent was deleted in DocSpace: it and everything the ledger has below it lose
        their ids (pending, as `--refresh` marks what is missing), so the next plan re-creates
        the subtree — looking first, as every create does."""
        gone = {a.parent_key}
        with self._lock:
            self._gone.add(parent_id)
            changed = True
            while changed:  # every ledger entry below the gone parent, at any depth
                changed = False
                for e in self.entries.values():
                    if e.parent_key in gone and e.key not in gone:
                        gone.add(e.key)
                        changed = True
            stale = [e for k, e in self.entries.items() if k in gone and e.docspace_id is not None]
        for e in stale:
            self._save(
                e.evolve(
                    docspace_id=None,
                    parent_id=None,
                    status=PENDING,
                    last_error="missing in DocSpace (deleted by hand?)",
                )
            )
        return RecordFailed(
            f"its parent {a.parent_key} (id {parent_id}) no longer exists in DocSpace; "
            "the next run re-creates it and what belongs in it"
        )

    def _create_folder(self, a: Action) -> str:
        parent_id = self._id_of(a.parent_key)
        if parent_id is None:
            raise RecordFailed(f"its parent {a.parent_key} is not in DocSpace yet")
        if parent_id in self._gone:
            raise self._parent_gone(a, parent_id)
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            if parent_id in self._fresh and attempt == 1:
                children: list[dict[str, Any]] = []
            elif parent_id in self._children and attempt == 1:
                children = self._children[parent_id]
            else:
                try:
                    children = self.client.subfolders(parent_id)
                except DocSpaceError as exc:
                    if exc.status == 404:
                        raise self._parent_gone(a, parent_id) from None
                    raise
            found = self._unclaimed(children, a.title)
            if len(found) > 1:
                ids = ", ".join(str(f["id"]) for f in found)
                raise RecordFailed(
                    f"{len(found)} folders titled {a.title!r} under {parent_id} (ids {ids})"
                )
            if found:
                self._applied(a, int(found[0]["id"]), parent_id, a.title, False)
                return "adopted"
            self._reserve(1)
            try:
                folder = self.client.create_folder(parent_id, a.title)
            except AmbiguousWriteError:
                if attempt == CREATE_ATTEMPTS:
                    raise
                continue
            except DocSpaceError as exc:
                # a missing parent is an InvalidOperation, which the server answers with 403
                # like a refusal (FileStorageService.InternalCreateFolderAsync): ask which it is
                if exc.status == 403 and self._missing(parent_id):
                    raise self._parent_gone(a, parent_id) from None
                raise
            self._fresh.add(int(folder["id"]))
            self._applied(a, int(folder["id"]), parent_id, folder.get("title", a.title), False)
            return "created"
        raise RecordFailed("gave up creating the folder")

    def _missing(self, folder_id: int) -> bool:
        try:
            self.client.get_folder(folder_id)
        except DocSpaceError as exc:
            if exc.status == 404:  # GetFolderAsync: ItemNotFoundException → 404
                return True
            raise
        return False

    def _rename(self, a: Action) -> str:
        entry = self.entries[a.key]
        self._reserve(1)
        if a.kind == "room":
            result = self.client.rename_room(entry.docspace_id, a.title)
        else:
            result = self.client.rename_folder(entry.docspace_id, a.title)
        title = (result or {}).get("title", a.title) if isinstance(result, dict) else a.title
        self._save(entry.evolve(title=title, status=APPLIED, last_error=None))
        return "renamed"

    def _move(self, a: Action) -> str:
        source_key = a.from_key or a.key
        entry = self.entries.get(source_key)
        if entry is None or entry.docspace_id is None:
            raise RecordFailed(f"nothing recorded under {source_key} to move")
        dest = self._id_of(a.parent_key)
        if dest is None:
            raise RecordFailed(f"its new parent {a.parent_key} is not in DocSpace yet")
        self._reserve(a.writes)
        if entry.parent_id != dest:
            try:
                self.client.move_folder(entry.docspace_id, dest)
            except AmbiguousWriteError:
                now = self.client.get_folder(entry.docspace_id)
                if int(now.get("parentId") or 0) != dest:
                    self.client.move_folder(entry.docspace_id, dest)
        title = entry.title or a.title
        if a.rename_to or title != a.title:
            result = self.client.rename_folder(entry.docspace_id, a.title)
            title = result.get("title", a.title) if isinstance(result, dict) else a.title
        moved = self._entry(
            a,
            docspace_id=entry.docspace_id,
            parent_id=dest,
            title=title,
            status=APPLIED,
            attempts=entry.attempts,
        )
        self._save(moved)
        if source_key != a.key:
            # durable under the new key first; a crash in between leaves an old key the next plan orphans
            self.ledger.flush()
            self.ledger.forget([source_key])
            with self._lock:
                self.entries.pop(source_key, None)
        return "moved"

    def _archive(self, a: Action) -> str:
        entry = self.entries.get(a.key)
        if entry is None or entry.docspace_id is None:
            raise RecordFailed("the room is not in DocSpace yet")
        self._reserve(1)
        self.client.wait_for_operations(self.client.archive_room(entry.docspace_id))
        self._save(entry.evolve(archived=True, status=APPLIED, last_error=None))
        return "archived"

    def _unarchive(self, a: Action) -> str:
        entry = self.entries[a.key]
        self._reserve(1)
        self.client.wait_for_operations(self.client.unarchive_room(entry.docspace_id))
        self._save(entry.evolve(archived=False, status=APPLIED, last_error=None))
        return "unarchived"

    def _orphan(self, a: Action) -> str:
        entry = self.entries[a.key]
        self._save(entry.evolve(status=ORPHANED, last_error=a.reason or None))
        return "orphaned"

    def _restore(self, a: Action) -> str:
        entry = self.entries[a.key]
        self._save(entry.evolve(status=APPLIED, last_error=None))
        return "restored"
