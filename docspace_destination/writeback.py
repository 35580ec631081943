"""Write-back: a link to each room and folder, put on the source record it mirrors.

Which records get which link is the source's links SQL (`SourceSpec.links`); the
attachments are made by the source's `LinkWriter`. Idempotent three ways: `docspace_state.writebacks` remembers what was written (a
re-run with the same link makes no request at all); before posting, the record's
attachments are listed and one with the same URL is adopted (so a dropped table or
a lost reply never attaches twice); a room or folder that was recreated gets its
new link and the old one removed (the recorded attachment, or one of ours by name
pointing at this portal).

Records are buffered and written in batches (short transactions on the staging
database); one lost with a crash only means the next run lists that record's
attachments and recognises the link.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from docspace_destination.client import DocSpaceClient
from docspace_destination.ledger import SCHEMA, Ledger, LedgerEntry
from docspace_destination.opt_in_steps import OptInSettings, StepReport
from docspace_destination.source_sql import run_mapping
from pm_runtime.errors import UserFacingError
from pm_runtime.http_policy import LOOK_THEN_WRITE_ATTEMPTS, AmbiguousWriteError
from pm_runtime.link_writer import Attachment, LinkWriter, ParentGone, WriteRefused
from pm_runtime.source_spec import SourceSpec, spec_for
from pm_runtime.staging import open_staging
from pm_runtime.staging_database import upsert_statement

log = logging.getLogger(__name__)

ENTRIES_VIEW = "docspace_entries"  # what a source's links SQL reads: its ledger rows
WORKERS = 8  # below the 15 concurrent writes Asana allows; a paced client waits on its own
ADD_ATTEMPTS = LOOK_THEN_WRITE_ATTEMPTS  # after an ambiguous add: list, then add
RECORDS_PER_WRITE = 200  # each write is a short transaction that lets other processes in
DONE, GONE = "done", "gone"

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.writebacks (
    key VARCHAR PRIMARY KEY,
    source VARCHAR,
    target VARCHAR,
    name VARCHAR,
    url VARCHAR,
    attachment_id VARCHAR,
    status VARCHAR,
    last_error VARCHAR,
    updated_at TIMESTAMPTZ
);
"""
_COLUMNS = ("key", "source", "target", "name", "url", "attachment_id", "status", "last_error")


@dataclass(frozen=True)
class Link:
    key: str  # the ledger key of the room or folder
    target: str  # the id of the source record the attachment goes on
    name: str
    url: str


def links(
    con: duckdb.DuckDBPyConnection,
    source: str | SourceSpec,
    entries: dict[str, LedgerEntry],
    client: DocSpaceClient,
    tasks: bool,
) -> list[Link]:
    """Every link the ledger's applied rooms and folders call for (the source's links SQL)."""
    spec = spec_for(source)
    mine = {k: e for k, e in entries.items() if e.source == spec.name}
    if spec.links is None or not mine:
        return []
    view = pa.table(
        {
            "key": pa.array([e.key for e in mine.values()], pa.string()),
            "kind": pa.array([e.kind for e in mine.values()], pa.string()),
            "status": pa.array([e.status for e in mine.values()], pa.string()),
            "docspace_id": pa.array([e.docspace_id for e in mine.values()], pa.int64()),
            "title": pa.array([e.title for e in mine.values()], pa.string()),
        }
    )
    con.register(ENTRIES_VIEW, view)
    try:
        rows = run_mapping(con, spec.links, spec.dataset, {"tasks": tasks})
    finally:
        con.unregister(ENTRIES_VIEW)
    out = [
        Link(key, str(target), name, client.folder_url(int(mine[key].docspace_id or 0)))
        for key, target, name in rows
    ]
    return sorted(out, key=lambda link: link.key)


