"""Documents follow their tasks: a task's uploaded attachments as files in its folder.

With `[destination.docspace] attachments = "copy"` the source stages its attachments
(metadata only) and this kind puts every uploaded one into the folder of its task — into
each room's folder when the task is in several projects. What is not copied, and why, is in
the plan: links to elsewhere (Google Drive, Dropbox, a URL...) `skipped (external link)`,
files over `attachment_max_mb` `skipped (N MB > limit)`. The write-back's own "DocSpace
folder"/"DocSpace room" links are not attachments to copy at all (the source's SQL leaves
them out).

Desired state (`desired_files`): the source's attachments SQL (`SourceSpec.attachments`)
gives one row per attachment; here each becomes a `file` node under every folder of its
task, keyed `<source>:file:<attachment id>@<folder key>`, titled as DocSpace stores it and
distinct among the task's attachments (`file_titles`).

Plan rule (`plan_file`): an attachment never copied is uploaded (or skipped with its
reason); a copied one is left alone for good — files are never renamed, replaced or
deleted: an attachment deleted in the source leaves its file (orphaned in the ledger), and a
task that moves project takes its folder, files and all (the file's ledger row follows the
folder: `FOLLOW`, no DocSpace write). How an upload happens exactly once: `file_steps`.
With `--refresh` (`file_refresh`) a file deleted by hand in DocSpace is uploaded again and
one moved by hand is left where it is, listed as `left file`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

import duckdb

from docspace_destination.desired import DesiredNode
from docspace_destination.file_refresh import MISSING, MOVED_BY_HAND, is_moved_by_hand
from docspace_destination.file_titles import distinct_file_titles
from docspace_destination.ledger import ORPHANED, LedgerEntry
from docspace_destination.operations import FOLLOW, MOVE, NOOP, ORPHAN, RESTORE, SKIP, UPLOAD
from docspace_destination.source_sql import run_mapping
from pm_runtime.source_spec import SourceSpec, spec_for

if TYPE_CHECKING:
    from docspace_destination.plan import Plan, PlanContext

FILE = "file"
MB = 1024 * 1024
EXTERNAL_LINK = "external link"


def skip_reason(copyable: bool, size: int | None, max_mb: int) -> str | None:
    """Why an attachment is not copied (None: it is)."""
    if not copyable:
        return EXTERNAL_LINK
    if size is None:
        return "its size is unknown"
    if size > max_mb * MB:
        return f"{size / MB:.1f} MB > limit of {max_mb} MB"
    return None


def desired_files(
    con: duckdb.DuckDBPyConnection,
    source: str | SourceSpec,
    nodes: list[DesiredNode],
    max_mb: int,
) -> list[DesiredNode]:
    """A `file` node for each staged attachment under each folder of its task."""
    spec = spec_for(source)
    if spec.attachments is None:
        return []
    rows = run_mapping(con, spec.attachments, spec.dataset)
    folders: dict[str, list[DesiredNode]] = defaultdict(list)
    for node in nodes:
        if node.kind == "folder":
            folders[node.entity].append(node)
    by_parent: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        if row[1] in folders:
            by_parent[row[1]].append(row)
    out: list[DesiredNode] = []
    for parent_entity, attachments in by_parent.items():
        titles = distinct_file_titles([(str(r[0]), str(r[2] or "")) for r in attachments])
        for attachment_id, _, _name, size, copyable, deleted in attachments:
            aid = str(attachment_id)
            size = None if size is None else int(size)
            attributes = json.dumps(
                {"size": size, "skip": skip_reason(bool(copyable), size, max_mb)}
            )
            for folder in folders[parent_entity]:
                out.append(
                    DesiredNode(
                        key=f"{spec.name}:{FILE}:{aid}@{folder.key}",
                        entity=f"{spec.name}:{FILE}:{aid}",
                        kind=FILE,
                        parent_key=folder.key,
                        title=titles[aid],
                        archived=False,
                        orphaned=bool(deleted) or folder.orphaned,
                        depth=folder.depth + 1,
                        source_id=aid,
                        attributes=attributes,
                    )
                )
    return out


# --------------------------------------------------------------------------- plan


def _folder_id(ctx: PlanContext, folder_key: str | None) -> int | None:
    """The DocSpace id the parent folder has, or gets by a move planned in this plan."""
    entry = ctx.ledger.get(folder_key) if folder_key else None
    if entry is not None and entry.docspace_id is not None:
        return entry.docspace_id
    for a in ctx.actions:
        if a.key == folder_key and a.op == MOVE:
            return a.docspace_id
    return None


def _followed(node: DesiredNode, ctx: PlanContext) -> LedgerEntry | None:
    """The row of this file under its task's old folder, when that folder is now this one
    (the task moved project: the folder moved, the file with it)."""
    spare = ctx.spare.get(node.entity)
    folder_id = _folder_id(ctx, node.parent_key)
    if not spare or folder_id is None:
        return None
    for i, old in enumerate(spare):
        if old.parent_id == folder_id:
            return spare.pop(i)
    return None


def plan_file(node: DesiredNode, entry: LedgerEntry | None, ctx: PlanContext) -> None:
    size = node.attribute_map().get("size")
    if entry is None or entry.docspace_id is None:
        old = _followed(node, ctx) if entry is None else None
        if old is not None:
            ctx.add(FOLLOW, node, from_key=old.key, docspace_id=old.docspace_id)
        elif ctx.room_frozen(node):
            ctx.add(NOOP, node, reason="room archived")
        elif node.attribute_map().get("skip"):
            ctx.add(SKIP, node, reason=node.attribute_map()["skip"], size=size)
        else:  # (again, when --refresh found it deleted by hand: the row says "missing")
            again = entry is not None and entry.last_error == MISSING
            ctx.add(UPLOAD, node, size=size, reason=MISSING if again else "")
        return
    # a copied file is never renamed, replaced or deleted: only the ledger follows the source
    if node.orphaned and entry.status != ORPHANED:
        ctx.add(ORPHAN, node, docspace_id=entry.docspace_id, reason="deleted in the source")
    elif entry.status == ORPHANED and not node.orphaned:
        ctx.add(RESTORE, node, docspace_id=entry.docspace_id)
    else:  # moved by hand (seen by --refresh): left where the person put it
        reason = str(entry.last_error) if is_moved_by_hand(entry) else ""
        ctx.add(NOOP, node, docspace_id=entry.docspace_id, reason=reason)


# --------------------------------------------------------------------------- --plan


def plan_lines(the_plan: Plan, verbose: int, listed: int = 10) -> list[str]:
    """What `--plan` shows of documents: uploads with their count and bytes, per task folder
    with -v; skipped attachments with their reason."""
    uploads = [a for a in the_plan.actions if a.op == UPLOAD]
    skipped = [a for a in the_plan.actions if a.op == SKIP and a.kind == FILE]
    lines: list[str] = []
    if uploads:
        total = sum(a.size or 0 for a in uploads)
        folders = len({a.parent_key for a in uploads})
        lines.append(
            f"  {'upload':<20} {len(uploads):>6}  ({size_label(total)} into {folders} folder(s))"
        )
        by_folder: dict[str | None, list[Any]] = defaultdict(list)
        for a in uploads:
            by_folder[a.parent_key].append(a)
        shown = list(by_folder.items()) if verbose else list(by_folder.items())[:listed]
        titles = {a.key: a.title for a in the_plan.actions if a.kind != FILE}
        for parent, files in shown:
            size = sum(a.size or 0 for a in files)
            where = f"{titles[parent]!r} [{parent}]" if parent in titles else f"[{parent}]"
            lines.append(f"      into {where}: {len(files)} file(s), {size_label(size)}")
            if verbose:
                lines += [
                    f"        {a.title!r}  ({size_label(a.size or 0)}{_again(a)})" for a in files
                ]
        if not verbose and len(by_folder) > listed:
            lines.append(f"      … and {len(by_folder) - listed} more folders (-v lists all)")
    if skipped:
        text = _reasons(skipped)
        lines.append(f"  {'skip file':<20} {len(skipped):>6}  ({text}; -v lists them)")
        if verbose:
            lines += [f"      file   {a.title!r}  [{a.key}]  skipped ({a.reason})" for a in skipped]
    left = [a for a in the_plan.actions if a.op == NOOP and a.reason.startswith(MOVED_BY_HAND)]
    if left:
        lines.append(f"  {'left file':<20} {len(left):>6}  ({MOVED_BY_HAND}; -v lists them)")
        if verbose:
            lines += [f"      file   {a.title!r}  [{a.key}]  {a.reason}" for a in left]
    return lines


def skipped_line(the_plan: Plan) -> str | None:
    """The run summary's line for attachments not copied (None: there are none)."""
    skipped = [a for a in the_plan.actions if a.op == SKIP and a.kind == FILE]
    if not skipped:
        return None
    text = _reasons(skipped)
    return f"  {'not copied':<11} {len(skipped):>6}  (attachments: {text}; --plan -v lists them)"


def _again(upload: Any) -> str:
    """Why a file copied before is uploaded again (--refresh found it deleted by hand)."""
    return f"; {MISSING}: copied again" if upload.reason.startswith(MISSING) else ""


def _reasons(skipped: list[Any]) -> str:
    reasons: dict[str, int] = defaultdict(int)
    for a in skipped:
        reasons["too large" if "> limit" in a.reason else a.reason] += 1
    return ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))


def size_label(n: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", MB), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"
