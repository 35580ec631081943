"""What the DocSpace destination needs from a source, stated by the source in one place.

A source package exports `DOCSPACE_SPEC`, a :class:`SourceSpec`: its name (ledger keys,
pipeline names, per-source config sections), its dataset, the SQL that maps its staged
tables to the desired DocSpace tree, to room members and to write-back links, and a
factory for its write-back client. The destination reads nothing else about a source, so
a new source touches no destination module.

Uniform columns of the SQL files (DuckDB, over `<dataset>.<table>` names):
- desired tree: key, entity, kind ('room' | 'folder'), parent_key, name, source_id,
  archived, orphaned, depth, attributes (JSON of what room-template rules match on);
  parameters $grouped, $nested_subtasks.
- people: room_key, email, name, role ('owner' | 'member' | 'observer').
- links: key, target, name — over the view `docspace_entries` (key, kind, status,
  docspace_id, title: this source's ledger rows) the destination provides; parameter $tasks.
- attachments (documents, optional): attachment_id, parent_entity (the `entity` of the
  folder it belongs in), name, size, copyable (an uploaded file, not a link), deleted.
  A source with this query stages attachments when its dlt source gets `attachments=True`,
  and `attachment_download()` opens one for the copy (`AttachmentOpener`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pm_runtime.link_writer import LinkWriter

if TYPE_CHECKING:
    from pm_runtime.download import Download


class AttachmentOpener(Protocol):
    """A source's download helper: one verified, streamed download per attachment."""

    def open(self, attachment_id: str, parent_id: str) -> Download: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class MappingQuery:
    """One SQL file and what it may find missing in a young dataset."""

    path: Path
    # tables (and their columns) without which the query has nothing to say
    requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # tables a small or fresh account may not have yet: "col TYPE, ..." of an empty stand-in
    optional_tables: Mapping[str, str] = field(default_factory=dict)
    # columns the source adds over time; a missing one reads as NULL
    optional_columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    dataset: str
    desired_tree: MappingQuery
    people: tuple[MappingQuery, ...] = ()
    links: MappingQuery | None = None
    link_writer: Callable[[], LinkWriter] | None = None
    # documents (issue 20): the attachments SQL and the download helper's factory
    attachments: MappingQuery | None = None
    attachment_download: Callable[[], AttachmentOpener] | None = None


def spec_for(source: str | SourceSpec) -> SourceSpec:
    """A spec as given, or the `DOCSPACE_SPEC` of the package `<name>_source` (by convention)."""
    if isinstance(source, SourceSpec):
        return source
    try:
        module = importlib.import_module(f"{source}_source")
    except ImportError:
        raise LookupError(f"no source package {source}_source with a DOCSPACE_SPEC") from None
    spec = getattr(module, "DOCSPACE_SPEC", None)
    if not isinstance(spec, SourceSpec):
        raise LookupError(f"{source}_source has no DOCSPACE_SPEC")
    return spec
