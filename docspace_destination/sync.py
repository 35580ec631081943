"""One reverse-ETL run for a source: finish what a crashed run left, plan, apply, log.

Shared by every source; what differs is the source's `SourceSpec` (its mapping SQL and
link writer). `Sync("asana")` finds the spec of the package `asana_source` by name.
The staging database is opened only for short transactions (the plan's reads, ledger
writes, the run log), never across DocSpace calls, so other processes can read it while a
sync runs.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

import dlt
import duckdb

from docspace_destination.adoption import ExistingRooms, is_archived
from docspace_destination.apply import Applier, ApplyReport
from docspace_destination.client import DocSpaceClient, DocSpaceError
from docspace_destination.desired import DesiredNode, desired_keys, desired_tree, part_count
from docspace_destination.destination import actions_resource, docspace_destination
from docspace_destination.file_refresh import in_trash, observe_files, refreshed_files
from docspace_destination.files import FILE, desired_files
from docspace_destination.inflight import resolve_intents
from docspace_destination.key_census import KeyCensus
from docspace_destination.ledger import Ledger, LedgerEntry
from docspace_destination.operations import OUTCOMES
from docspace_destination.opt_in_steps import StepReport
from docspace_destination.plan import (
    BLOCKED,
    NOOP,
    Action,
    Observed,
    Plan,
    Planner,
    refreshed,
    wants_existing_rooms,
)
from docspace_destination.settings import (
    DocSpaceSettings,
    copies_attachments,
    load_opt_in_settings,
    load_settings,
)
from pm_runtime.dlt_state import pipelines_dir
from pm_runtime.source_spec import SourceSpec, spec_for
from pm_runtime.staging import open_staging
from pm_runtime.sync_lock import sync_lock


@dataclass
class SyncResult:
    source: str
    plan: Plan
    report: ApplyReport | None
    seconds: float
    reads: int
    writes: int
    resumed: bool = False
    writeback: StepReport | None = None
    members: StepReport | None = None

    @property
    def failed(self) -> int:
        steps = sum(s.failed for s in (self.writeback, self.members) if s is not None)
        return (self.report.counts["failed"] if self.report else 0) + steps


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


class Sync:
    """Reverse-ETL for one source against one DocSpace portal."""

    def __init__(
        self,
        source: str | SourceSpec,
        settings: DocSpaceSettings | None = None,
        *,
        concurrency: int | None = None,
        max_writes: int | None = None,
        on_progress: Callable[[Action, str], None] | None = None,
        on_plan: Callable[[Plan], None] | None = None,
        listed: int | None = None,
    ) -> None:
        """`on_plan` sees the plan once it is made, before the apply. `listed`: the plan keeps
        the first `listed` actions of each kind of change (what a summary lists), not every one
        (None: every one): a plan of 200,000 folders is counted, not held (issue 21)."""
        self.spec = spec_for(source)
        self.source = self.spec.name
        self.settings = settings or load_settings(
            self.source, concurrency=concurrency, max_writes=max_writes
        )
        self.on_progress = on_progress
        self.on_plan = on_plan
        self.listed = listed
        self.client = DocSpaceClient(self.settings.base_url, self.settings.api_key)

    @property
    def copies_documents(self) -> bool:
        return copies_attachments(self.settings, self.spec)

    def _applier(self, ledger: Ledger, spent: int = 0) -> Applier:
        applier = Applier(
            self.client,
            ledger,
            self.source,
            self.settings.apply,
            on_progress=self.on_progress,
            spent=spent,  # one budget per run: --max-writes counts the resumed writes too
        )
        if self.copies_documents:
            from docspace_destination.file_steps import Documents

            applier.documents = Documents(self.client, self.spec)
        return applier

    @property
    def pipeline_name(self) -> str:
        return f"{self.source}_docspace"

    def _pipeline(self, applier: Applier | None) -> dlt.Pipeline:
        pipeline = dlt.pipeline(
            pipeline_name=self.pipeline_name,
            destination=docspace_destination(applier)(
                portal_url=self.client.portal, source_dataset=self.spec.dataset
            ),
            dataset_name=f"{self.source}_docspace",
            pipelines_dir=pipelines_dir(),  # with the staging it works from, not in ~/.dlt
        )
        # DocSpace cannot hold dlt's state; sending it would only add a no-op job, and dlt's loader
        # waits a full second on such a job (our ledger is the state that matters)
        pipeline.config.restore_from_destination = False
        return pipeline

    def _desired_part(
        self, con: duckdb.DuckDBPyConnection, part: int, parts: int
    ) -> list[DesiredNode]:
        """One part of the desired tree (every room with the first), documents included when
        they are copied; parents before children."""
        mapping = self.settings.mapping
        desired = desired_tree(con, self.spec, mapping, part, parts, rooms=part == 0)
        if self.copies_documents:
            files = desired_files(con, self.spec, desired, self.settings.attachment_max_mb)
            desired = sorted(desired + files, key=lambda n: (n.depth, n.key))
        return desired

    def _desired_keys(self, con: duckdb.DuckDBPyConnection, part: int, parts: int) -> Iterator[str]:
        """The keys of `_desired_part(...)` (its nodes are built only when documents need them)."""
        if self.copies_documents:
            return (n.key for n in self._desired_part(con, part, parts))
        return desired_keys(con, self.spec, self.settings.mapping, part, parts)

    def make_plan(
        self, ledger: Ledger, refresh: bool = False
    ) -> tuple[Plan, Iterator[list[Action]]]:
        """The plan, made part by part (`desired.part_count`) as the returned iterator is read:
        each part's actions in apply order, then what waits for every part. The `Plan` counts
        them as they come (and keeps those it lists); it is complete once the iterator is spent.

        A part reads the ledger rows of its own keys; the rows no part wants (moved elsewhere,
        gone) are found first by a `KeyCensus` of the ledger's keys, through every part when
        there are several. `--refresh` compares the whole ledger with DocSpace: it reads it whole.
        """
        planned = self._planned_kinds()
        known: dict[str, LedgerEntry] | None = None
        with open_staging(read_only=True) as con:  # one snapshot of the ledger and the first part
            parts = part_count(con, self.spec)
            first = self._desired_part(con, 0, parts)
            if refresh:
                known = {k: e for k, e in ledger.load(self.source).items() if e.kind in planned}
            census = KeyCensus(known if known is not None else ledger.keys(self.source, planned))
            census.see(n.key for n in first)
            for part in range(1, parts):
                if census.all_seen:
                    break
                census.see(self._desired_keys(con, part, parts))
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
        rules = self.settings.room_templates
        templates = None
        if rules:
            templates = {
                int(t["id"]): str(t.get("title", "")) for t in self.client.room_templates()
            }
        # rooms already in DocSpace are adopted, not duplicated: one listing, only when a room
        # would be created (so a re-sync where every room is known reads nothing more)
        existing, archived_projects = None, self.settings.archived_projects
        if wants_existing_rooms(first, first_rows, archived_projects):
            existing = ExistingRooms.from_listing(
                self.client.list_rooms(area="any"), by_title=self.settings.apply.adopt_existing
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

    def _planned_kinds(self) -> tuple[str, ...]:
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
                    desired = self._desired_part(con, part, parts)
                    keys = [n.key for n in desired]
                    rows = known if known is not None else ledger.load_keys(self.source, keys)
            yield planner.plan_part(desired, rows)
            del desired, rows
        yield planner.finish()

    def run(self, *, plan_only: bool = False, refresh: bool = False) -> SyncResult:
        """Plan, and unless `plan_only` apply; two runs of one pipeline never overlap (the
        second waits for the first, then stops naming it: `pm_runtime.sync_lock`, which the
        command line already holds from before the extract)."""
        if plan_only:
            return self._run(plan_only=True, refresh=refresh)
        with sync_lock(self.source):
            return self._run(plan_only=False, refresh=refresh)

    def _run(self, *, plan_only: bool, refresh: bool) -> SyncResult:
        started, t0 = datetime.now(UTC), time.perf_counter()
        # opt-in steps after the apply; bad settings stop the run before any write
        extras = load_opt_in_settings(self.source, self.settings.apply.room_type)
        try:
            ledger = Ledger()
            resumed, spent = False, 0
            if not plan_only:
                resumed, spent = self._finish_pending(ledger)
                # moves/archives a crashed run left on their way: the plan starts from where things are
                resolve_intents(self.client, ledger, self.source)
            the_plan, parts = self.make_plan(ledger, refresh)
            todo = chain.from_iterable(parts)
            report = None
            if plan_only:
                deque(todo, maxlen=0)  # every part planned and counted, nothing kept beyond that
            else:
                report = self._apply(todo, the_plan, ledger, spent)
            steps: dict[str, StepReport] = {}
            if not plan_only and extras.write_back:
                from docspace_destination.writeback import WriteBack

                steps["writeback"] = WriteBack(self.client, self.spec, extras).run()
            # no DocSpace writes left (--max-writes, or the daily limit): members wait for the next run
            limited = report is not None and report.budget_exhausted
            if not plan_only and extras.members_enabled and not limited:
                from docspace_destination.members import MemberSync

                left = self.settings.apply.max_writes - self.client.stats.writes
                steps["members"] = MemberSync(self.client, self.spec, extras, left).run()
            result = SyncResult(
                self.source,
                the_plan,
                report,
                time.perf_counter() - t0,
                self.client.stats.reads,
                self.client.stats.writes,
                resumed,
                **steps,
            )
            if not plan_only:
                ledger.log_run(self._run_row(result, started))
            return result
        finally:
            self.client.close()

    def _apply(
        self, todo: Iterator[Action], the_plan: Plan, ledger: Ledger, spent: int
    ) -> ApplyReport:
        """Hands the actions to dlt as the plan makes them (its extract writes them to a load
        package part by part), then applies that package; a plan with nothing to apply starts
        no pipeline."""
        head = next(todo, None)
        if head is None:
            report = ApplyReport()
            if self.on_plan:
                self.on_plan(the_plan)
        else:
            # planned and written to the package before the ledger is read again for the apply
            self._pipeline(None).extract(actions_resource(chain([head], todo)))
            del head, todo
            if self.on_plan:
                self.on_plan(the_plan)
            applier = self._applier(ledger, spent)
            try:
                pipeline = self._pipeline(applier)
                pipeline.normalize()
                pipeline.load()
            finally:
                if applier.documents is not None:
                    applier.documents.close()
            report = applier.report
        # a record that cannot be planned (unknown template...) fails; what waits for it is counted
        failing = the_plan.failures
        for a in failing:
            report.fail(a, a.reason)
        report.add("blocked", the_plan.counts()[BLOCKED] - len(failing))
        report.add("unchanged", the_plan.counts()[NOOP])
        return report

    def _finish_pending(self, ledger: Ledger) -> tuple[bool, int]:
        """A load package left by a crashed run is applied before a fresh plan is made.
        Returns whether there was one, and the DocSpace writes it took."""
        if not self._pipeline(None).has_pending_data:  # dlt's local files: no database needed
            return False, 0
        applier = self._applier(ledger)
        try:
            pipeline = self._pipeline(applier)
            pipeline.normalize()  # a plan the crashed run had extracted but not yet normalized
            pipeline.load()
        finally:
            if applier.documents is not None:
                applier.documents.close()
        return True, applier.writes_made

    def _run_row(self, result: SyncResult, started: datetime) -> dict[str, Any]:
        counts = result.report.counts if result.report else {}
        return {
            "run_id": uuid.uuid4().hex,
            "source": self.source,
            "started_at": started,
            "finished_at": datetime.now(UTC),
            "seconds": result.seconds,
            **{k: int(counts.get(k, 0)) for k in OUTCOMES},
            "steps": json.dumps(
                {
                    name: dict(step.counts)
                    for name, step in (("writeback", result.writeback), ("members", result.members))
                    if step is not None
                }
            ),
            "reads": result.reads,
            "writes": result.writes,
            "outcome": "failed"
            if result.failed
            else ("partial" if counts.get("deferred") else "ok"),
        }
