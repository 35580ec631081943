"""The DocSpace tree a demo run leaves, read back from DocSpace: rooms, folders, files.

Folders and files are what DocSpace lists (the product's client and uploader reads, as a user
browsing the portal would see them); each file shows DocSpace's own size text. Attachments the
run did not copy (links to elsewhere, files over `attachment_max_mb`) have no file to list:
they are shown under their task's folder with the reason, from the staged attachments and the
same rule the plan uses (`docspace_destination.files.skip_reason`), so the demo shows where a
document was left behind and why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pm_runtime.source_spec import spec_for

if TYPE_CHECKING:
    from docspace_destination.ledger import LedgerEntry

FOLDER, FILE, LINK, LEFT = "📁", "📄", "🔗", "🚫"


def format_tree(source: str) -> str:
    """The DocSpace tree this source maps to, read back from DocSpace."""
    from docspace_destination.client import DocSpaceClient
    from docspace_destination.file_upload import Uploader
    from docspace_destination.files import EXTERNAL_LINK
    from docspace_destination.ledger import Ledger
    from docspace_destination.settings import load_settings

    settings = load_settings(source)
    client = DocSpaceClient(settings.base_url, settings.api_key)
    uploader = Uploader(client)
    try:
        # the ledger and the staged attachments are read first, in short transactions; the
        # walk below only asks DocSpace
        entries = Ledger().load(source).values()
        rooms = sorted(
            (e for e in entries if e.kind == "room" and e.docspace_id is not None),
            key=lambda e: e.title or "",
        )
        copying = settings.attachments == "copy"
        left_behind = not_copied(source, entries, settings.attachment_max_mb) if copying else {}
        lines = ["", f"DocSpace tree for {source} ({len(rooms)} rooms):"]

        def walk(folder_id: int, depth: int) -> None:
            indent = "    " * depth
            # a folder's own files first, so they are not read as its last subfolder's
            for f in sorted(uploader.files(folder_id), key=lambda f: f.get("title", "")):
                lines.append(f"{indent}{FILE} {f.get('title')}  ({f.get('contentLength')})")
            for name, reason in left_behind.get(folder_id, []):
                icon = LINK if reason == EXTERNAL_LINK else LEFT
                lines.append(f"{indent}{icon} {name}  (not copied: {reason})")
            for child in sorted(client.subfolders(folder_id), key=lambda c: c.get("title", "")):
                lines.append(f"{indent}{FOLDER} {child.get('title')}")
                walk(int(child["id"]), depth + 1)

        for room in rooms:
            state = " (archived)" if room.archived else ""
            lines.append(f"  🏠 {room.title}{state}")
            walk(room.docspace_id, 2)
        return "\n".join(lines)
    finally:
        client.close()


def not_copied(
    source: str, entries: Iterable[LedgerEntry], max_mb: int
) -> dict[int, list[tuple[str, str]]]:
    """{DocSpace folder id: [(attachment name, why it was not copied)]} of the live tasks'
    attachments that have no file (staged rows; `skip_reason`, as the plan decides)."""
    from docspace_destination.files import skip_reason
    from docspace_destination.source_sql import run_mapping
    from pm_runtime.staging import open_staging

    spec = spec_for(source)
    if spec.attachments is None:
        return {}
    folders: dict[str, list[int]] = defaultdict(list)
    for e in entries:
        if e.kind == "folder" and e.docspace_id is not None:
            folders[e.entity].append(e.docspace_id)
    with open_staging(read_only=True) as con:
        rows = run_mapping(con, spec.attachments, spec.dataset)
    out: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for _id, parent, name, size, copyable, deleted in sorted(rows, key=lambda r: str(r[2])):
        reason = skip_reason(bool(copyable), None if size is None else int(size), max_mb)
        if reason is None or deleted:
            continue
        for folder_id in folders.get(str(parent), []):
            out[folder_id].append((str(name), reason))
    return out
