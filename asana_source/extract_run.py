"""One extraction run, streamed: what to fetch per project, in parallel, and what to mark deleted.

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

Rows stream out per table as the worker threads finish each project (a bounded window
of projects in flight), so memory holds a few projects, not the account. Only the
tables asked for are fetched (`source.with_resources("tasks")` lists no users, tags or
sections); a skipped table leaves its part of the state alone, so a later run that asks
for it still sees what changed meanwhile (sections changed while unselected are re-listed).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from asana_source import settings as s
from asana_source.attachments import TaskAttachments
from asana_source.client import AsanaClient, AsanaError
from asana_source.previous_load import AsanaPreviousLoad
from pm_runtime.errors import ConfigurationError
from pm_runtime.previous_load import tombstone, utc_now

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
    if isinstance(out.get("memberships"), list):  # a task in no section: no null `section`
        out["memberships"] = [
            {k: v for k, v in m.items() if v is not None} if isinstance(m, dict) else m
            for m in out["memberships"]
        ]
    return out


NULLABLE = {"completed_at", "due_on", "start_on", "deleted_at"}
WORKSPACE_TABLES = ("users", "teams", "tags", "custom_fields")
IN_FLIGHT_PER_WORKER = 2  # projects submitted ahead of the one being emitted, per worker
T = TypeVar("T")
R = TypeVar("R")


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


class ExtractRun:
    """One run of the source: `rows()` yields (table, rows) as the work finishes."""

    def __init__(
        self,
        client: AsanaClient,
        state: dict[str, Any],
        previous: AsanaPreviousLoad,
        tables: Iterable[str],
        workspaces: list[str] | None = None,
        projects: list[str] | None = None,
        include_subtasks: bool = True,
        include_stories: bool = False,
        max_workers: int = s.MAX_WORKERS,
        reconcile_every_hours: float = 24.0,
        attachments: bool = False,
    ) -> None:
        self.client = client
        self.state = state
        self.previous = previous
        self.tables = frozenset(tables)
        self.fetch_tasks = "tasks" in self.tables
        self.fetch_sections = "sections" in self.tables
        self.workspace_filter = set(workspaces or [])
        self.project_filter = set(projects or [])
        self.include_subtasks = include_subtasks
        self.include_stories = include_stories
        self.pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="asana")
        self.window = max_workers * IN_FLIGHT_PER_WORKER
        self.reconcile_every = dt.timedelta(hours=reconcile_every_hours)
        self.now = utc_now()
        self.attachments = (
            TaskAttachments(client, previous, self.now)
            if attachments and "attachments" in self.tables and self.fetch_tasks
            else None
        )

    # -- the run (dlt's thread: state, previous load and yields happen here) ----------------

    def rows(self) -> Iterator[tuple[str, list[Row]]]:
        try:
            yield from self._rows()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
            if self.attachments is not None:
                self.attachments.close()
            self.previous.close()
            self.client.close()

    def _rows(self) -> Iterator[tuple[str, list[Row]]]:
        c = self.client
        workspaces = c.list(
            c.workspaces_api.get_workspaces, opts={"opt_fields": s.opt_fields(s.WORKSPACE_FIELDS)}
        )
        if self.workspace_filter:
            known = {w["gid"] for w in workspaces} | {w.get("name") for w in workspaces}
            unknown = sorted(self.workspace_filter - known)
            if unknown:
                names = ", ".join(sorted(str(w.get("name")) for w in workspaces))
                raise ConfigurationError(
                    f"sources.asana.workspaces: no workspace {unknown[0]!r} for this token "
                    f"(it sees: {names or 'none'})"
                )
            workspaces = [
                w for w in workspaces if {w["gid"], w.get("name")} & self.workspace_filter
            ]
        yield from self._emit("workspaces", workspaces)
        projects: list[Row] = []
        for ws, listings in self._parallel(self._workspace_listings, workspaces):
            for table in WORKSPACE_TABLES:
                rows = listings.get(table, [])
                if table != "users":
                    rows = [{**r, "workspace_gid": ws["gid"]} for r in rows]
                yield from self._emit(table, rows)
            ws_projects = listings["projects"]
            if "projects" in self.tables:
                vanished = self.previous.project_gids(ws["gid"]) - {p["gid"] for p in ws_projects}
                yield from self._emit("projects", self._tombstones("projects", vanished))
                for gid in vanished:
                    self.state.get("projects", {}).pop(gid, None)
            projects += [p for p in ws_projects if self._selected(p)]
        self._check_project_filter(projects)

        pstate = self.state.setdefault("projects", {})
        if self.attachments is not None:
            self.attachments.start(self.state, pstate)
        elif self.fetch_tasks:
            TaskAttachments.forget(self.state)
        emitted: set[str] = set()  # a task in two projects is listed twice: emit it once
        deleted: set[str] = set()
        alive: list[str] = []
        for project, result in self._parallel(
            lambda p: self._project(p, dict(pstate.get(p["gid"], {}))), projects
        ):
            previous = pstate.get(project["gid"], {})
            if "projects" in self.tables and (
                project["modified_at"] != previous.get("modified_at") or result.full
            ):
                yield from self._emit(
                    "projects", [clean({**project, "is_deleted": False, "deleted_at": None})]
                )
            if not result.skipped:
                # without the projects table this run, the next one must still see the change
                seen = project if "projects" in self.tables else previous
                pstate[project["gid"]] = {**result.state, "modified_at": seen.get("modified_at")}
            yield from self._emit(
                "sections",
                result.sections + self._tombstones("sections", result.deleted_sections),
            )
            # a task deleted in Asana takes its subtasks with it
            gone = result.deleted_tasks | self.previous.descendants(result.deleted_tasks)
            gone -= deleted
            deleted |= gone
            rows = []
            for t in result.tasks:
                if t["gid"] not in emitted and t["gid"] not in deleted:
                    emitted.add(t["gid"])
                    rows.append(clean({**t, "is_deleted": False, "deleted_at": None}))
            alive += [r["gid"] for r in rows]
            yield from self._emit("tasks", rows + self._tombstones("tasks", gone))
            if self.attachments is not None:
                yield from self._emit("attachments", self.attachments.rows(rows, gone))
        if self.attachments is not None:
            self.attachments.finish(self.state)
        if "stories" in self.tables and self.include_stories:
            for gid, stories in self._parallel(self._stories, alive):
                yield from self._emit("stories", [{**st, "task_gid": gid} for st in stories])

    def _emit(self, table: str, rows: list[Row]) -> Iterator[tuple[str, list[Row]]]:
        if rows and table in self.tables:
            yield table, rows

    def _parallel(self, work: Callable[[T], R], items: list[T]) -> Iterator[tuple[T, R]]:
        """(item, work(item)) in the order they finish, at most `window` submitted ahead."""
        pending: dict[Future[R], T] = {}
        todo = iter(items)
        while True:
            for item in todo:
                pending[self.pool.submit(work, item)] = item
                if len(pending) >= self.window:
                    break
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()

    def _selected(self, project: Row) -> bool:
        return not self.project_filter or bool(
            {project["gid"], project.get("name")} & self.project_filter
        )

    def _check_project_filter(self, projects: list[Row]) -> None:
        found = {p["gid"] for p in projects} | {p.get("name") for p in projects}
        unknown = sorted(self.project_filter - found)
        if unknown:
            raise ConfigurationError(
                f"sources.asana.projects: no project {unknown[0]!r} in the workspaces read "
                "(by name or gid; archived projects count too)"
            )

    def _workspace_listings(self, ws: Row) -> dict[str, list[Row]]:
        """The workspace's listings of the tables asked for, and always its projects."""
        c, gid = self.client, ws["gid"]
        calls = {
            "users": (c.users_api.get_users_for_workspace, s.USER_FIELDS),
            "teams": (c.teams_api.get_teams_for_workspace, s.TEAM_FIELDS),
            "tags": (c.tags_api.get_tags_for_workspace, s.TAG_FIELDS),
            "custom_fields": (
                c.custom_fields_api.get_custom_fields_for_workspace,
                s.CUSTOM_FIELD_FIELDS,
            ),
            "projects": (c.projects_api.get_projects_for_workspace, s.PROJECT_FIELDS),
        }
        return {
            table: c.list(method, gid, opts={"opt_fields": s.opt_fields(fields)})
            for table, (method, fields) in calls.items()
            if table in self.tables or table == "projects"
        }

    # -- one project (runs in a worker thread: HTTP only, no dlt calls) ------------------------

    def _project(self, project: Row, state: dict[str, Any]) -> ProjectResult:
        gid = project["gid"]
        result = ProjectResult(gid, state)
        if not self.fetch_tasks:
            # the event feed also carries task changes: reading it here would lose them
            if self.fetch_sections:
                self._list_sections(gid, result)
            return result
        try:
            events, sync, valid = self.client.events(gid, state.get("sync"))
            state["sync"] = sync
            reconciled = state.get("reconciled_at")
            due = reconciled is None or self.now - _ts(reconciled) >= self.reconcile_every
            if not valid or due or "cursor" not in state:
                self._full(project, result)
            elif events:
                self._incremental(project, events, result)
            if state.get("sections_stale") and self.fetch_sections:
                self._list_sections(gid, result)
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
        started = utc_now()
        self._list_sections(gid, result)
        listed = c.list(
            c.tasks_api.get_tasks, opts={"project": gid, "opt_fields": s.opt_fields(s.TASK_FIELDS)}
        )
        result.tasks += listed
        result.tasks += self._subtasks(listed, result)
        missing = self.previous.task_gids_in_project(gid) - {t["gid"] for t in listed}
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
            self._list_sections(gid, result)
        deleted = {e["resource"]["gid"] for e in task_events if e["action"] == "deleted"}
        undeleted = {e["resource"]["gid"] for e in task_events if e["action"] == "undeleted"}
        # the last word on a task wins: deleted then undeleted means alive
        for e in task_events:
            if e["action"] == "deleted":
                undeleted.discard(e["resource"]["gid"])
            elif e["action"] == "undeleted":
                deleted.discard(e["resource"]["gid"])
        if any(e["action"] in ("changed", "added", "undeleted") for e in task_events):
            started = utc_now()
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
        cursor = newest - (utc_now() - started) - dt.timedelta(seconds=1)
        if old and _ts(old) > cursor:
            return old
        return cursor.isoformat()

    def _list_sections(self, project: str, result: ProjectResult) -> None:
        """The project's sections and the staged ones gone; or, when sections are not asked
        for this run, a note in the state that they must be listed when they next are."""
        if not self.fetch_sections:
            result.state["sections_stale"] = True
            return
        c = self.client
        rows = c.list(
            c.sections_api.get_sections_for_project,
            project,
            opts={"opt_fields": s.opt_fields(s.SECTION_FIELDS)},
        )
        result.sections = [{**r, "is_deleted": False, "deleted_at": None} for r in rows]
        result.deleted_sections = self.previous.section_gids(project) - {r["gid"] for r in rows}
        result.state.pop("sections_stale", None)

    def _subtasks(self, parents: list[Row], result: ProjectResult) -> list[Row]:
        """Subtasks at any depth below `parents`; staged ones no longer listed are re-checked."""
        if not self.include_subtasks:
            return []
        c, out, level_parents = self.client, [], parents
        while level_parents:
            staged = self.previous.subtask_gids({p["gid"] for p in level_parents})
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
        stamp = self.now.isoformat()
        return [tombstone(r, stamp) for r in self.previous.rows(table, gids)]
