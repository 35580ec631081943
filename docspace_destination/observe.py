"""What DocSpace holds now for the rooms and folders the ledger knows: `--refresh`'s reads,
which `plan.refreshed` compares with the ledger (files: `file_refresh.observe_files`)."""

from __future__ import annotations

from typing import Any

from docspace_destination.adoption import is_archived
from docspace_destination.client import DocSpaceClient, DocSpaceError
from docspace_destination.file_refresh import in_trash
from docspace_destination.ledger import LedgerEntry
from docspace_destination.plan import Observed


def observe(client: DocSpaceClient, entries: dict[str, LedgerEntry]) -> dict[int, Observed | None]:
    """What DocSpace holds now for every room and folder id the ledger knows (--refresh;
    files, numbered apart, are looked for by `file_refresh.observe_files`).

    A folder deleted by hand is gone (None), so the plan creates it again and the files'
    refresh copies its documents into the new one. On the real server a delete without
    `immediately` MOVES the folder, subtree and files included, into the deleting user's
    Trash (FileDeleteOperation -> FolderDao.MoveFolderAsync); what `GET folder/{id}` then
    answers (FileStorageService.GetFolderAsync, FileSecurity `case FolderType.TRASH`: only a
    Trash's owner may read it): 404 once deleted for good; 403 in a colleague's Trash (or moved
    where this API key cannot see it); 200 with `rootFolderType` 3 in the API key's own user's
    Trash. All three are gone. The last one could be moved back instead — the server does
    restore from a Trash through the same move (FileMoveCopyOperation publishes
    FolderRestored when the source is a Trash; FileSecurity lets a Trash's owner Move) — but
    it is not: a deletion is a person's decision and their Trash theirs to restore from; a
    colleague's Trash cannot be restored from at all, and the result should not depend on
    who deleted; and the folder's documents, in the Trash too, are copied again by the files'
    refresh (as a file deleted by hand is), so a restored folder would hold them twice.
    See docs/docspace-behaviour.md "Folders deleted by hand".
    """
    known = {
        e.docspace_id: e
        for e in entries.values()
        if e.docspace_id is not None and e.kind in ("room", "folder")
    }
    seen: dict[int, Observed | None] = {}
    for room in client.list_rooms(area="any"):
        rid = int(room["id"])
        if rid in known:
            archived = is_archived(room)
            seen[rid] = Observed(room.get("title", ""), None, archived)
    parents = {
        e.parent_id for e in known.values() if e.kind == "folder" and e.parent_id is not None
    }
    for parent in sorted(parents):
        if parent not in seen and parent not in {e.docspace_id for e in known.values()}:
            continue
        try:
            children = client.subfolders(parent)
        except DocSpaceError as exc:
            if exc.status in (403, 404):
                continue
            raise
        for child in children:
            cid = int(child["id"])
            if cid in known:  # under a trashed parent, a child is in the Trash too
                seen[cid] = (
                    None if in_trash(child) else Observed(child.get("title", ""), parent, False)
                )
    for did, entry in known.items():
        if did in seen:
            continue
        if entry.kind == "room":
            seen[did] = None
            continue
        try:  # moved by a person, or deleted (for good, or into a Trash)
            info = client.get_folder(did)
        except DocSpaceError as exc:
            if exc.status not in (403, 404):
                raise
            seen[did] = None  # 404 deleted for good; 403 in a colleague's Trash, or out of reach
            continue
        seen[did] = None if in_trash(info) else _observed_folder(info)
    return seen


def _observed_folder(info: dict[str, Any]) -> Observed:
    parent = info.get("parentId")
    return Observed(info.get("title", ""), int(parent) if parent is not None else None, False)
