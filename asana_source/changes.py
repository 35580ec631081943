"""Cheap change detection for `--watch`: has anything in Asana moved since the last look?

Per cycle: one `GET /events?resource=<project>` per project — the change feed the
source already reads (`asana_source.extract_run`), answered with an empty page when nothing
happened — plus one project listing per workspace, because a new or vanished project
has no event stream to watch. Workspaces are re-listed hourly.

The detector keeps its own sync tokens, in memory: the source's tokens (in dlt's state)
must advance only when the source extracts, and a restarted watcher starts with a
catch-up extract anyway, so nothing needs to persist. Tokens advance only on `commit`,
after the changes were extracted and applied; a failed cycle presents the same tokens
again. (That Asana accepts a token twice is unverified; if it does not, it answers 412,
which lands on the safe path below.) A stale token (~24 h) answers 412 with a fresh one
(the Events API, Asana developer docs "Events"): that project is reported changed and the source, whose
own token is as stale, re-reads it in full.

Not visible here: edits to subtasks only (they are not project members and reach no
project's event stream); the periodic reconcile (`reconcile_every_hours`) catches them.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dlt
from dlt.common.configuration import with_config

from asana_source import settings
from asana_source.client import BAD_TOKEN, AsanaClient, AsanaError
from pm_runtime.changes import Changes
from pm_runtime.errors import find_user_error
from pm_runtime.transport import require_secure_url

log = logging.getLogger("asana_source.changes")

WORKSPACES_TTL_SECONDS = 3600.0
EVENTS_WORKERS = 8


class AsanaChangeDetector:
    def __init__(
        self,
        client: AsanaClient,
        workspaces: list[str] | None = None,
        projects: list[str] | None = None,
        workers: int = EVENTS_WORKERS,
    ) -> None:
        self.client = client
        self.workspace_filter = set(workspaces or [])
        self.project_filter = set(projects or [])
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="asana-watch")
        self._workspaces: list[str] | None = None
        self._workspaces_at = 0.0
        self._projects: dict[str, str] | None = None  # gid -> name, as of the last commit
        self._tokens: dict[str, str] = {}  # gid -> sync token, as of the last commit
        self._per_poll = 0

    # -- one poll ------------------------------------------------------------------------

    def poll(self) -> Changes:
        # the client is this detector's own: its counter's delta over the poll is exact
        started = self.client.requests
        if (
            self._workspaces is None
            or time.monotonic() - self._workspaces_at > WORKSPACES_TTL_SECONDS
        ):
            c = self.client
            rows = c.list(c.workspaces_api.get_workspaces, opts={"opt_fields": "name"})
            self._workspaces = [
                w["gid"]
                for w in rows
                if not self.workspace_filter or {w["gid"], w.get("name")} & self.workspace_filter
            ]
            self._workspaces_at = time.monotonic()
        projects: dict[str, str] = {}
        for ws in self._workspaces:
            c = self.client
            listed = c.list(
                c.projects_api.get_projects_for_workspace, ws, opts={"opt_fields": "name"}
            )
            projects.update(
                (p["gid"], p.get("name") or "")
                for p in listed
                if not self.project_filter or {p["gid"], p.get("name")} & self.project_filter
            )
        first = self._projects is None
        known = self._projects or {}
        what: list[str] = []
        new = sorted(set(projects) - set(known))
        gone = sorted(set(known) - set(projects))
        if not first:
            what += [f"new project {projects[g]!r}" for g in new]
            what += [f"project {known[g]!r} gone" for g in gone]

        results = list(self.pool.map(self._events, sorted(projects)))
        sent = self.client.requests - started
        tokens: dict[str, str] = {}
        changed: list[str] = []
        for gid, (sync, verdict) in zip(sorted(projects), results, strict=True):
            if sync is not None:
                tokens[gid] = sync
            if first or gid in new or verdict is None:
                continue
            changed.append(gid)
            what.append(f"project {projects[gid]!r}: {verdict}")
        self._per_poll = len(self._workspaces) + len(projects)  # an idle poll: listings + events

        def commit() -> None:
            self._projects = projects
            self._tokens = tokens

        if first:
            return Changes([], {}, sent, 0, commit)
        # a project came or went: the source's full run sees it (and tombstones what vanished)
        args: dict[str, Any] = {} if new or gone else {"projects": changed}
        cost = 1 + 5 * len(self._workspaces) + 3 * (len(changed) + len(new))
        return Changes(what, args, sent, cost, commit)

    def _events(self, gid: str) -> tuple[str | None, str | None]:
        """(next token, what changed or None) for one project (runs in a worker thread)."""
        token = self._tokens.get(gid)
        try:
            events, sync, valid = self.client.events(gid, token)
        except AsanaError as exc:
            if exc.status == 404:
                return None, "gone"
            if exc.status in (402, 403):  # not readable with this token: the source skips it too
                log.debug("Asana project %s is not readable (%s): not watched", gid, exc.status)
                return token, None
            raise
        if token is None:
            return sync, None
        if not valid:
            return sync, "sync token expired, re-read in full"
        if events:
            return sync, f"{len(events)} event(s)"
        return sync, None

    def requests_per_poll(self) -> int:
        return self._per_poll

    def is_credentials_error(self, exc: BaseException) -> bool:
        user = find_user_error(exc)
        return user is not None and str(user) == BAD_TOKEN

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        # the SDK's ApiClient owns a ThreadPool it only closes in __del__, which fails noisily
        # when that runs at interpreter exit
        pool = getattr(self.client.api, "pool", None)
        if pool is not None:
            pool.close()
            del self.client.api.pool


@with_config(sections=("sources", "asana", "asana"))
def asana_change_detector(
    access_token: str = dlt.secrets.value,
    base_url: str = settings.DEFAULT_BASE_URL,
    workspaces: list[str] | None = None,
    projects: list[str] | None = None,
) -> AsanaChangeDetector:
    """The detector for the configured token and filters (`sources.asana.*`, like the source)."""
    base_url = require_secure_url(base_url, "sources.asana.base_url")
    # few retries: a poll that fails is simply repeated next cycle (the loop backs off)
    client = AsanaClient(access_token, base_url, max_retries=2, max_retry_after=10.0, pool_size=12)
    return AsanaChangeDetector(client, workspaces=workspaces, projects=projects)
