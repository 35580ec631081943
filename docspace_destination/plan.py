"""plan: a pure function of desired state, ledger and (optionally) observed DocSpace state.

Like `terraform plan`: no side effects; `apply` executes the actions in order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from docspace_destination.adoption import BY_TITLE, ExistingRooms
from docspace_destination.desired import DesiredNode
from docspace_destination.ledger import APPLIED, ORPHANED, PENDING, LedgerEntry
from docspace_destination.templates import TemplateRule, choose_rule, resolve_template

CREATE, MOVE, RENAME, ARCHIVE, UNARCHIVE = "create", "move", "rename", "archive", "unarchive"
ORPHAN, RESTORE, NOOP, BLOCKED = "orphan", "restore", "noop", "blocked"
ADOPT, SKIP = "adopt", "skip"
WRITES = {CREATE: 1, MOVE: 1, RENAME: 1, ARCHIVE: 1, UNARCHIVE: 1}
# unarchive before anything touches a room; archive after its folders are settled
PHASE = {UNARCHIVE: 0, CREATE: 1, ADOPT: 1, MOVE: 1, RENAME: 1, ORPHAN: 2, RESTORE: 2, ARCHIVE: 3}
NOT_CHANGES = (NOOP, SKIP)  # skipped records stay skipped run after run: not a pending change
# `archived_projects`: a project already archived when first seen gets no room ("skip"), or a
# room that is archived at once ("mirror")
SKIP_ARCHIVED, MIRROR_ARCHIVED = "skip", "mirror"
ARCHIVED_PROJECTS = (SKIP_ARCHIVED, MIRROR_ARCHIVED)
IN_ARCHIVE = " in archive"  # suffix of Action.found for a room adopted from the archive


@dataclass(frozen=True, slots=True)
class Observed:
    """What DocSpace holds for a ledger id, as seen by a --refresh listing."""

    title: str
    parent_id: int | None
    archived: bool


@dataclass(frozen=True, slots=True)
class Action:
    op: str
    key: str
    entity: str
    kind: str
    depth: int
    title: str
    parent_key: str | None
    archived: bool
    from_key: str | None = None  # a move re-uses the folder recorded under this ledger key
    docspace_id: int | None = None
    rename_to: str | None = None  # a move that also changes the title
    reason: str = ""
    template: str | None = None  # title of the room template a room is created from
    template_id: int | None = None
    # how an adopt found its room: "marker" or "title", + IN_ARCHIVE when it is archived
    found: str | None = None

    @property
    def found_in_archive(self) -> bool:
        return bool(self.found and self.found.endswith(IN_ARCHIVE))

    @property
    def writes(self) -> int:
        if self.op == ADOPT:
            # an archived room is unarchived if the project is active; the marker is added by
            # one tag write, except in the archive (DocSpace refuses tag edits there)
            unarchive = self.found_in_archive and not self.archived
            tag = bool(self.found and self.found.startswith(BY_TITLE)) and (
                unarchive or not self.found_in_archive
            )
            return int(unarchive) + int(tag)
        return WRITES.get(self.op, 0) + (1 if self.op == MOVE and self.rename_to else 0)

    @property
    def label(self) -> str:
        return "create from template" if self.op == CREATE and self.template else self.op

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


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
        todo = [a for a in self.actions if a.op not in (*NOT_CHANGES, BLOCKED)]
        return sorted(todo, key=lambda a: (PHASE[a.op], a.depth, a.key))


def refreshed(
    ledger: dict[str, LedgerEntry], observed: dict[int, Observed | None]
) -> dict[str, LedgerEntry]:
    """The ledger corrected by what DocSpace holds (like `terraform refresh`).

    A title, archive state or parent changed by hand is taken as the current state, so
    the plan puts it back; an object deleted by hand loses its id, so it is made again
    (after a look, as every create). Only entries that changed are new objects.
    """
    key_of = {e.docspace_id: k for k, e in ledger.items() if e.docspace_id is not None}
    result = dict(ledger)
    for key, entry in ledger.items():
        if entry.docspace_id is None or entry.docspace_id not in observed:
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


def skips_at_first_sight(
    node: DesiredNode, entry: LedgerEntry | None, archived_projects: str
) -> bool:
    """A project archived before this tool ever saw it gets no room under "skip".

    Only when the ledger has no row for it at all: a `pending` or `failed` row means a create
    was tried (and may have landed), so apply must look and finish the job.
    """
    return archived_projects == SKIP_ARCHIVED and entry is None and node.archived


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
    claimed = {e.docspace_id for e in ledger.values() if e.docspace_id is not None}
    skipped: set[str] = set()
    adopted_archived: set[str] = set()  # rooms adopted from the archive that stay there
    room_of = _room_of(nodes)
    result = Plan(source)
    add = result.actions.append

    # entries whose key is no longer desired can be re-used by the same entity placed elsewhere
    spare: dict[str, list[LedgerEntry]] = defaultdict(list)
    for key in sorted(ledger):
        entry = ledger[key]
        if (
            key not in nodes
            and entry.docspace_id is not None
            and entry.status in (APPLIED, ORPHANED)
        ):
            spare[entry.entity].append(entry)

    def room_frozen(node: DesiredNode) -> bool:
        """Folders in a room that is archived and stays archived cannot be changed (403)."""
        room = room_of.get(node.key)
        if room in adopted_archived:
            return True
        room_entry = ledger.get(room) if room else None
        room_node = nodes.get(room) if room else None
        return bool(room_entry and room_entry.archived and room_node and room_node.archived)

    def action(op: str, node: DesiredNode, **kw: Any) -> Action:
        return Action(
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

    blocked: set[str] = set()
    for node in desired:
        entry = ledger.get(node.key)
        if node.parent_key is not None and node.parent_key not in nodes:
            blocked.add(node.key)
            add(
                action(BLOCKED, node, reason=f"parent {node.parent_key} is not in the desired tree")
            )
            continue
        if node.parent_key in blocked:
            blocked.add(node.key)
            add(action(BLOCKED, node, reason=f"waits for {node.parent_key}"))
            continue
        if node.parent_key in skipped:
            skipped.add(node.key)
            add(action(SKIP, node, reason=f"its room is skipped ({node.parent_key})"))
            continue
        if entry is None or entry.docspace_id is None:
            if node.orphaned:
                add(action(NOOP, node, reason="deleted in the source before it was ever synced"))
                continue
            if node.kind == "room" and skips_at_first_sight(node, entry, archived_projects):
                skipped.add(node.key)
                add(action(SKIP, node, reason="archived before its first sync"))
                continue
            if node.kind == "room" and existing is not None:
                found = existing.candidates(node.key, node.title, claimed)
                if found.ambiguous:
                    blocked.add(node.key)
                    add(action(BLOCKED, node, reason=found.reason(node.key, node.title)))
                    continue
                if found.rooms:
                    room = found.rooms[0]
                    claimed.add(room.id)
                    where = found.how + (IN_ARCHIVE if room.archived else "")
                    add(action(ADOPT, node, docspace_id=room.id, found=where))
                    if node.archived and not room.archived:
                        add(action(ARCHIVE, node))
                    elif node.archived:
                        adopted_archived.add(node.key)
                    continue
            if entry is None and spare.get(node.entity):
                old = spare[node.entity].pop(0)
                if room_frozen(node):
                    add(action(NOOP, node, reason="room archived"))
                    continue
                add(
                    action(
                        MOVE,
                        node,
                        from_key=old.key,
                        docspace_id=old.docspace_id,
                        rename_to=node.title if node.title != old.title else None,
                    )
                )
                continue
            if node.kind == "folder" and room_frozen(node):
                add(action(NOOP, node, reason="room archived"))
                continue
            # apply looks in DocSpace first: a pending entry may have been created by a lost reply
            rule = (
                choose_rule(rules, node.attribute_map()) if rules and node.kind == "room" else None
            )
            if rule is not None:
                template_id, title_or_reason = resolve_template(rule, templates or {})
                if template_id is None:
                    blocked.add(node.key)
                    add(action(BLOCKED, node, reason=title_or_reason))
                    continue
                add(action(CREATE, node, template=title_or_reason, template_id=template_id))
            else:
                add(action(CREATE, node))
            if node.kind == "room" and node.archived:
                add(action(ARCHIVE, node))
            continue

        current_title = entry.title
        current_archived = bool(entry.archived)
        if node.kind == "room":
            if current_archived and not node.archived:
                add(action(UNARCHIVE, node, docspace_id=entry.docspace_id))
            if current_title != node.title:
                if current_archived and node.archived:
                    add(
                        action(
                            NOOP,
                            node,
                            docspace_id=entry.docspace_id,
                            reason="archived: rename waits",
                        )
                    )
                else:
                    add(action(RENAME, node, docspace_id=entry.docspace_id))
            if node.archived and not current_archived:
                add(action(ARCHIVE, node, docspace_id=entry.docspace_id))
            if entry.status == ORPHANED:
                add(action(RESTORE, node, docspace_id=entry.docspace_id))
            elif current_title == node.title and current_archived == node.archived:
                add(action(NOOP, node, docspace_id=entry.docspace_id))
            continue

        if room_frozen(node):
            add(action(NOOP, node, docspace_id=entry.docspace_id, reason="room archived"))
            continue
        if node.orphaned and entry.status != ORPHANED:
            add(action(ORPHAN, node, docspace_id=entry.docspace_id, reason="deleted in the source"))
            continue
        moved = entry.parent_key != node.parent_key
        if moved:
            add(
                action(
                    MOVE,
                    node,
                    from_key=node.key,
                    docspace_id=entry.docspace_id,
                    rename_to=node.title if node.title != current_title else None,
                )
            )
        elif current_title != node.title:
            add(action(RENAME, node, docspace_id=entry.docspace_id))
        elif entry.status == ORPHANED and not node.orphaned:
            add(action(RESTORE, node, docspace_id=entry.docspace_id))
        else:
            add(action(NOOP, node, docspace_id=entry.docspace_id))

    leftovers = [e for entries in spare.values() for e in entries if e.status != ORPHANED]
    for entry in sorted(leftovers, key=lambda e: e.key):
        result.actions.append(
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
    return result
