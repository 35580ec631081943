"""The plan of a sync, made a part of the account at a time (issue 21): each part's desired
nodes and ledger rows are read, planned and let go before the next, so a plan of 200,000
folders holds one part."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb

from docspace_destination.adoption import ExistingRooms
from docspace_destination.client import DocSpaceClient
from docspace_destination.desired import (
    DesiredNode,
    MappingOptions,
    desired_keys,
    desired_tree,
    part_count,
)
from docspace_destination.file_refresh import observe_files, refreshed_files
from docspace_destination.files import FILE, desired_files
from docspace_destination.key_census import KeyCensus
from docspace_destination.ledger import Ledger, LedgerEntry
from docspace_destination.observe import observe
from docspace_destination.plan import Action, Plan, Planner, refreshed, wants_existing_rooms
from docspace_destination.templates import TemplateRule
from pm_runtime.source_spec import SourceSpec
from pm_runtime.staging import open_staging


@dataclass(frozen=True)
class PlanOptions:
    """What the plan reads of the settings (`Sync` makes it from `DocSpaceSettings`)."""

    mapping: MappingOptions
    room_templates: list[TemplateRule]
    archived_projects: str  # "skip" | "mirror"
    adopt_existing: bool  # a room without a marker is adopted by its exact title
    copies_documents: bool  # attachments = "copy" (and the source has attachments)
    attachment_max_mb: int


class PlanMaker:
    """Makes one sync's plan: its desired tree read in parts (`desired.part_count`), each part
    planned with the ledger rows of its own keys."""

    def __init__(
        self,
        spec: SourceSpec,
        options: PlanOptions,
        client: DocSpaceClient,
        listed: int | None = None,
    ) -> None:
        self.spec = spec
        self.source = spec.name
        self.options = options
        self.client = client
        self.listed = listed

    @property
    def copies_documents(self) -> bool:
        return self.options.copies_documents

    def desired_part(
        self, con: duckdb.DuckDBPyConnection, part: int, parts: int
    ) -> list[DesiredNode]:
        """One part of the desired tree (every room with the first), documents included when
        they are copied; parents before children."""
        mapping = self.options.mapping
        desired = desired_tree(con, self.spec, mapping, part, parts, rooms=part == 0)
        if self.copies_documents:
            files = desired_files(con, self.spec, desired, self.options.attachment_max_mb)
            desired = sorted(desired + files, key=lambda n: (n.depth, n.key))
        return desired

    def desired_keys(self, con: duckdb.DuckDBPyConnection, part: int, parts: int) -> Iterator[str]:
        """The keys of `desired_part(...)` (its nodes are built only when documents need them)."""
        if self.copies_documents:
            return (n.key for n in self.desired_part(con, part, parts))
        return desired_keys(con, self.spec, self.options.mapping, part, parts)

    def make(self, ledger: Ledger, refresh: bool = False) -> tuple[Plan, Iterator[list[Action]]]:
        """The plan, made part by part (`desired.part_count`) as the returned iterator is read:
        each part's actions in apply order, then what waits for every part. The `Plan` counts
        them as they come (and keeps those it lists); it is complete once the iterator is spent.

        A part reads the ledger rows of its own keys; the rows no part wants (moved elsewhere,
        gone) are found first by a `KeyCensus` of the ledger's keys, through every part when
        there are several. `--refresh` compares the whole ledger with DocSpace: it reads it whole.
        """
        planned = self.planned_kinds()
        known: dict[str, LedgerEntry] | None = None
        with open_staging(read_only=True) as con:  # one snapshot of the ledger and the first part
            parts = part_count(con, self.spec)
            first = self.desired_part(con, 0, parts)
            if refresh:
                known = {k: e for k, e in ledger.load(self.source).items() if e.kind in planned}
            census = KeyCensus(known if known is not None else ledger.keys(self.source, planned))
            census.see(n.key for n in first)
            for part in range(1, parts):
                if census.all_seen:
                    break
                census.see(self.desired_keys(con, part, parts))
            if known is None:
                rows = ledger.rows_of(self.source, planned)
                unwanted = [] if census.all_seen else [e for e in rows if census.unseen(e.key)]
                first_rows = ledger.load_keys(self.source, [n.key for n in first])
        if known is not None:
            # like `terraform refresh`: the ledger takes in what DocSpace holds, then the plan corrects it
            fresh = refreshed(known, observe(self.client, known))
            # copied files: deleted by hand, they are copied again; moved by hand, left there
            fresh = refreshed_files(fresh, observe_files(self.client, fresh))
            ledger.write([e for k, e in fresh.items() if e is not known[k]])
            known = first_rows = fresh
            unwanted = [e for k, e in known.items() if census.unseen(k)]
        rules = self.options.room_templates
        templates = None
        if rules:
            templates = {
                int(t["id"]): str(t.get("title", "")) for t in self.client.room_templates()
            }
        # rooms already in DocSpace are adopted, not duplicated: one listing, only when a room
        # would be created (so a re-sync where every room is known reads nothing more)
        existing, archived_projects = None, self.options.archived_projects
        if wants_existing_rooms(first, first_rows, archived_projects):
            existing = ExistingRooms.from_listing(
                self.client.list_rooms(area="any"), by_title=self.options.adopt_existing
            )
        # every room row is a desired room's (all in the first part) or an unwanted one
        rooms = [first_rows.get(n.key) for n in first if n.kind == "room"] + unwanted
        claimed = {e.docspace_id for e in rooms if e and e.kind == "room" and e.docspace_id}
        planner = Planner(
            self.source,
            unwanted,
            claimed,
            rules,
            templates,
            existing,
            archived_projects,
            listed=self.listed,
        )
        parted = self._planned_parts(planner, [(first, first_rows)], parts, ledger, known)
        return planner.plan, parted

    def planned_kinds(self) -> tuple[str, ...]:
        """The kinds of ledger row this run plans: attachments off, the files copied before stay
        as they are, unplanned."""
        return ("room", "folder", FILE) if self.copies_documents else ("room", "folder")

    def _planned_parts(
        self,
        planner: Planner,
        first: list[tuple[list[DesiredNode], dict[str, LedgerEntry]]],
        parts: int,
        ledger: Ledger,
        known: dict[str, LedgerEntry] | None,
    ) -> Iterator[list[Action]]:
        """Each part planned with its ledger rows (`known`: the whole ledger, when read)."""
        desired, rows = first.pop()  # (popped: its nodes go once planned)
        for part in range(parts):
            if part:
                with open_staging(read_only=True) as con:
                    desired = self.desired_part(con, part, parts)
                    keys = [n.key for n in desired]
                    rows = known if known is not None else ledger.load_keys(self.source, keys)
            yield planner.plan_part(desired, rows)
            del desired, rows
        yield planner.finish()