class WriteBack:
    def __init__(
        self,
        client: DocSpaceClient,
        source: str | SourceSpec,
        settings: OptInSettings,
        attachments: LinkWriter | None = None,
    ) -> None:
        self.client = client
        self.spec = spec_for(source)
        self.source = self.spec.name
        self.settings = settings
        self._attachments = attachments
        self.report = StepReport("write-back")
        self._lock = threading.Lock()
        self._unwritten: list[list[Any]] = []

    def _rows(self, con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, Any]]:
        rows = con.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM {SCHEMA}.writebacks WHERE source = ?",
            [self.source],
        ).fetchall()
        return {r[0]: dict(zip(_COLUMNS, r, strict=True)) for r in rows}

    def _record(
        self, link: Link, status: str, attachment_id: str | None, error: str | None
    ) -> None:
        row = [link.key, self.source, link.target, link.name, link.url]
        row += [attachment_id, status, error, datetime.now(UTC)]
        with self._lock:
            self._unwritten.append(row)
            full = len(self._unwritten) >= RECORDS_PER_WRITE
        if full:
            self._write_records()

    def _write_records(self) -> None:
        with self._lock:
            batch, self._unwritten = self._unwritten, []
        if not batch:
            return
        with open_staging() as con:
            con.executemany(
                upsert_statement(f"{SCHEMA}.writebacks", [*_COLUMNS, "updated_at"], ["key"]),
                batch,
            )

    def run(self) -> StepReport:
        with open_staging() as con:  # a short read (and cleanup) before any request goes out
            con.execute(_DDL)
            entries = Ledger().load(self.source)
            wanted = links(con, self.spec, entries, self.client, self.settings.write_back_tasks)
            rows = self._rows(con)
            stale = [k for k in rows if k not in entries]
            if stale:  # keys the ledger forgot (a folder moved to another key): nothing to keep
                con.execute(
                    f"DELETE FROM {SCHEMA}.writebacks WHERE key IN (SELECT unnest(?))", [stale]
                )
        todo = []
        for link in wanted:
            row = rows.get(link.key)
            if row and row["url"] == link.url and row["status"] in (DONE, GONE):
                self.report.add("unchanged")
            else:
                todo.append((link, row))
        if not todo:
            return self.report
        if self._attachments is None and self.spec.link_writer is None:
            raise UserFacingError(f"write_back: the {self.source} source cannot write links back")
        attachments = self._attachments or self.spec.link_writer()  # type: ignore[misc]
        try:
            with ThreadPoolExecutor(WORKERS, thread_name_prefix="writeback") as pool:
                list(pool.map(lambda item: self._one(attachments, *item), todo))
        finally:
            self._write_records()
            if self._attachments is None:
                attachments.close()
        return self.report

    def _one(self, attachments: LinkWriter, link: Link, row: dict[str, Any] | None) -> None:
        try:
            outcome, attachment_id = self._write(attachments, link, row)
        except ParentGone:
            self._record(link, GONE, None, "gone from the source")
            self.report.add("gone")
            return
        except (WriteRefused, AmbiguousWriteError) as exc:
            reason = str(exc)
        except Exception as exc:  # one record never stops the others
            if isinstance(exc, UserFacingError):
                raise  # bad credentials: every record would fail the same way
            log.exception("write-back of %s failed", link.key)
            reason = f"{type(exc).__name__}: {exc}"
        else:
            self._record(link, DONE, attachment_id, None)
            self.report.add(outcome)
            return
        self._record(link, "failed", row.get("attachment_id") if row else None, reason[:500])
        self.report.fail(link.key, reason)

    def _write(
        self, attachments: LinkWriter, link: Link, row: dict[str, Any] | None
    ) -> tuple[str, str]:
        present = attachments.list(link.target)
        same = [a for a in present if link.url in a.urls]
        if same:
            attachment_id, outcome = same[0].id, "recognised"
        else:
            attachment_id, outcome = self._add(attachments, link), "added"
        old = [a for a in present if a.id != attachment_id and self._superseded(a, link, row)]
        for a in old:
            attachments.delete(link.target, a.id)
        if old:
            outcome = "updated"
        return outcome, attachment_id

    def _superseded(self, a: Attachment, link: Link, row: dict[str, Any] | None) -> bool:
        """Ours but pointing elsewhere: the recorded one, or one with our name into this portal."""
        if link.url in a.urls:
            return False
        if row and row.get("attachment_id") == a.id:
            return True
        rooms = f"{self.client.portal}/rooms/"
        return a.name == link.name and any(u.startswith(rooms) for u in a.urls)

    def _add(self, attachments: LinkWriter, link: Link) -> str:
        for attempt in range(1, ADD_ATTEMPTS + 1):
            try:
                return attachments.add(link.target, link.name, link.url).id
            except AmbiguousWriteError:
                # the reply was lost: it may be there already; never post twice
                again = [a for a in attachments.list(link.target) if link.url in a.urls]
                if again:
                    return again[0].id
                if attempt == ADD_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")
