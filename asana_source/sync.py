"""One extraction run: what to fetch per project, in parallel, and what to mark deleted.

Per project the Events API is the change feed (one request when nothing changed):
- no token yet, or a stale one (412), or the periodic reconcile is due: full listing of
  sections, tasks and subtasks; staged tasks missing from it are checked one by one
  (404 → deleted, else re-emitted with their current memberships);
- otherwise, only when events arrived: `GET /tasks?project=&modified_since=<cursor>`,
  `removed` tasks re-fetched (so their membership rows are replaced), `deleted` tasks
  (and their staged subtasks) marked deleted, sections re-listed when a section changed.

Subtasks are not project members: their changes reach neither the parent's `modified_at`
nor the project's event stream. They are re-read with every re-emitted parent (any depth)
and in full on every reconcile (`reconcile_every_hours`); that is the trade-off for not
spending one request per parent task on every run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from asana_source import settings as s
from asana_source.client import AsanaClient, AsanaError
from asana_source.known import Staged

log = logging.getLogger("asana_source")
Row = dict[str, Any]


def clean(row: Row) -> Row:
    """Drop nulls inside custom field values and empty references: a null-only column
    cannot be typed, and dlt warns about each one."""
    out = {k: v for k, v in row.items() if v is not None or k in NULLABLE}
    if isinstance(out.get("custom_fields"), list):
        out["custom_fields"] = [
            {k: v for k, v in cf.items() if v is not None} for cf in out["custom_fields"]
        ]
    return out


NULLABLE = {"completed_at", "due_on", "start_on", "deleted_at"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _ts(raw: str) -> dt.datetime:
    return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))


@dataclass
class ProjectResult:
    gid: str
    state: dict[str, Any]
    sections: list[Row] = field(default_factory=list)
    tasks: list[Row] = field(default_factory=list)
    deleted_tasks: set[str] = field(default_factory=set)
    deleted_sections: set[str] = field(default_factory=set)
    full: bool = False
    skipped: bool = False


@dataclass
class Batch:
    """Rows per table for this run."""

    tables: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, table: str, rows: Iterable[Row]) -> None:
        self.tables.setdefault(table, []).extend(rows)


class AsanaSync:
    def __init__(
        self,
        client: AsanaClient,
        state: dict[str, Any],
        staged: Staged,
        workspaces: list[str] | None = None,
        projects: list[str] | None = None,
        include_subtasks: bool = True,
        include_stories: bool = False,
        max_workers: int = s.MAX_WORKERS,
        reconcile_every_hours: float = 24.0,
    ) -> None:
        self.client = client
        self.state = state
        self.staged = staged
        self.workspace_filter = set(workspaces or [])
        self.project_filter = set(projects or [])
        self.include_subtasks = include_subtasks
        self.include_stories = include_stories
        self.pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="asana")
        self.reconcile_every = dt.timedelta(hours=reconcile_every_hours)
        self.now = utcnow()

    # -- the run -----------------------------------------------------------------------

    def run(self) -> Batch:
        try:
            return self._run()
        finally:
            self.pool.shutdown(wait=True)
            self.staged.close()

    def _run(self) -> Batch:
        batch = Batch()
        c = self.client
        workspaces = c.list(
            c.workspaces_api.get_workspaces, opts={"opt_fields": s.opt_fields(s.WORKSPACE_FIELDS)}
        )
        if self.workspace_filter:
            workspaces = [
                w for w in workspaces if {w["gid"], w.get("name")} & self.workspace_filter
            ]
        batch.add("workspaces", workspaces)
        listings = list(self.pool.map(self._workspace_listings, workspaces))
        projects: list[Row] = []
        for ws, (users, teams, tags, fields, ws_projects) in zip(workspaces, listings, strict=True):
            batch.add("users", users)
            batch.add("teams", ({**t, "workspace_gid": ws["gid"]} for t in teams))
            batch.add("tags", ({**t, "workspace_gid": ws["gid"]} for t in tags))
            batch.add("custom_fields", ({**f, "workspace_gid": ws["gid"]} for f in fields))
            vanished = self.staged.project_gids(ws["gid"]) - {p["gid"] for p in ws_projects}
            batch.add("projects", self._tombstones("projects", vanished))
            for gid in vanished:
                self.state.get("projects", {}).pop(gid, None)
            projects += [p for p in ws_projects if self._selected(p)]
        self._warn_unmatched_filter(projects)

        pstate = self.state.setdefault("projects", {})
        results = list(
            self.pool.map(lambda p: self._project(p, dict(pstate.get(p["gid"], {}))), projects)
        )
        changed_projects = []
        for project, result in zip(projects, results, strict=True):
            if (
                project["modified_at"] != pstate.get(project["gid"], {}).get("modified_at")
                or result.full
            ):
                changed_projects.append(clean({**project, "is_deleted": False, "deleted_at": None}))
            if result.skipped:
                continue
            pstate[project["gid"]] = {**result.state, "modified_at": project["modified_at"]}
        batch.add("projects", changed_projects)

        tasks: dict[str, Row] = {}
        deleted: set[str] = set()
        for result in results:
            batch.add("sections", result.sections)
            batch.add("sections", self._tombstones("sections", result.deleted_sections))
            for t in result.tasks:
                tasks[t["gid"]] = t
            deleted |= result.deleted_tasks
        # a task deleted in Asana takes its subtasks with it
        deleted |= self.staged.descendants(deleted)
        for gid in deleted:
            tasks.pop(gid, None)
        batch.add(
            "tasks", (clean({**t, "is_deleted": False, "deleted_at": None}) for t in tasks.values())
        )
        batch.add("tasks", self._tombstones("tasks", deleted))
        if self.include_stories and tasks:
            for gid, stories in zip(tasks, self.pool.map(self._stories, list(tasks)), strict=True):
                batch.add("stories", ({**st, "task_gid": gid} for st in stories))
        return batch

    def _selected(self, project: Row) -> bool:
        return not self.project_filter or bool(
            {project["gid"], project.get("name")} & self.project_filter
        )

    def _warn_unmatched_filter(self, projects: list[Row]) -> None:
        found = {p["gid"] for p in projects} | {p.get("name") for p in projects}
        for wanted in sorted(self.project_filter - found):
            log.warning(
                "Asana project %r from the `projects` filter was not found: skipped", wanted
            )

    def _workspace_listings(self, ws: Row) -> tuple[list[Row], ...]:
        c, gid = self.client, ws["gid"]
        return (
            c.list(
                c.users_api.get_users_for_workspace,
                gid,
                opts={"opt_fields": s.opt_fields(s.USER_FIELDS)},
            ),
            c.list(
                c.teams_api.get_teams_for_workspace,
                gid,
                opts={"opt_fields": s.opt_fields(s.TEAM_FIELDS)},
            ),
            c.list(
                c.tags_api.get_tags_for_workspace,
                gid,
                opts={"opt_fields": s.opt_fields(s.TAG_FIELDS)},
            ),
            c.list(
                c.custom_fields_api.get_custom_fields_for_workspace,
                gid,
                opts={"opt_fields": s.opt_fields(s.CUSTOM_FIELD_FIELDS)},
            ),
            c.list(
                c.projects_api.get_projects_for_workspace,
                gid,
                opts={"opt_fields": s.opt_fields(s.PROJECT_FIELDS)},
            ),
        )

    # -- one project (runs in a worker thread: HTTP only, no dlt calls) ------------------------

    def _project(self, project: Row, state: dict[str, Any]) -> ProjectResult:
        gid = project["gid"]
        result = ProjectResult(gid, state)
        try:
            events, sync, valid = self.client.events(gid, state.get("sync"))
            state["sync"] = sync
            reconciled = state.get("reconciled_at")
            due = reconciled is None or self.now - _ts(reconciled) >= self.reconcile_every
            if not valid or due or "cursor" not in state:
                self._full(project, result)
            elif events:
                self._incremental(project, events, result)
        except AsanaError as exc:
            if exc.status not in (403, 404):
                raise
            log.warning(
                "Asana project %r (%s) is not readable with this token (%s): skipped",
                project.get("name"),
                gid,
                exc.status,
            )
            result.skipped = True
        return result

    def _full(self, project: Row, result: ProjectResult) -> None:
        c, gid = self.client, project["gid"]
        result.full = True
        started = utcnow()
        result.sections = self._sections(gid)
        result.deleted_sections = self.staged.section_gids(gid) - {
            x["gid"] for x in result.sections
        }
        listed = c.list(
            c.tasks_api.get_tasks, opts={"project": gid, "opt_fields": s.opt_fields(s.TASK_FIELDS)}
        )
        result.tasks += listed
        result.tasks += self._subtasks(listed, result)
        missing = self.staged.task_gids_in_project(gid) - {t["gid"] for t in listed}
        self._recheck(missing, result)
        result.state["cursor"] = self._cursor(listed, started, result.state.get("cursor"))
        result.state["reconciled_at"] = self.now.isoformat()

    def _incremental(self, project: Row, events: list[Row], result: ProjectResult) -> None:
        c, gid = self.client, project["gid"]
        by_kind: dict[str, list[Row]] = {}
        for e in events:
            by_kind.setdefault(
                (e.get("resource") or {}).get("resource_type") or e.get("type", ""), []
            ).append(e)
        task_events = by_kind.get("task", [])
        if by_kind.get("section"):
            result.sections = self._sections(gid)
            result.deleted_sections = self.staged.section_gids(gid) - {
                x["gid"] for x in result.sections
            }
        deleted = {e["resource"]["gid"] for e in task_events if e["action"] == "deleted"}
        undeleted = {e["resource"]["gid"] for e in task_events if e["action"] == "undeleted"}
        # the last word on a task wins: deleted then undeleted means alive
        for e in task_events:
            if e["action"] == "deleted":
                undeleted.discard(e["resource"]["gid"])
            elif e["action"] == "undeleted":
                deleted.discard(e["resource"]["gid"])
        if any(e["action"] in ("changed", "added", "undeleted") for e in task_events):
            started = utcnow()
            opts = {
                "project": gid,
                "modified_since": result.state["cursor"],
                "opt_fields": s.opt_fields(s.TASK_FIELDS),
            }
            listed = c.list(c.tasks_api.get_tasks, opts=opts)
            result.tasks += listed
            result.tasks += self._subtasks(listed, result)
            result.state["cursor"] = self._cursor(listed, started, result.state["cursor"])
        seen = {t["gid"] for t in result.tasks}
        removed = (
            {e["resource"]["gid"] for e in task_events if e["action"] == "removed"} - seen - deleted
        )
        self._recheck(removed | (undeleted - seen), result)
        result.deleted_tasks |= deleted

    def _cursor(self, listed: list[Row], started: dt.datetime, old: str | None) -> str | None:
        """Newest `modified_at` seen, minus the listing's duration: a task changed while we
        paged past it has a timestamp after the listing started, so the next run still sees it."""
        if not listed:
            return old or (started - dt.timedelta(seconds=1)).isoformat()
        newest = max(_ts(t["modified_at"]) for t in listed if t.get("modified_at"))
        cursor = newest - (utcnow() - started) - dt.timedelta(seconds=1)
        if old and _ts(old) > cursor:
            return old
        return cursor.isoformat()

    def _sections(self, project: str) -> list[Row]:
        c = self.client
        rows = c.list(
            c.sections_api.get_sections_for_project,
            project,
            opts={"opt_fields": s.opt_fields(s.SECTION_FIELDS)},
        )
        return [{**r, "is_deleted": False, "deleted_at": None} for r in rows]

    def _subtasks(self, parents: list[Row], result: ProjectResult) -> list[Row]:
        """Subtasks at any depth below `parents`; staged ones no longer listed are re-checked."""
        if not self.include_subtasks:
            return []
        c, out, level_parents = self.client, [], parents
        while level_parents:
            staged = self.staged.subtask_gids({p["gid"] for p in level_parents})
            level: list[Row] = []
            for parent in level_parents:
                subs = []
                if parent.get("num_subtasks"):
                    opts = {"opt_fields": s.opt_fields(s.TASK_FIELDS)}
                    subs = c.list(c.tasks_api.get_subtasks_for_task, parent["gid"], opts=opts)
                level += subs
                self._recheck(staged.get(parent["gid"], set()) - {x["gid"] for x in subs}, result)
            out += level
            level_parents = level
        return out

    def _recheck(self, gids: set[str], result: ProjectResult) -> None:
        """Tasks that left a listing: gone (404) → deleted; otherwise re-emit as they are now."""
        c = self.client
        for gid in sorted(gids):
            try:
                task = c.get(
                    c.tasks_api.get_task, gid, opts={"opt_fields": s.opt_fields(s.TASK_FIELDS)}
                )
            except AsanaError as exc:
                if exc.status != 404:
                    raise
                result.deleted_tasks.add(gid)
                continue
            result.tasks.append(task)

    def _stories(self, task: str) -> list[Row]:
        c = self.client
        return c.list(
            c.stories_api.get_stories_for_task,
            task,
            opts={"opt_fields": s.opt_fields(s.STORY_FIELDS)},
        )

    # -- deletions ------------------------------------------------------------------------

    def _tombstones(self, table: str, gids: set[str]) -> list[Row]:
        rows = self.staged.rows(table, gids)
        stamp = self.now.isoformat()
        return [{**r, "is_deleted": True, "deleted_at": r.get("deleted_at") or stamp} for r in rows]
