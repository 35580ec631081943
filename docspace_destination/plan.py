"""plan: a pure function of desired state, ledger and (optionally) observed DocSpace state.

Like `terraform plan`: no side effects; `apply` executes the actions in order. This module
walks the desired tree (parents first) and decides what no kind decides alone: a record whose
parent is blocked or skipped follows it, a record deleted before it was ever synced is left
alone, a record that left the source is orphaned. Everything else is the rule of the record's
kind (`docspace_destination.kinds`: rooms, folders), each in its own module.
"""

from __future__ import annotations

from collections import ChainMap, Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from docspace_destination.adoption import ExistingRooms
from docspace_destination.desired import DesiredNode
from docspace_destination.kinds import KINDS
from docspace_destination.ledger import APPLIED, ORPHANED, PENDING, LedgerEntry
from docspace_destination.operations import (  # noqa: F401  (the plan's vocabulary, re-exported)
    ADOPT,
    ARCHIVE,
    BLOCKED,
    CREATE,
    IN_ARCHIVE,
    MOVE,
    NOOP,
    NOT_CHANGES,
    OPERATIONS,
    ORPHAN,
    RENAME,
    RESTORE,
    SKIP,
    UNARCHIVE,
    Action,
)
from docspace_destination.rooms import (  # noqa: F401  (settings read the choices here)
    ARCHIVED_PROJECTS,
    MIRROR_ARCHIVED,
    SKIP_ARCHIVED,
    skips_at_first_sight,
)
from docspace_destination.templates import TemplateRule

WAITS_FOR = "waits for"  # a blocked record's reason when its parent is the one that failed
LATER_PHASE = OPERATIONS[ORPHAN].phase  # ledger-only steps and archives: after every part


@dataclass(frozen=True, slots=True)
class Observed:
    """What DocSpace holds for a ledger id, as seen by a --refresh listing."""

    title: str
    parent_id: int | None
    archived: bool


@dataclass
class Plan:
    """What a plan decided: counts of every action, and the actions themselves — every one, or
    (`listed` set, a big run's plan streamed to the apply part by part) the first `listed` of
    each kind of change, and every one a summary names one by one (files, blocked records)."""

    source: str
    actions: list[Action] = field(default_factory=list)
    listed: int | None = None  # None: every action is kept
    _counts: Counter[str] = field(default_factory=Counter, repr=False)
    _writes: int = field(default=0, repr=False)
    _changes: int = field(default=0, repr=False)
    _skipped_rooms: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        given, self.actions = self.actions, []
        for action in given:
            self.record(action)

    def record(self, action: Action) -> None:
        """Count `action`, and keep it when the plan keeps all, or lists it."""
        label = action.label
        self._counts[label] += 1
        self._writes += action.writes
        change = action.op not in NOT_CHANGES
        self._changes += change
        self._skipped_rooms += action.op == SKIP and action.kind == "room"
        if (
            self.listed is None
            or action.kind == "file"  # the summary of documents is per file and per folder
            or _fails(action)  # the summary names each
            or (action.op != NOOP and self._counts[label] <= self.listed)
        ):
            self.actions.append(action)

    def counts(self) -> Counter[str]:
        return Counter(self._counts)

    @property
    def failures(self) -> list[Action]:
        """Records that cannot be planned (an unknown template...), each with its reason; what
        waits for them is only counted (`counts()["blocked"]` holds both)."""
        return [a for a in self.actions if _fails(a)]

    @property
    def changes(self) -> list[Action]:
        """The kept actions that change something (all of them unless `listed`)."""
        return [a for a in self.actions if a.op not in NOT_CHANGES]

    @property
    def change_count(self) -> int:
        return self._changes

    @property
    def has_changes(self) -> bool:
        return self._changes > 0

    @property
    def skipped_projects(self) -> int:
        """Projects (boards) that get no room: archived before this tool first saw them."""
        return self._skipped_rooms

    @property
    def writes(self) -> int:
        return self._writes

    def ordered(self) -> list[Action]:
        """Actions in apply order: unarchive, then rooms before folders before subfolders, archive last."""
        return in_apply_order(self.actions)


def _fails(action: Action) -> bool:
    return action.op == BLOCKED and not action.reason.startswith(WAITS_FOR)


def in_apply_order(actions: Iterable[Action]) -> list[Action]:
    """The actions to apply (those with a phase), by phase, then parents before children."""
    return sorted(
        (a for a in actions if a.phase is not None), key=lambda a: (a.phase, a.depth, a.key)
    )


