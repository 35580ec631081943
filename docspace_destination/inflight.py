"""File operations that may still be on their way when a run starts.

DocSpace runs moves, archive and unarchive later, as file operations; the ledger
writes each one's `intent` before it is sent (docspace_destination.ledger). A run
killed after sending, or a reply that never came, leaves the intent set. Before
planning, :func:`resolve_intents` waits for the portal's queued and running
operations (the list does not say which folder each one moves, so all of them)
and then reads where every such folder or room really is, so the plan starts
from the truth and never re-sends a move that already happened.
"""

from __future__ import annotations

import logging

from docspace_destination.adoption import is_archived
from docspace_destination.client import DocSpaceClient, DocSpaceError
from docspace_destination.ledger import Ledger, LedgerEntry

log = logging.getLogger(__name__)


def resolve_intents(client: DocSpaceClient, ledger: Ledger, source: str) -> int:
    """Settle every ledger row of `source` whose intent is set; returns how many there were."""
    # files have ids of their own (and never an intent left here): rooms and folders only.
    # Every run looks; only one after a crash finds any, and only that one reads the ledger whole
    # (a plain run of a big account does not hold 200,000 rows for nothing).
    where = "source = ? AND kind <> 'file' AND intent IS NOT NULL AND docspace_id IS NOT NULL"
    if next(ledger.rows(where, [source]), None) is None:
        return 0
    entries = {k: e for k, e in ledger.load(source).items() if e.kind != "file"}
    open_rows = [e for e in entries.values() if e.intent and e.docspace_id is not None]
    client.settle_operations()
    known = {e.docspace_id: k for k, e in entries.items() if e.docspace_id is not None}
    fixed: list[LedgerEntry] = []
    stale: list[str] = []
    for entry in open_rows:
        if any(
            k != entry.key and e.docspace_id == entry.docspace_id and not e.intent
            for k, e in entries.items()
        ):
            # a move to a new key was recorded under that key; this is the old row
            stale.append(entry.key)
            continue
        try:
            seen = fixed_entry(client, entry, known)
        except DocSpaceError as exc:
            if exc.status not in (403, 404):
                raise
            log.info(
                "%s: %s is gone (%s); the plan will deal with it", entry.key, entry.intent, exc
            )
            seen = entry.evolve(intent=None)
        fixed.append(seen)
    ledger.write(fixed)
    ledger.forget(stale)
    return len(open_rows)


def fixed_entry(client: DocSpaceClient, entry: LedgerEntry, known: dict[int, str]) -> LedgerEntry:
    """`entry` as DocSpace holds it now (parent, title, archived), with its intent cleared."""
    assert entry.docspace_id is not None
    if entry.kind == "room":
        room = client.get_room(entry.docspace_id)
        archived = is_archived(room)
        return entry.evolve(archived=archived, title=room.get("title", entry.title), intent=None)
    folder = client.get_folder(entry.docspace_id)
    parent_id = int(folder.get("parentId") or 0) or None
    # a parent the ledger does not know leaves parent_key empty: the plan then moves it back
    parent_key = known.get(parent_id) if parent_id is not None else None
    return entry.evolve(
        parent_id=parent_id,
        parent_key=parent_key,
        title=folder.get("title", entry.title),
        intent=None,
    )
