"""Rooms: a room per project (board) — when one is created, adopted, renamed, archived, and how.

Plan rules (`plan_room`): a project never synced gets a room — unless it was archived before
this tool first saw it (`archived_projects = "skip"`), or DocSpace already holds its room (by
marker tag, else by exact title: `adoption`), or a template rule names a template that does
not exist (blocked). A synced project's room follows renames, archive and unarchive; an
archived room keeps its old title until it comes back (DocSpace refuses edits there).

Apply steps (`RoomSteps`): every create first looks for the room (a lost reply, a crashed
run, a lost ledger) and adopts what it finds; rooms from templates go through the portal's
single template job slot; archive and unarchive are file operations written ahead to the
ledger (`fileops`).
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from docspace_destination.adoption import (
    BY_TITLE,
    Candidates,
    ExistingRoom,
    ExistingRooms,
    marker_form,
    tag_list,
)
from docspace_destination.choices import ARCHIVED_PROJECTS
from docspace_destination.client import AmbiguousWriteError, DocSpaceError
from docspace_destination.desired import DesiredNode
from docspace_destination.fileops import move_room
from docspace_destination.ledger import APPLIED, ORPHANED, LedgerEntry
from docspace_destination.operations import (
    ADOPT,
    ARCHIVE,
    CREATE,
    IN_ARCHIVE,
    NOOP,
    RENAME,
    RESTORE,
    SKIP,
    UNARCHIVE,
    Action,
    RecordFailed,
)
from docspace_destination.template_jobs import TemplateJobs
from docspace_destination.templates import choose_rule, resolve_template
from pm_runtime.http_policy import LOOK_THEN_WRITE_ATTEMPTS

if TYPE_CHECKING:
    from docspace_destination.apply import Applier
    from docspace_destination.plan import PlanContext

log = logging.getLogger(__name__)

CREATE_ATTEMPTS = LOOK_THEN_WRITE_ATTEMPTS  # after an ambiguous create: look, then create
# `archived_projects`: a project already archived when first seen gets no room ("skip"), or a
# room that is archived at once ("mirror")
SKIP_ARCHIVED, MIRROR_ARCHIVED = ARCHIVED_PROJECTS
MARKERS_PER_LISTING = 40  # marker tags per room listing (one query parameter; keep URLs short)


# --------------------------------------------------------------------------- plan


def skips_at_first_sight(
    node: DesiredNode, entry: LedgerEntry | None, archived_projects: str
) -> bool:
    """A project archived before this tool ever saw it gets no room under "skip".

    Only when the ledger has no row for it at all: a `pending` or `failed` row means a create
    was tried (and may have landed), so apply must look and finish the job.
    """
    return archived_projects == SKIP_ARCHIVED and entry is None and node.archived


def plan_room(node: DesiredNode, entry: LedgerEntry | None, ctx: PlanContext) -> None:
    if entry is None or entry.docspace_id is None:
        _plan_new_room(node, entry, ctx)
        return
    if entry.archived and not node.archived:
        ctx.add(UNARCHIVE, node, docspace_id=entry.docspace_id)
    if entry.title != node.title:
        if entry.archived and node.archived:
            ctx.add(NOOP, node, docspace_id=entry.docspace_id, reason="archived: rename waits")
        else:
            ctx.add(RENAME, node, docspace_id=entry.docspace_id)
    if node.archived and not entry.archived:
        ctx.add(ARCHIVE, node, docspace_id=entry.docspace_id)
    if entry.status == ORPHANED:
        ctx.add(RESTORE, node, docspace_id=entry.docspace_id)
    elif entry.title == node.title and bool(entry.archived) == node.archived:
        ctx.add(NOOP, node, docspace_id=entry.docspace_id)


def _plan_new_room(node: DesiredNode, entry: LedgerEntry | None, ctx: PlanContext) -> None:
    if skips_at_first_sight(node, entry, ctx.archived_projects):
        ctx.skipped.add(node.key)
        ctx.add(SKIP, node, reason="archived before its first sync")
        return
    if ctx.existing is not None:
        found = ctx.existing.candidates(node.key, node.title, ctx.claimed)
        if found.ambiguous:
            ctx.block(node, found.reason(node.key, node.title))
            return
        if found.rooms:
            room = found.rooms[0]
            ctx.claimed.add(room.id)
            where = found.how + (IN_ARCHIVE if room.archived else "")
            ctx.add(ADOPT, node, docspace_id=room.id, found=where)
            if node.archived and not room.archived:
                ctx.add(ARCHIVE, node)
            elif node.archived:
                ctx.adopted_archived.add(node.key)
            return
    # apply looks in DocSpace first: a pending entry may have been created by a lost reply
    rule = choose_rule(ctx.rules, node.attribute_map()) if ctx.rules else None
    if rule is not None:
        template_id, title_or_reason = resolve_template(rule, ctx.templates or {})
        if template_id is None:
            ctx.block(node, title_or_reason)
            return
        ctx.add(CREATE, node, template=title_or_reason, template_id=template_id)
    else:
        ctx.add(CREATE, node)
    if node.archived:
        ctx.add(ARCHIVE, node)


# --------------------------------------------------------------------------- apply


class RoomSteps:
    """How a room is created, adopted, renamed, archived and unarchived in DocSpace."""

    def __init__(self, run: Applier) -> None:
        self.run = run
        self.client = run.client
        self._listing: ExistingRooms | None = None  # rooms listed before this run's creates
        self._template_jobs = TemplateJobs(run.client)
        self.steps = {
            CREATE: self.create,
            ADOPT: self.create,
            RENAME: self.rename,
            ARCHIVE: self.archive,
            UNARCHIVE: self.unarchive,
        }

    def prefetch(self, pool: ThreadPoolExecutor, todo: list[Action]) -> None:
        """Look for every room about to be created or adopted, in one go.

        Adopting by title needs every room (one paged listing, active and archived); by
        marker alone a few listings of the markers do (the tags filter matches any).
        """
        rooms = [a for a in todo if a.op in (CREATE, ADOPT) and a.kind == "room"]
        if not rooms:
            return
        by_title = self.run.settings.adopt_existing
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

    def _look(self, a: Action, attempt: int) -> Candidates:
        """The rooms that may already be this record's: on the prefetched listing first, then
        (after an ambiguous reply, or when the prefetch failed) by a fresh, targeted look."""
        listing = self._listing if attempt == 1 else None
        if listing is None:
            by_title = self.run.settings.adopt_existing
            rooms = {r["id"]: r for r in self.client.list_rooms(area="any", tags=[a.key])}
            if by_title:  # filterValue matches a substring, case-insensitively: exact below
                rooms.update(
                    (r["id"], r) for r in self.client.list_rooms(area="any", filter_value=a.title)
                )
            listing = ExistingRooms.from_listing(rooms.values(), by_title=by_title)
        return listing.candidates(a.key, a.title, self.run.claimed())

    def create(self, a: Action) -> str:
        run, settings, marker = self.run, self.run.settings, a.key
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            found = self._look(a, attempt)
            if found.ambiguous:
                raise RecordFailed(found.reason(marker, a.title))
            if found.rooms:
                return self._adopt(a, found.rooms[0], found.how)
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
                    tags=[marker, *settings.room_tags],
                    private=settings.private,
                    before_start=lambda: run.reserve(1),
                )
                if room is None:
                    continue  # the slot ran someone else's job: look again, then retry
                run.applied(a, int(room["id"]), None, room.get("title", a.title), False)
                return "created"
            run.reserve(1)
            try:
                room = self.client.create_room(
                    a.title,
                    settings.room_type,
                    private=settings.private,
                    tags=[marker, *settings.room_tags],
                )
            except AmbiguousWriteError:
                if attempt == CREATE_ATTEMPTS:
                    raise
                continue  # look again before creating
            run.fresh.add(int(room["id"]))
            run.applied(a, int(room["id"]), None, room.get("title", a.title), False)
            return "created"
        raise RecordFailed("gave up creating the room")

    def _adopt(self, a: Action, room: ExistingRoom, how: str) -> str:
        """Make an existing room this record's: unarchive it if the project is active, add
        the marker if it was found by title, record it. Its folders are adopted by title
        when the folders' step looks inside it.

        DocSpace refuses tag edits on archived rooms (403), so a room that is archived and
        stays archived is adopted into the ledger without the marker; the marker is added
        when the room is unarchived (`_ensure_marker`). Until then a lost ledger finds it by
        its title again. Unarchive→tag→archive would cost three writes per room and move
        the room through the active list for nothing.
        """
        self.run.claim(room.id)
        archived = room.archived
        if archived and not a.archived:
            self.run.reserve(1)
            # the adopt is written ahead (pending); move_room reads the room before sending
            move_room(self.client, room.id, archive=False, before_send=lambda: None)
            archived = False
        if how == BY_TITLE and not archived:
            self.run.reserve(1)
            self.client.add_room_tags(room.id, [a.key])  # adds to the room's tags (idempotent)
        self.run.applied(a, room.id, None, room.title, archived)
        return "adopted"

    def _ensure_marker(self, room_id: int, marker: str) -> None:
        """A room adopted while archived carries no marker yet: add it now that it is active."""
        try:
            room = self.client.get_room(room_id)
            if marker_form(marker) in {marker_form(t) for t in tag_list(room)}:
                return
            self.run.count_write()  # counted, not refused: the unarchive already happened
            self.client.add_room_tags(room_id, [marker])
        except DocSpaceError as exc:
            log.warning("room %s: could not add its marker tag %s: %s", room_id, marker, exc)

    def rename(self, a: Action) -> str:
        """One synchronous PUT, harmless to repeat (see `Applier.rename`)."""
        return self.run.rename(a, self.client.rename_room)

    def _move(self, entry: LedgerEntry, archive: bool) -> None:
        assert entry.docspace_id is not None
        if entry.intent:
            self.client.settle_operations()
        intent = "archive" if archive else "unarchive"
        move_room(
            self.client,
            entry.docspace_id,
            archive,
            before_send=lambda: self.run.note_intent(entry, intent),
        )

    def archive(self, a: Action) -> str:
        entry = self.run.entries.get(a.key)
        if entry is None or entry.docspace_id is None:
            raise RecordFailed("the room is not in DocSpace yet")
        self.run.reserve(1)
        self._move(entry, archive=True)
        entry = self.run.entries[a.key]
        self.run.save(entry.evolve(archived=True, status=APPLIED, last_error=None, intent=None))
        return "archived"

    def unarchive(self, a: Action) -> str:
        entry = self.run.entries[a.key]
        self.run.reserve(1)
        self._move(entry, archive=False)
        entry = self.run.entries[a.key]
        self.run.save(entry.evolve(archived=False, status=APPLIED, last_error=None, intent=None))
        self._ensure_marker(entry.docspace_id, a.key)
        return "unarchived"