def refreshed(
    ledger: dict[str, LedgerEntry], observed: dict[int, Observed | None]
) -> dict[str, LedgerEntry]:
    """The ledger corrected by what DocSpace holds (like `terraform refresh`).

    A title, archive state or parent changed by hand is taken as the current state, so
    the plan puts it back; an object deleted by hand loses its id, so it is made again
    (after a look, as every create). Only entries that changed are new objects.
    """
    key_of = {
        e.docspace_id: k
        for k, e in ledger.items()
        if e.docspace_id is not None and e.kind != "file"  # files are numbered apart
    }
    result = dict(ledger)
    for key, entry in ledger.items():
        # files are numbered apart: a file's id may be a folder's too (their refresh: file_refresh)
        if entry.docspace_id is None or entry.kind == "file" or entry.docspace_id not in observed:
            continue
        seen = observed[entry.docspace_id]
        if seen is None:
            result[key] = entry.evolve(
                docspace_id=None, parent_id=None, status=PENDING, last_error="missing in DocSpace"
            )
            continue
        parent_key = entry.parent_key
        if (
            entry.kind == "folder"
            and seen.parent_id is not None
            and seen.parent_id != entry.parent_id
        ):
            parent_key = key_of.get(seen.parent_id)
        if (seen.title, seen.archived if entry.kind == "room" else entry.archived, parent_key) != (
            entry.title,
            entry.archived,
            entry.parent_key,
        ):
            result[key] = entry.evolve(
                title=seen.title,
                archived=seen.archived if entry.kind == "room" else entry.archived,
                parent_key=parent_key,
                parent_id=seen.parent_id if entry.kind == "folder" else entry.parent_id,
            )
    return result


def _room_of(nodes: dict[str, DesiredNode]) -> dict[str, str]:
    rooms: dict[str, str] = {}
    for node in nodes.values():  # nodes come parents-first
        if node.kind == "room" or node.parent_key is None:
            rooms[node.key] = node.key
        else:
            rooms[node.key] = rooms.get(node.parent_key, node.parent_key)
    return rooms


def wants_existing_rooms(
    desired: list[DesiredNode],
    ledger: dict[str, LedgerEntry],
    archived_projects: str = MIRROR_ARCHIVED,
) -> bool:
    """Whether the plan would create a room, so DocSpace's rooms are worth listing first.

    A re-sync where every room is in the ledger lists nothing: the no-op run stays cheap.
    """
    for node in desired:
        if node.kind != "room" or node.orphaned:
            continue
        entry = ledger.get(node.key)
        if entry is not None and entry.docspace_id is not None:
            continue
        if not skips_at_first_sight(node, entry, archived_projects):
            return True
    return False


@dataclass
class PlanContext:
    """What the kinds' rules share while one plan is made; `add` appends an action to the
    actions of the part being planned (`actions`)."""

    nodes: dict[str, DesiredNode]  # every room, and the records of the part being planned
    ledger: Mapping[str, LedgerEntry]  # the rows of the part's keys, and of every room
    actions: list[Action] = field(default_factory=list)
    rules: list[TemplateRule] | None = None
    templates: dict[int, str] | None = None
    existing: ExistingRooms | None = None
    archived_projects: str = MIRROR_ARCHIVED
    claimed: set[int] = field(default_factory=set)  # DocSpace ids some record already has
    blocked: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)
    adopted_archived: set[str] = field(default_factory=set)  # adopted rooms that stay archived
    # ledger rows whose key is no longer desired: the same entity placed elsewhere re-uses them
    spare: dict[str, list[LedgerEntry]] = field(default_factory=lambda: defaultdict(list))
    room_of: dict[str, str] = field(default_factory=dict)

    def add(self, op: str, node: DesiredNode, **kw: Any) -> None:
        self.actions.append(
            Action(
                op=op,
                key=node.key,
                entity=node.entity,
                kind=node.kind,
                depth=node.depth,
                title=node.title,
                parent_key=node.parent_key,
                archived=node.archived,
                **kw,
            )
        )

    def block(self, node: DesiredNode, reason: str) -> None:
        self.blocked.add(node.key)
        self.add(BLOCKED, node, reason=reason)

    def room_frozen(self, node: DesiredNode) -> bool:
        """Folders in a room that is archived and stays archived cannot be changed (403)."""
        room = self.room_of.get(node.key)
        if room in self.adopted_archived:
            return True
        room_entry = self.ledger.get(room) if room else None
        room_node = self.nodes.get(room) if room else None
        return bool(room_entry and room_entry.archived and room_node and room_node.archived)


