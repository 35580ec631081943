"""`--refresh` for copied documents: is every file the ledger knows still in its task's folder?

Like rooms and folders (`observe.observe`, `plan.refreshed`), but files are never changed, so
what refresh can do for them is narrower:

- still in its folder (renamed by hand or not): left alone, nothing is written;
- deleted by hand — gone for good, or in a Trash: its ledger row loses its file id (`pending`,
  "missing in DocSpace"), so the plan uploads it again, with the usual write-ahead intent and
  adoption rules (`file_steps`);
- moved by hand to another folder: left where the person put it and not copied again; the row
  keeps its id and says so ("moved by hand to folder N ..."), and `--plan` lists it.

Reads: one listing (every page) per task folder that holds copied files, then one
`GET file/{id}` per file that is not in its folder; a few at a time (`READERS`). What that GET answers on the real server
(FilesHelperBase.GetFileInfoAsync -> FileStorageService.GetFileAsync, FileSecurity; see
docs/docspace-behaviour.md "Files deleted or moved by hand"): 404 when the file was deleted for
good; 403 when it is in the Trash of the person who deleted it (only a Trash's owner may read
it, an administrator included); 200 with `rootFolderType` 3 (Trash) when the API key's own
user deleted it; 200 with another `folderId` when it was moved. A 403 can also mean the file
was moved where this API key cannot see it: either way it is no longer where the task's
documents are, and it is copied again.

A file whose attachment left the source (`orphaned`) is not looked for: it would not be copied
again anyway. Without `--refresh` none of this runs: the ledger is trusted, and a re-sync reads
nothing more.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from docspace_destination.client import DocSpaceClient, DocSpaceError
from docspace_destination.file_upload import Uploader
from docspace_destination.ledger import ORPHANED, PENDING, LedgerEntry

FILE = "file"  # files.FILE (files.py imports this module)
TRASH = 3  # FolderType.TRASH: the rootFolderType of whatever is in a Trash
MISSING = "missing in DocSpace"
MOVED_BY_HAND = "moved by hand"
READERS = 8  # listings at once: well under DocSpace's 50 concurrent reads per user


def moved_note(folder_id: int) -> str:
    return f"{MOVED_BY_HAND} to folder {folder_id}: left there, not copied again"


def in_trash(entry: dict[str, Any]) -> bool:
    """A FileDto or FolderDto in a Trash: the reader's own (another's Trash answers 403)."""
    return entry.get("rootFolderType") == TRASH


def is_moved_by_hand(entry: LedgerEntry) -> bool:
    return entry.kind == FILE and (entry.last_error or "").startswith(MOVED_BY_HAND)


def observe_files(client: DocSpaceClient, entries: dict[str, LedgerEntry]) -> dict[str, int | None]:
    """Where each copied file is now, by ledger key: a folder id, or None when it is gone
    (deleted for good, in a Trash, out of this API key's reach)."""
    by_folder: dict[int, list[LedgerEntry]] = defaultdict(list)
    seen: dict[str, int | None] = {}
    lookup: list[LedgerEntry] = []
    for entry in entries.values():
        if entry.kind != FILE or entry.docspace_id is None or entry.status == ORPHANED:
            continue
        if entry.parent_id is None:
            lookup.append(entry)
        else:
            by_folder[entry.parent_id].append(entry)
    uploader = Uploader(client)

    def listed(folder_id: int) -> set[int]:
        try:
            # a folder deleted into the API key's own Trash still lists its files, in the Trash
            # too: they are looked up, and gone, as the folder is (observe.observe)
            return {int(f["id"]) for f in uploader.files(folder_id) if not in_trash(f)}
        except DocSpaceError as exc:
            if exc.status not in (403, 404):
                raise
            return set()  # the folder itself is gone: each file is looked up where it is

    folders = sorted(by_folder)
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        for folder_id, there in zip(folders, pool.map(listed, folders), strict=True):
            for entry in by_folder[folder_id]:
                if entry.docspace_id in there:
                    seen[entry.key] = folder_id
                else:
                    lookup.append(entry)
        ids = [int(e.docspace_id) for e in lookup]  # type: ignore[arg-type]
        for entry, where in zip(lookup, pool.map(lambda i: _where(client, i), ids), strict=True):
            seen[entry.key] = where
    return seen


def _where(client: DocSpaceClient, file_id: int) -> int | None:
    """The folder a file is in, or None when it is deleted, in a Trash or out of reach."""
    try:
        info = client.get_file(file_id)
    except DocSpaceError as exc:
        if exc.status in (403, 404):
            return None
        raise
    if not isinstance(info, dict) or in_trash(info):
        return None
    folder = info.get("folderId")
    return int(folder) if folder is not None else None


def refreshed_files(
    ledger: dict[str, LedgerEntry], seen: dict[str, int | None]
) -> dict[str, LedgerEntry]:
    """The ledger corrected by where its files are (`observe_files`). Only rows that change are
    new objects, so the caller writes just those."""
    result = dict(ledger)
    for key, where in seen.items():
        entry = ledger[key]
        folder = ledger.get(entry.parent_key) if entry.parent_key else None
        if where is None:
            result[key] = entry.evolve(
                docspace_id=None, parent_id=None, status=PENDING, last_error=MISSING
            )
        elif where == entry.parent_id or (folder is not None and where == folder.docspace_id):
            if where != entry.parent_id or is_moved_by_hand(entry):  # back home (put back by hand)
                result[key] = entry.evolve(parent_id=where, last_error=None)
        elif entry.last_error != moved_note(where):
            result[key] = entry.evolve(last_error=moved_note(where))
    return result
