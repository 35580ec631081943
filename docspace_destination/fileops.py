"""Sending DocSpace file operations (move, archive, unarchive) so that none lands twice or merges.

DocSpace runs these later, as file operations, and what a move does depends on
where the folder is when it runs (FileMoveCopyOperation.MoveOrCopyFoldersAsync,
docs/docspace-behaviour.md "Moves"). The caller (Applier) writes the intent ahead to the ledger
through `before_send`; these functions choose the conflict mode, send, wait for
the operation and read the result back.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from docspace_destination.adoption import is_archived
from docspace_destination.client import AmbiguousWriteError, DocSpaceClient

SKIP, DUPLICATE = "Skip", "Duplicate"
MOVE_ATTEMPTS = 2  # Skip moves only: re-sending one is harmless


class FileOperationFailed(Exception):
    """A move, archive or unarchive did not take effect; the message says why."""


def title_key(title: str) -> str:
    """A title as a case- and accent-insensitive collation compares it (trailing spaces ignored)."""
    decomposed = unicodedata.normalize("NFKD", title)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().rstrip()


def conflict_mode(client: DocSpaceClient, folder_id: int, dest: int, title: str) -> str:
    """`Skip`, unless the destination holds another folder whose title the server may take for
    this one's (MySQL compares case- and accent-insensitively): then `Duplicate`.

    Listed in full: a `filterValue` search may miss a folder made a moment ago (search index).
    """
    key = title_key(title)
    for sibling in client.subfolders(dest):
        if int(sibling["id"]) != folder_id and title_key(sibling.get("title", "")) == key:
            return DUPLICATE
    return SKIP


def parent_of(client: DocSpaceClient, folder_id: int) -> int:
    return int(client.get_folder(folder_id).get("parentId") or 0)


def send_move(
    client: DocSpaceClient, folder_id: int, dest: int, mode: str, before_send: Callable[[], None]
) -> None:
    """Send a move of a folder known to be elsewhere with nothing running, and confirm it.

    A `Skip` move is sent once more if it did not take effect (harmless: a move into
    the folder's current parent does nothing); a `Duplicate` one never is.
    """
    before_send()
    for _ in range(MOVE_ATTEMPTS if mode == SKIP else 1):
        error = None
        try:
            ops = client.move_folder(folder_id, dest, conflict=mode)
        except AmbiguousWriteError:
            # it may be queued: wait for whatever is running, then look
            client.settle_operations()
        else:
            final = client.finish_operations(ops)
            error = next((str(o["error"]) for o in final.values() if o and o.get("error")), None)
        if parent_of(client, folder_id) == dest:
            return
        if error:
            raise FileOperationFailed(f"the move to {dest} failed: {error}")
    raise FileOperationFailed(
        f"the move to {dest} is not confirmed; the next run looks again before sending"
    )


def room_archived(client: DocSpaceClient, room_id: int) -> bool:
    return is_archived(client.get_room(room_id))


def move_room(
    client: DocSpaceClient, room_id: int, archive: bool, before_send: Callable[[], None]
) -> None:
    """Archive or unarchive: a `Skip` move of the room (VirtualRoomsController.ArchiveRoom).

    Harmless to repeat, but this returns only once the room is where it should be
    (folders are created in a room right after it is unarchived).
    """
    if room_archived(client, room_id) == archive:
        return
    before_send()
    send = client.archive_room if archive else client.unarchive_room
    client.wait_for_operations(send(room_id))
    if room_archived(client, room_id) != archive:
        raise FileOperationFailed(
            f"the room is not {'archived' if archive else 'unarchived'} yet; the next run looks again"
        )
