"""Folders: a folder per task (card), per section or list when grouped, per subtask when nested.

Plan rules (`plan_folder`): a record never synced gets a folder, unless the same entity has a
folder elsewhere (a task moved to another project: that folder is moved, documents and all)
or its room is archived and stays so (DocSpace refuses changes there). A synced record's
folder follows its parent (move), its title (rename) and its deletion in the source (orphaned
in the ledger; documents are never deleted).

Apply steps (`FolderSteps`): a create first looks under the parent for a folder of that exact
title (a lost reply, a crashed run, a template's folder) and adopts it; a parent found deleted
by hand sends its whole subtree back to `pending`; a move is never sent twice (see `move`).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from docspace_destination.client import AmbiguousWriteError, DocSpaceError
from docspace_destination.desired import DesiredNode
from docspace_destination.fileops import conflict_mode, send_move
from docspace_destination.ledger import APPLIED, ORPHANED, PENDING, LedgerEntry
from docspace_destination.operations import (
    CREATE,
    MOVE,
    NOOP,
    ORPHAN,
    RENAME,
    RESTORE,
    Action,
    RecordFailed,
)
from pm_runtime.http_policy import LOOK_THEN_WRITE_ATTEMPTS

if TYPE_CHECKING:
    from docspace_destination.apply import Applier
    from docspace_destination.plan import PlanContext

CREATE_ATTEMPTS = LOOK_THEN_WRITE_ATTEMPTS  # after an ambiguous create: look, then create


# --------------------------------------------------------------------------- plan


def plan_folder(node: DesiredNode, entry: LedgerEntry | None, ctx: PlanContext) -> None:
    if entry is None or entry.docspace_id is None:
        if entry is None and ctx.spare.get(node.entity):
            old = ctx.spare[node.entity].pop(0)
            if ctx.room_frozen(node):
                ctx.add(NOOP, node, reason="room archived")
                return
            rename_to = node.title if node.title != old.title else None
            ctx.add(MOVE, node, from_key=old.key, docspace_id=old.docspace_id, rename_to=rename_to)
        elif ctx.room_frozen(node):
            ctx.add(NOOP, node, reason="room archived")
        else:
            # apply looks in DocSpace first: a pending entry may have been created by a lost reply
            ctx.add(CREATE, node)
        return
    if ctx.room_frozen(node):
        ctx.add(NOOP, node, docspace_id=entry.docspace_id, reason="room archived")
    elif node.orphaned and entry.status != ORPHANED:
        ctx.add(ORPHAN, node, docspace_id=entry.docspace_id, reason="deleted in the source")
    elif entry.parent_key != node.parent_key:
        rename_to = node.title if node.title != entry.title else None
        ctx.add(MOVE, node, from_key=node.key, docspace_id=entry.docspace_id, rename_to=rename_to)
    elif entry.title != node.title:
        ctx.add(RENAME, node, docspace_id=entry.docspace_id)
    elif entry.status == ORPHANED and not node.orphaned:
        ctx.add(RESTORE, node, docspace_id=entry.docspace_id)
    else:
        ctx.add(NOOP, node, docspace_id=entry.docspace_id)


# --------------------------------------------------------------------------- apply


class FolderSteps:
    """How a folder is created (or found), renamed and moved in DocSpace."""

    def __init__(self, run: Applier) -> None:
        self.run = run
        self.client = run.client
        self._children: dict[int, list[dict[str, Any]]] = {}  # listed before this step's creates
        self._gone: set[int] = set()  # parents found deleted in DocSpace during this run
        self.steps = {CREATE: self.create, RENAME: self.rename, MOVE: self.move}

    def prefetch(self, pool: ThreadPoolExecutor, todo: list[Action]) -> None:
        """List, in parallel, the parents the step's creates will look in."""
        parents = set()
        for a in todo:
            if a.op == CREATE and a.kind == "folder":
                pid = self.run.id_of(a.parent_key)
                if pid is not None and pid not in self.run.fresh and pid not in self._children:
                    parents.add(pid)

        def fetch(pid: int) -> None:
            try:
                self._children[pid] = self.client.subfolders(pid)
            except DocSpaceError:
                pass  # the create will look again and report the error on its own record

        list(pool.map(fetch, sorted(parents)))

    def _parent_gone(self, a: Action, parent_id: int) -> RecordFailed:
        """The parent was deleted in DocSpace: it and everything the ledger has below it lose
        their ids (pending, as `--refresh` marks what is missing), so the next plan re-creates
        the subtree — looking first, as every create does."""
        self._gone.add(parent_id)
        for e in self.run.subtree(a.parent_key):
            self.run.save(
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

    def _listing(self, a: Action, parent_id: int, attempt: int) -> list[dict[str, Any]]:
        if parent_id in self.run.fresh and attempt == 1:
            return []
        if parent_id in self._children and attempt == 1:
            return self._children[parent_id]
        try:
            return self.client.subfolders(parent_id)
        except DocSpaceError as exc:
            if exc.status == 404:
                raise self._parent_gone(a, parent_id) from None
            raise

    def create(self, a: Action) -> str:
        run = self.run
        parent_id = run.id_of(a.parent_key)
        if parent_id is None:
            raise RecordFailed(f"its parent {a.parent_key} is not in DocSpace yet")
        if parent_id in self._gone:
            raise self._parent_gone(a, parent_id)
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            found = run.unclaimed(self._listing(a, parent_id, attempt), a.title)
            if len(found) > 1:
                ids = ", ".join(str(f["id"]) for f in found)
                raise RecordFailed(
                    f"{len(found)} folders titled {a.title!r} under {parent_id} (ids {ids})"
                )
            if found:
                run.applied(a, int(found[0]["id"]), parent_id, a.title, False)
                return "adopted"
            run.reserve(1)
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
            run.fresh.add(int(folder["id"]))
            run.applied(a, int(folder["id"]), parent_id, folder.get("title", a.title), False)
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

    def rename(self, a: Action) -> str:
        """One synchronous PUT, harmless to repeat (see `Applier.rename`)."""
        return self.run.rename(a, self.client.rename_folder)

    def _move_source(self, a: Action) -> LedgerEntry:
        for key in (a.from_key, a.key):
            entry = self.run.entries.get(key) if key else None
            if entry is not None and entry.docspace_id is not None:
                return entry
        raise RecordFailed(f"nothing recorded under {a.from_key or a.key} to move")

    def move(self, a: Action) -> str:
        """Move a folder (and give it its new title) without ever moving it twice.

        DocSpace moves asynchronously, and what a move does depends on where the folder
        is when the operation runs (FileMoveCopyOperation.MoveOrCopyFoldersAsync,
        docs/docspace-behaviour.md "Moves"): with `Duplicate`, a move re-sent for a folder
        already in its destination makes a new folder `Title (1)`, moves the contents there
        and deletes the original; with `Skip`, that re-send does nothing — but a move next
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
        run = self.run
        entry = self._move_source(a)
        dest = run.id_of(a.parent_key)
        if dest is None:
            raise RecordFailed(f"its new parent {a.parent_key} is not in DocSpace yet")
        folder_id = int(entry.docspace_id)  # type: ignore[arg-type]
        run.reserve(a.writes)
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
                before_send=lambda: run.note_intent(entry, f"move:{dest}"),
            )
        moved = run.entry(
            a,
            docspace_id=folder_id,
            parent_id=dest,
            title=title,
            status=APPLIED,
            attempts=entry.attempts,
        )
        run.save(moved)
        if entry.key != a.key:
            # durable under the new key first; a crash in between leaves an old key that
            # inflight.resolve_intents (or the next plan) clears
            run.forget(entry.key)
        return "moved"
