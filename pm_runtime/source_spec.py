"""What the product knows about a source, stated by the source in one place.

A source package `<name>_source` exports `DOCSPACE_SPEC`, a :class:`SourceSpec`, in its
module `docspace_spec`: its name (ledger keys, pipeline names, per-source config sections),
its dataset, how a user calls it and its records, its API's published quota, where its
credentials go, and factories for its dlt source, its `--watch` change detector and its
write-back client; plus the SQL that maps its staged tables to the desired DocSpace tree,
to room members and to write-back links. The destination and the command line read nothing
else about a source, so a new source touches none of their modules (CONTRIBUTING.md,
"Adding a source").

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

The registry is the convention itself: `spec_for(name)` imports `<name>_source.docspace_spec`,
and `source_names()` lists the `*_source` packages beside `pm_runtime` that have one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pm_runtime.changes import ChangeDetector
from pm_runtime.link_writer import LinkWriter

PROJECT_DIR = Path(__file__).resolve().parents[1]
SPEC_MODULE = "docspace_spec"  # <name>_source/docspace_spec.py holds DOCSPACE_SPEC

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
class Nouns:
    """How a user calls the source's records: what becomes a room, what a folder."""

    room: str = "project"  # a room per project (Asana) / board (Trello)
    folder: str = "task"  # a folder per task / card
    rooms_table: str = "projects"  # the staged table of the records that become rooms


@dataclass(frozen=True)
class ApiQuota:
    """The source API's published request quota: `requests` per `window_seconds`."""

    requests: float
    window_seconds: float
    unit: str  # as a user reads it: "requests/min"


@dataclass(frozen=True, kw_only=True)
class SourceSpec:
    """Everything about one source, in keyword fields (so new ones are added, never reordered)."""

    name: str
    dataset: str
    desired_tree: MappingQuery
    people: tuple[MappingQuery, ...] = ()
    links: MappingQuery | None = None
    link_writer: Callable[[], LinkWriter] | None = None
    title: str = ""  # the source as a user names it ("Asana"); `name` capitalised when empty
    nouns: Nouns = Nouns()
    quota: ApiQuota | None = None  # what `--watch` keeps a share of
    credentials_hint: str = ""  # where the credentials go, for the error a rejected one prints
    dlt_source: Callable[..., Any] | None = None  # the dlt source (keyword args: the detector's)
    change_detector: Callable[[], ChangeDetector] | None = None  # for `--watch`
    # the source's own setting for its periodic full reconcile (`sources.<name>.<key>`), which
    # wins over `[watch] reconcile_every_hours`; None: the source has none
    reconcile_key: str | None = None
    # documents (issue 20): the attachments SQL and the download helper's factory
    attachments: MappingQuery | None = None
    attachment_download: Callable[[], AttachmentOpener] | None = None

    @property
    def display_title(self) -> str:
        return self.title or self.name.capitalize()


# what a source package must state for the command line and `--watch` to run it
REQUIRED_FOR_A_PACKAGE = ("title", "quota", "credentials_hint", "dlt_source", "change_detector")


def missing_fields(spec: SourceSpec) -> list[str]:
    """The fields a source package's spec leaves empty that the command line needs."""
    return [name for name in REQUIRED_FOR_A_PACKAGE if not getattr(spec, name)]


def source_names() -> tuple[str, ...]:
    """The registered sources: every `<name>_source` package beside `pm_runtime` with a spec."""
    found = PROJECT_DIR.glob(f"*_source/{SPEC_MODULE}.py")
    return tuple(sorted(p.parent.name.removesuffix("_source") for p in found))


@cache
def _registered(name: str) -> SourceSpec:
    try:
        module = importlib.import_module(f"{name}_source.{SPEC_MODULE}")
    except ModuleNotFoundError as exc:
        if exc.name not in (f"{name}_source", f"{name}_source.{SPEC_MODULE}"):
            raise
        raise LookupError(f"no source package {name}_source with a DOCSPACE_SPEC") from None
    spec = getattr(module, "DOCSPACE_SPEC", None)
    if not isinstance(spec, SourceSpec):
        raise LookupError(f"{name}_source has no DOCSPACE_SPEC")
    return spec


def spec_for(source: str | SourceSpec) -> SourceSpec:
    """A spec as given, or the registered one of that name (`<name>_source.docspace_spec`)."""
    if isinstance(source, SourceSpec):
        return source
    return _registered(source)
