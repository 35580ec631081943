"""One reverse-ETL run for a source: finish what a crashed run left, plan (in parts:
`planning.PlanMaker`), apply, log.

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

from docspace_destination.apply import Applier
from docspace_destination.apply_report import ApplyReport
from docspace_destination.client import DocSpaceClient
from docspace_destination.destination import actions_resource, docspace_destination
from docspace_destination.inflight import resolve_intents
from docspace_destination.ledger import Ledger
from docspace_destination.operations import OUTCOMES
from docspace_destination.opt_in_steps import StepReport
from docspace_destination.plan import BLOCKED, NOOP, Action, Plan
from docspace_destination.planning import PlanMaker, PlanOptions
from docspace_destination.settings import (
    DocSpaceSettings,
    copies_attachments,
    load_opt_in_settings,
    load_settings,
)
from pm_runtime.dlt_state import holds_no_package, pipelines_dir
from pm_runtime.source_spec import SourceSpec, spec_for
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

    def make_plan(
        self, ledger: Ledger, refresh: bool = False
    ) -> tuple[Plan, Iterator[list[Action]]]:
        """The plan, made part by part as the returned iterator is read (`planning.PlanMaker`)."""
        options = PlanOptions(
            mapping=self.settings.mapping,
            room_templates=self.settings.room_templates,
            archived_projects=self.settings.archived_projects,
            adopt_existing=self.settings.apply.adopt_existing,
            copies_documents=self.copies_documents,
            attachment_max_mb=self.settings.attachment_max_mb,
        )
        return PlanMaker(self.spec, options, self.client, self.listed).make(ledger, refresh)

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
        if holds_no_package(self.pipeline_name):  # dlt's folders, read without building a pipeline
            return False, 0
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