class Planner:
    """Plans a desired tree given in parts (`desired.part_count`): the first part holds every
    room, each part whole rooms' records, parents before children.

    What crosses parts stays here (rooms, the ledger, ids claimed, rows no record wants any
    more); a part's nodes and actions are let go once planned, so a plan of 200,000 folders
    never holds them all. `plan_part` returns a part's actions in apply order; archives (after
    every part's folders: an archived room's folders cannot change) and ledger-only steps
    wait for `finish`.
    """

    def __init__(
        self,
        source: str,
        unwanted: Iterable[LedgerEntry],
        claimed: set[int],
        rules: list[TemplateRule] | None = None,
        templates: dict[int, str] | None = None,
        existing: ExistingRooms | None = None,
        archived_projects: str = MIRROR_ARCHIVED,
        listed: int | None = None,
    ) -> None:
        """`unwanted`: the ledger rows whose key no part of the desired tree has (`key_census`);
        `claimed`: the DocSpace ids of the rooms the ledger knows (an existing room with one of
        them is another record's, never adopted)."""
        self.plan = Plan(source, listed=listed)
        self.ctx = PlanContext(
            nodes={},
            ledger={},
            rules=rules,
            templates=templates,
            existing=existing,
            archived_projects=archived_projects,
            claimed=claimed,
        )
        for entry in sorted(unwanted, key=lambda e: e.key):
            if entry.docspace_id is not None and entry.status in (APPLIED, ORPHANED):
                self.ctx.spare[entry.entity].append(entry)
        self.rooms: dict[str, DesiredNode] = {}
        self._room_entries: dict[str, LedgerEntry] = {}
        self._later: list[Action] = []

    def plan_part(self, desired: list[DesiredNode], ledger: dict[str, LedgerEntry]) -> list[Action]:
        """The actions of one part (its rooms planned once, with the first part), in apply
        order; `ledger`: the rows of the part's keys (more do no harm)."""
        ctx = self.ctx
        fresh_rooms = {n.key for n in desired if n.kind == "room" and n.key not in self.rooms}
        self.rooms.update((n.key, n) for n in desired if n.key in fresh_rooms)
        self._room_entries.update((k, ledger[k]) for k in fresh_rooms if k in ledger)
        ctx.nodes = dict(self.rooms)
        ctx.nodes.update((n.key, n) for n in desired)
        ctx.ledger = ChainMap(ledger, self._room_entries)
        ctx.room_of = _room_of(ctx.nodes)
        ctx.actions = []
        for node in desired:
            if node.kind == "room" and node.key not in fresh_rooms:
                continue
            entry = ctx.ledger.get(node.key)
            if node.parent_key is not None and node.parent_key not in ctx.nodes:
                ctx.block(node, f"parent {node.parent_key} is not in the desired tree")
            elif node.parent_key in ctx.blocked:
                ctx.block(node, f"{WAITS_FOR} {node.parent_key}")
            elif node.parent_key in ctx.skipped:
                ctx.skipped.add(node.key)
                ctx.add(SKIP, node, reason=f"its room is skipped ({node.parent_key})")
            elif node.orphaned and (entry is None or entry.docspace_id is None):
                ctx.add(NOOP, node, reason="deleted in the source before it was ever synced")
            else:
                KINDS[node.kind].plan(node, entry, ctx)
        return self._take(ctx.actions)

    def finish(self) -> list[Action]:
        """What waits for every part: rows no record wants orphaned, ledger steps, archives."""
        leftovers = [
            e for entries in self.ctx.spare.values() for e in entries if e.status != ORPHANED
        ]
        orphans = [
            Action(
                op=ORPHAN,
                key=entry.key,
                entity=entry.entity,
                kind=entry.kind,
                depth=0,
                title=entry.title or "",
                parent_key=entry.parent_key,
                archived=bool(entry.archived),
                docspace_id=entry.docspace_id,
                reason="no longer in the source",
            )
            for entry in sorted(leftovers, key=lambda e: e.key)
        ]
        self._take(orphans)  # ledger-only: held with the rest of the later phases
        later, self._later = self._later, []
        return in_apply_order(later)

    def _take(self, actions: list[Action]) -> list[Action]:
        now = []
        for action in actions:
            self.plan.record(action)
            if action.phase is not None and action.phase >= LATER_PHASE:
                self._later.append(action)
            elif action.phase is not None:
                now.append(action)
        return in_apply_order(now)


def plan(
    source: str,
    desired: list[DesiredNode],
    ledger: dict[str, LedgerEntry],
    observed: dict[int, Observed | None] | None = None,
    rules: list[TemplateRule] | None = None,
    templates: dict[int, str] | None = None,
    existing: ExistingRooms | None = None,
    archived_projects: str = MIRROR_ARCHIVED,
) -> Plan:
    """Actions that make DocSpace match `desired`, given what the ledger says was applied.

    `observed` (from --refresh) maps ledger DocSpace ids to what is there now; None
    for an id that no longer exists. Without it the ledger is trusted. `rules` choose a
    room template among `templates` (id → title, as DocSpace lists them) for new rooms.
    `existing` (the rooms DocSpace holds, listed before planning) turns a room that would
    be created into an adopt of the room found for it (see adoption.py). With
    `archived_projects="skip"` a project archived before it ever got a room is skipped.
    """
    if observed is not None:
        ledger = refreshed(ledger, observed)
    wanted = {n.key for n in desired}
    unwanted = [e for k, e in ledger.items() if k not in wanted]
    claimed = {
        e.docspace_id for e in ledger.values() if e.docspace_id is not None and e.kind == "room"
    }
    planner = Planner(source, unwanted, claimed, rules, templates, existing, archived_projects)
    planner.plan_part(desired, ledger)
    planner.finish()
    return planner.plan
