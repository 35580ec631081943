"""Attachments of Asana tasks, staged as `asana_data.attachments` (metadata only).

Which tasks are asked: those whose `modified_at` differs from the staged copy (or that are
not staged yet). Asana moves a task's `modified_at` when an attachment is added or trashed
(API reference, Task.modified_at), so an unchanged task has unchanged attachments. The
first run with `attachments = true` re-lists every project in full (the sync state has no
`attachments` entry yet), so every task is asked once.

How: `GET /attachments?parent=<task>` (the route of the API reference and of the SDK's
`get_attachments_for_object`), ten at a time through the batch API (`POST /batch`, at most
10 actions). Asana counts a batch as one request per action against its rate and
concurrency limits, so batching saves round trips, not quota: a 10,000-task first run is
~1,000 HTTP requests worth 10,000 of the rate limit (~7 minutes of a paid plan's 1,500 a
minute). At most `BATCHES_IN_FLIGHT` batches run at once — 30 concurrent GETs, which with
the source's 12 task-listing workers stays under Asana's 50.

Never staged: `download_url` (a presigned URL, i.e. a short-lived credential) and
`permanent_url`/`view_url` of uploaded files; an external link keeps its `view_url`, the
link itself. An attachment that vanished from a re-listed task, or whose task was deleted,
keeps its row with `is_deleted = true`, like tasks.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import asana

from asana_source.client import AsanaClient, AsanaError, AsanaUnavailable
from asana_source.previous_load import LIVE, AsanaPreviousLoad
from pm_runtime.http_policy import Reply, RetryPolicy, send_with_retries
from pm_runtime.previous_load import tombstone

log = logging.getLogger("asana_source.attachments")
Row = dict[str, Any]

FIELDS = ["name", "resource_subtype", "host", "size", "created_at", "view_url", "parent.gid"]
COLUMNS: dict[str, Any] = {
    "is_deleted": {"data_type": "bool", "nullable": True},
    "deleted_at": {"data_type": "timestamp", "nullable": True},
    "created_at": {"data_type": "timestamp", "nullable": True},
    "parent_gid": {"data_type": "text"},
    "size": {"data_type": "bigint", "nullable": True},
    "view_url": {"data_type": "text", "nullable": True},
}
BATCH_SIZE = 10  # Asana's maximum actions per batch
BATCHES_IN_FLIGHT = 3
LOOKUP_CHUNK = 500
BATCH_ATTEMPTS = 6
# the project's policy, with this loop's numbers: 0.5 s doubling, a minute at most
BATCH_POLICY = RetryPolicy(attempts=BATCH_ATTEMPTS, backoff_base=0.5, backoff_cap=60.0)
STATE_KEY = "attachments_listed"


def staged_row(item: Row, task_gid: str) -> Row:
    """The row staged for one attachment: never a download URL."""
    host = item.get("host") or item.get("resource_subtype")
    return {
        "gid": item["gid"],
        "parent_gid": task_gid,
        "name": item.get("name"),
        "host": host,
        "resource_subtype": item.get("resource_subtype"),
        "size": item.get("size"),
        "created_at": item.get("created_at"),
        # a link's address is what it is; an uploaded file's view_url is only a web page
        "view_url": None if host == "asana" else item.get("view_url"),
        "is_deleted": False,
        "deleted_at": None,
    }


class TaskAttachments:
    """Lists the attachments of changed tasks; used by the extract run on dlt's thread."""

    def __init__(self, client: AsanaClient, previous: AsanaPreviousLoad, now: dt.datetime) -> None:
        self.client = client
        self.previous = previous
        self.now = now
        self.batch_api = asana.BatchAPIApi(client.api)
        self.pool = ThreadPoolExecutor(max_workers=BATCHES_IN_FLIGHT, thread_name_prefix="att")
        self.tasks_asked = 0
        self.ask_all = False  # the first run with attachments on asks every task

    def start(self, state: dict[str, Any], projects: dict[str, dict[str, Any]]) -> None:
        """Before the projects are read: on the first run with attachments on, have every
        project re-listed in full (its reconcile made due) so every task is asked once."""
        self.ask_all = not state.get(STATE_KEY)
        if self.ask_all:
            for entry in projects.values():
                entry.pop("reconciled_at", None)

    def finish(self, state: dict[str, Any]) -> None:
        state[STATE_KEY] = True  # committed by dlt with this run's load, not before

    @staticmethod
    def forget(state: dict[str, Any]) -> None:
        """Attachments are off this run: changes now go unseen, so the next run with them on
        must ask every task again."""
        state.pop(STATE_KEY, None)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    # -- what to ask ----------------------------------------------------------------------

    def changed(self, tasks: list[Row]) -> list[str]:
        """Gids of `tasks` whose modified_at differs from the staged one (or never staged)."""
        if self.ask_all:
            return [t["gid"] for t in tasks]
        staged = self._staged_modified({t["gid"] for t in tasks})
        out = []
        for t in tasks:
            seen = staged.get(t["gid"])
            if seen is None or _ts(t.get("modified_at")) != seen:
                out.append(t["gid"])
        return out

    def _staged_modified(self, gids: set[str]) -> dict[str, dt.datetime | None]:
        table = self.previous.table("tasks")
        if table is None or not gids or "modified_at" not in self.previous.columns("tasks"):
            return {}
        out: dict[str, dt.datetime | None] = {}
        ordered = sorted(gids)
        for i in range(0, len(ordered), LOOKUP_CHUNK):
            part = ordered[i : i + LOOKUP_CHUNK]
            for gid, modified in self.previous.query(
                f"SELECT gid, modified_at FROM {table} WHERE {LIVE} "
                f"AND gid IN ({', '.join(['%s'] * len(part))})",
                *part,
            ):
                out[gid] = _ts(modified)
        return out

    # -- the rows ------------------------------------------------------------------------

    def rows(self, tasks: list[Row], deleted_tasks: Iterable[str] = ()) -> list[Row]:
        """Attachment rows of the changed `tasks`, plus tombstones for attachments gone."""
        gids = self.changed(tasks)
        listed = self.list_for(gids)
        rows = [staged_row(item, task) for task in gids for item in listed[task]]
        alive = {r["gid"] for r in rows}
        gone_parents = set(gids) | set(deleted_tasks)
        stamp = self.now.isoformat()
        for old in self._staged_for(gone_parents):
            if old["gid"] not in alive:
                rows.append(tombstone(old, stamp))
        return rows

    def _staged_for(self, parents: set[str]) -> list[Row]:
        table = self.previous.table("attachments")
        if table is None or not parents:
            return []
        out: list[Row] = []
        ordered = sorted(parents)
        for i in range(0, len(ordered), LOOKUP_CHUNK):
            part = ordered[i : i + LOOKUP_CHUNK]
            out += self.previous.records(
                "attachments", "parent_gid", part, where="coalesce(is_deleted, false) = false"
            )
        return out

    def list_for(self, task_gids: list[str]) -> dict[str, list[Row]]:
        """Every attachment of each task, ten tasks per batch request."""
        self.tasks_asked += len(task_gids)
        batches = [task_gids[i : i + BATCH_SIZE] for i in range(0, len(task_gids), BATCH_SIZE)]
        out: dict[str, list[Row]] = {}
        for part in self.pool.map(self._batch, batches):
            out.update(part)
        return out

    def _batch(self, task_gids: list[str]) -> dict[str, list[Row]]:
        actions = [
            {
                "method": "get",
                "relative_path": "/attachments",
                "data": {"parent": gid},
                "options": {"limit": 100, "fields": FIELDS},
            }
            for gid in task_gids
        ]
        results = self._send(actions)
        out: dict[str, list[Row]] = {}
        for gid, result in zip(task_gids, results, strict=True):
            status = result.get("status_code")
            body = result.get("body") or {}
            if status == 404:  # deleted since it was listed: its tombstone comes with the task
                out[gid] = []
                continue
            if status != 200:
                message = ((body.get("errors") or [{}])[0]).get("message") or ""
                raise AsanaError(int(status or 0), f"attachments of task {gid}: {message}")
            items = list(body.get("data") or [])
            if body.get("next_page"):  # more than 100 on one task: page on outside the batch
                items += self._rest(gid, body["next_page"]["offset"])
            out[gid] = items
        return out

    def _rest(self, task: str, offset: str) -> list[Row]:
        c = self.client
        api = asana.AttachmentsApi(c.api)
        items: list[Row] = []
        while offset:
            opts = {"limit": 100, "offset": offset, "opt_fields": ",".join(FIELDS)}
            page = c.call(api.get_attachments_for_object, task, opts=opts, full_payload=True)
            items += page.get("data") or []
            offset = (page.get("next_page") or {}).get("offset")
        return items

    def _send(self, actions: list[Row]) -> list[Row]:
        """One batch request, retried as the one HTTP policy says: a batch of GETs is safe to
        send again, so it counts as idempotent (the SDK's own retry covers GETs only)."""
        body = {"data": {"actions": actions}}

        def send_once() -> Reply:
            try:
                page = self.client.call(
                    self.batch_api.create_batch_request, body, opts={}, full_payload=True
                )
            except AsanaError as exc:
                return Reply(exc.status, exc.headers, value=exc)
            except AsanaUnavailable as exc:
                return Reply(
                    0,
                    reached_server=exc.reached_server,
                    transport_retried=exc.transport_retried,
                    value=exc,
                )
            return Reply(200, value=list(page.get("data") or []))

        result = send_with_retries(send_once, BATCH_POLICY, idempotent=True)
        if isinstance(result.reply.value, Exception):
            raise result.reply.value
        return result.reply.value


def _ts(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
