"""plan: a pure function of desired state, ledger and (optionally) observed DocSpace state.

Like `terraform plan`: no side effects; `apply` executes the actions in order. This module
walks the desired tree (parents first) and decides what no kind decides alone: a record whose
parent is blocked or skipped follows it, a record deleted before it was ever synced is left
alone, a record that left the source is orphaned. Everything else is the rule of the record's
kind (`docspace_destination.kinds`: rooms, folders), each in its own module.
"""

from __future__ import annotations

from collections import Counter, defaultdict
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


@dataclass(frozen=True, slots=True)
class Observed:
    """What DocSpace holds for a ledger id, as seen by a --refresh listing."""

    title: str
    parent_id: int | None
    archived: bool


@dataclass
class Plan:
    source: str
    actions: list[Action] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(a.label for a in self.actions)

    @property
    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.op not in NOT_CHANGES]

    @property
    def has_changes(self) -> bool:
        return any(a.op not in NOT_CHANGES for a in self.actions)

    @property
    def skipped_projects(self) -> int:
        """Projects (boards) that get no room: archived before this tool first saw them."""
        return sum(1 for a in self.actions if a.op == SKIP and a.kind == "room")

    @property
    def writes(self) -> int:
        return sum(a.writes for a in self.actions)

    def ordered(self) -> list[Action]:
        """Actions in apply order: unarchive, then rooms before folders before subfolders, archive last."""
        todo = [a for a in self.actions if a.phase is not None]
        return sorted(todo, key=lambda a: (a.phase, a.depth, a.key))


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
    """What the kinds' rules share while one plan is made; `add` appends an action."""

    nodes: dict[str, DesiredNode]
    ledger: dict[str, LedgerEntry]
    result: Plan
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
        self.result.actions.append(
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
    nodes = {n.key: n for n in desired}
    ctx = PlanContext(
        nodes=nodes,
        ledger=ledger,
        result=Plan(source),
        rules=rules,
        templates=templates,
        existing=existing,
        archived_projects=archived_projects,
        claimed={
            e.docspace_id for e in ledger.values() if e.docspace_id is not None and e.kind != "file"
        },
        room_of=_room_of(nodes),
    )
    for key in sorted(ledger):
        entry = ledger[key]
        if (
            key not in nodes
            and entry.docspace_id is not None
            and entry.status in (APPLIED, ORPHANED)
        ):
            ctx.spare[entry.entity].append(entry)

    for node in desired:
        entry = ledger.get(node.key)
        if node.parent_key is not None and node.parent_key not in nodes:
            ctx.block(node, f"parent {node.parent_key} is not in the desired tree")
        elif node.parent_key in ctx.blocked:
            ctx.block(node, f"waits for {node.parent_key}")
        elif node.parent_key in ctx.skipped:
            ctx.skipped.add(node.key)
            ctx.add(SKIP, node, reason=f"its room is skipped ({node.parent_key})")
        elif node.orphaned and (entry is None or entry.docspace_id is None):
            ctx.add(NOOP, node, reason="deleted in the source before it was ever synced")
        else:
            KINDS[node.kind].plan(node, entry, ctx)

    leftovers = [e for entries in ctx.spare.values() for e in entries if e.status != ORPHANED]
    for entry in sorted(leftovers, key=lambda e: e.key):
        ctx.result.actions.append(
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
        )
    return ctx.result
