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

from docspace_destination.adoption import (
    BY_TITLE,
    Candidates,
    ExistingRoom,
    ExistingRooms,
    marker_form,
    tag_list,
)
from docspace_destination.client import (
    AmbiguousWriteError,
    DocSpaceClient,
    DocSpaceError,
    WriteLimitReached,
)
from docspace_destination.fileops import (
    FileOperationFailed,
    conflict_mode,
    move_room,
    send_move,
)
from docspace_destination.ledger import APPLIED, FAILED, ORPHANED, PENDING, Ledger, LedgerEntry
from docspace_destination.plan import (
    ADOPT,
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
from docspace_destination.template_jobs import TemplateJobFailed, TemplateJobs
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
    adopt_existing: bool = True  # a room without a marker is adopted by its exact title

    def __post_init__(self) -> None:
        problem = self.limits_problem(self.concurrency, self.max_writes)
        if problem:
            raise UserFacingError(problem)

    @staticmethod
    def limits_problem(
        concurrency: int | None, max_writes: int | None, *, as_flags: bool = False
    ) -> str | None:
        """What is wrong with these limits (None: nothing), worded for settings or, `as_flags`,
        for the command line's --concurrency/--max-writes (checked before anything runs)."""
        if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
            if as_flags:
                return (
                    f"--concurrency must be between 1 and {MAX_CONCURRENCY} "
                    f"(DocSpace rejects more than {MAX_CONCURRENCY} concurrent writes)"
                )
            return (
                f"concurrency must be between 1 and {MAX_CONCURRENCY} (DocSpace allows 15 concurrent writes), "
                f"got {concurrency}"
            )
        if max_writes is not None and max_writes < 0:
            return (
                "--max-writes must be 0 or more"
                if as_flags
                else f"max_writes must be >= 0, got {max_writes}"
            )
        return None


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
        spent: int = 0,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.source = source
        self.settings = settings
        self.entries = dict(entries if entries is not None else ledger.load(source))
        self.report = ApplyReport()
        self.on_progress = on_progress
        self._lock = threading.Lock()
        self._writes = spent  # writes this run already made (a crashed run's package, resumed)
        self._claimed = {e.docspace_id for e in self.entries.values() if e.docspace_id is not None}
        self._children: dict[int, list[dict[str, Any]]] = {}
        self._fresh: set[int] = set()  # made by this run, so known to be empty
        self._listing: ExistingRooms | None = None  # rooms listed before this run's creates
        self._gone: set[int] = set()  # parents found deleted in DocSpace during this run
        self._template_jobs = TemplateJobs(client)

    # -- driving ---------------------------------------------------------------

    def run(self, actions: Iterable[Action]) -> ApplyReport:
        """Apply actions given in plan order (see Plan.ordered)."""
        started = time.perf_counter()
        with ThreadPoolExecutor(
            self.settings.concurrency, thread_name_prefix="docspace-apply"
        ) as pool:
            for _, step in groupby(actions, key=lambda a: (PHASE[a.op], a.depth)):
                if self.report.budget_exhausted:
                    # the write budget (--max-writes) or DocSpace's daily limit is spent: nothing
                    # below can run — a child of a deferred parent least of all — so it waits,
                    # untouched, for the next run (deferred, not failed)
                    self._defer_all(step)
                    continue
                todo = []
                for a in step:
                    if self._already_done(a):
                        self.report.add("unchanged")
                        self._progress(a, "unchanged")
                    else:
                        todo.append(a)
                self._write_ahead([a for a in todo if a.op in (CREATE, ADOPT)])
                self._prefetch_rooms(pool, todo)
                self._prefetch_children(pool, todo)
                # renames first: a move looks for a same-titled folder at its destination (see
                # _move), and a sibling there may be about to take another title
                list(pool.map(self._execute, [a for a in todo if a.op == RENAME]))
                list(pool.map(self._execute, [a for a in todo if a.op != RENAME]))
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
        if a.op in (CREATE, ADOPT):
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
        """Look for every room about to be created or adopted, in one go.

        Adopting by title needs every room (one paged listing, active and archived); by
        marker alone a few listings of the markers do (the tags filter matches any).
        """
        rooms = [a for a in todo if a.op in (CREATE, ADOPT) and a.kind == "room"]
        if not rooms:
            return
        by_title = self.settings.adopt_existing
        markers = [a.key for a in rooms]
        chunks = [
            markers[i : i + MARKERS_PER_LISTING]
            for i in range(0, len(markers), MARKERS_PER_LISTING)
        ]
        try:
            if by_title:
                listed = self.client.list_rooms(area="any")
            else:
                pages = pool.map(lambda c: self.client.list_rooms(area="any", tags=c), chunks)
                listed = [room for page in pages for room in page]
        except DocSpaceError:
            return  # each create looks on its own then
        self._listing = ExistingRooms.from_listing(listed, by_title=by_title)

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
                ADOPT: self._create,
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
        except (DocSpaceError, RecordFailed, TemplateJobFailed, FileOperationFailed) as exc:
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

    @property
    def writes_made(self) -> int:
        """DocSpace writes counted against the budget so far (resumed ones included)."""
        return self._writes

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
        if old is None and a.op == MOVE and a.from_key in self.entries:
            # the reason goes on the folder's row: a row under the new key with no id would
            # make the next plan create an empty folder instead of moving this one again
            old = self.entries[a.from_key]
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

    def _look_for_room(self, a: Action, attempt: int) -> Candidates:
        """The rooms that may already be this record's: on the prefetched listing first, then
        (after an ambiguous reply, or when the prefetch failed) by a fresh, targeted look."""
        listing = self._listing if attempt == 1 else None
        if listing is None:
            by_title = self.settings.adopt_existing
            rooms = {r["id"]: r for r in self.client.list_rooms(area="any", tags=[a.key])}
            if by_title:  # filterValue matches a substring, case-insensitively: exact below
                rooms.update(
                    (r["id"], r) for r in self.client.list_rooms(area="any", filter_value=a.title)
                )
            listing = ExistingRooms.from_listing(rooms.values(), by_title=by_title)
        with self._lock:
            claimed = set(self._claimed)
        return listing.candidates(a.key, a.title, claimed)

    def _create_room(self, a: Action) -> str:
        marker = a.key
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            found = self._look_for_room(a, attempt)
            if found.ambiguous:
                raise RecordFailed(found.reason(marker, a.title))
            if found.rooms:
                return self._adopt_room(a, found.rooms[0], found.how)
            if a.op == ADOPT and attempt == 1:
                log.info(
                    "%s: the room the plan adopted (%s) is gone; creating one",
                    marker,
                    a.docspace_id,
                )
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

    def _adopt_room(self, a: Action, room: ExistingRoom, how: str) -> str:
        """Make an existing room this record's: unarchive it if the project is active, add
        the marker if it was found by title, record it. Its folders are adopted by title
        when the folders' step looks inside it.

        DocSpace refuses tag edits on archived rooms (403), so a room that is archived and
        stays archived is adopted into the ledger without the marker; the marker is added
        when the room is unarchived (`_ensure_marker`). Until then a lost ledger finds it by
        its title again. Unarchive→tag→archive would cost three writes per room and move
        the room through the active list for nothing.
        """
        with self._lock:
            if room.id in self._claimed:
                raise RecordFailed(f"room {room.id} is already another record's room")
            self._claimed.add(room.id)
        archived = room.archived
        if archived and not a.archived:
            self._reserve(1)
            # the adopt is written ahead (pending); move_room reads the room before sending
            move_room(self.client, room.id, archive=False, before_send=lambda: None)
            archived = False
        if how == BY_TITLE and not archived:
            self._reserve(1)
            self.client.add_room_tags(room.id, [a.key])  # adds to the room's tags (idempotent)
        self._applied(a, room.id, None, room.title, archived)
        return "adopted"

    def _ensure_marker(self, room_id: int, marker: str) -> None:
        """A room adopted while archived carries no marker yet: add it now that it is active."""
        try:
            room = self.client.get_room(room_id)
            if marker_form(marker) in {marker_form(t) for t in tag_list(room)}:
                return
            with self._lock:
                self._writes += 1  # counted, not refused: the unarchive already happened
            self.client.add_room_tags(room_id, [marker])
        except DocSpaceError as exc:
            log.warning("room %s: could not add its marker tag %s: %s", room_id, marker, exc)

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
        """A rename is one synchronous PUT that is harmless to repeat (same title again), so it
        needs no write-ahead and the client may re-send it after a lost reply. It must not race
        a move or archive of the same object that a crashed run left running: it waits first."""
        entry = self.entries[a.key]
        self._reserve(1)
        if entry.intent:
            self.client.settle_operations()
        if a.kind == "room":
            result = self.client.rename_room(entry.docspace_id, a.title)
        else:
            result = self.client.rename_folder(entry.docspace_id, a.title)
        title = (result or {}).get("title", a.title) if isinstance(result, dict) else a.title
        self._save(entry.evolve(title=title, status=APPLIED, last_error=None))
        return "renamed"

    def _move_source(self, a: Action) -> LedgerEntry:
        for key in (a.from_key, a.key):
            entry = self.entries.get(key) if key else None
            if entry is not None and entry.docspace_id is not None:
                return entry
        raise RecordFailed(f"nothing recorded under {a.from_key or a.key} to move")

    def _move(self, a: Action) -> str:
        """Move a folder (and give it its new title) without ever moving it twice.

        DocSpace moves asynchronously, and what a move does depends on where the folder
        is when the operation runs (FileMoveCopyOperation.MoveOrCopyFoldersAsync,
        api-notes "Moves"): with `Duplicate`, a move re-sent for a folder already in
        its destination makes a new folder `Title (1)`, moves the contents there and
        deletes the original; with `Skip`, that re-send does nothing — but a move next
        to a same-titled folder merges into it (the moved folder's id is lost).

        So: (1) if a crashed run or a lost reply may have left a move on its way, wait
        for the portal's running operations; (2) read where the folder is now and send
        nothing if it is already there; (3) give it its final title first, so that (4)
        the destination can be checked for a same-titled folder; (5) write the intent
        ahead, then send. The mode is `Skip` — a duplicate delivery of the request is
        then harmless — unless the destination holds a same-titled folder, where only
        `Duplicate` keeps the folder whole; it is safe there because (1) and (2) just
        showed the folder elsewhere with nothing running, and such a move is never
        re-sent in this run. Our own siblings get distinct titles, so that case means
        a folder made by hand (or a leftover), which the folder is then put beside.
        Left open: a same-titled folder appearing at the destination between the check
        and the moment the operation runs would still be merged into (Skip).
        """
        entry = self._move_source(a)
        dest = self._id_of(a.parent_key)
        if dest is None:
            raise RecordFailed(f"its new parent {a.parent_key} is not in DocSpace yet")
        folder_id = int(entry.docspace_id)  # type: ignore[arg-type]
        self._reserve(a.writes)
        if entry.intent:
            self.client.settle_operations()
        now = self.client.get_folder(folder_id)
        title = str(now.get("title") or entry.title or a.title)
        if title != a.title:
            result = self.client.rename_folder(folder_id, a.title)
            title = result.get("title", a.title) if isinstance(result, dict) else a.title
        if int(now.get("parentId") or 0) != dest:
            mode = conflict_mode(self.client, folder_id, dest, title)
            send_move(
                self.client,
                folder_id,
                dest,
                mode,
                before_send=lambda: self._note_intent(entry, f"move:{dest}"),
            )
        moved = self._entry(
            a,
            docspace_id=folder_id,
            parent_id=dest,
            title=title,
            status=APPLIED,
            attempts=entry.attempts,
        )
        self._save(moved)
        if entry.key != a.key:
            # durable under the new key first; a crash in between leaves an old key that
            # inflight.resolve_intents (or the next plan) clears
            self.ledger.flush()
            self.ledger.forget([entry.key])
            with self._lock:
                self.entries.pop(entry.key, None)
        return "moved"

    def _note_intent(self, entry: LedgerEntry, intent: str) -> LedgerEntry:
        """Write-ahead for a file operation: durable before the request goes out."""
        marked = entry.evolve(intent=intent)
        self.ledger.write([marked])
        self.ledger.record(marked)  # a later record of this key in the buffer replaces it
        with self._lock:
            self.entries[entry.key] = marked
        return marked

    def _room_move(self, entry: LedgerEntry, archive: bool) -> None:
        assert entry.docspace_id is not None
        if entry.intent:
            self.client.settle_operations()
        intent = "archive" if archive else "unarchive"
        move_room(
            self.client,
            entry.docspace_id,
            archive,
            before_send=lambda: self._note_intent(entry, intent),
        )

    def _archive(self, a: Action) -> str:
        entry = self.entries.get(a.key)
        if entry is None or entry.docspace_id is None:
            raise RecordFailed("the room is not in DocSpace yet")
        self._reserve(1)
        self._room_move(entry, archive=True)
        entry = self.entries[a.key]
        self._save(entry.evolve(archived=True, status=APPLIED, last_error=None, intent=None))
        return "archived"

    def _unarchive(self, a: Action) -> str:
        entry = self.entries[a.key]
        self._reserve(1)
        self._room_move(entry, archive=False)
        entry = self.entries[a.key]
        self._save(entry.evolve(archived=False, status=APPLIED, last_error=None, intent=None))
        self._ensure_marker(entry.docspace_id, a.key)
        return "unarchived"

    def _orphan(self, a: Action) -> str:
        entry = self.entries[a.key]
        self._save(entry.evolve(status=ORPHANED, last_error=a.reason or None))
        return "orphaned"

    def _restore(self, a: Action) -> str:
        entry = self.entries[a.key]
        self._save(entry.evolve(status=APPLIED, last_error=None))
        return "restored"
