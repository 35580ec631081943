"""What the previous loads left in the destination, read from inside a running extract.

Both sources keep deleted records as rows flagged `is_deleted`: a deleted Asana task or
Trello card can no longer be fetched, so its tombstone is re-emitted from the copy the
previous load left. dlt's merge replaces the nested rows of a merged record, so the
record is reassembled with its nested lists (memberships, labels, custom fields...)
before it is sent again, or they would be lost.

    with PreviousLoad.of_current_pipeline() as previous:
        rows = previous.records("cards", "id", {"5f..."})
        tombstones = [tombstone(r, utc_now()) for r in rows]
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable
from typing import Any

import dlt

log = logging.getLogger(__name__)

DLT_COLUMNS = frozenset(
    {"_dlt_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_root_id", "_dlt_load_id"}
)
Row = dict[str, Any]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def tombstone(row: Row, now: dt.datetime | str) -> Row:
    """`row` flagged deleted; a row deleted before keeps its first `deleted_at`."""
    return {**row, "is_deleted": True, "deleted_at": row.get("deleted_at") or now}


class PreviousLoad:
    """Read access to the running pipeline's dataset (empty before the first load).

    Thread-safe: worker threads share one connection (opening DuckDB per lookup costs
    ~100 ms). The table list is a snapshot taken where it is built, on dlt's thread:
    workers must not touch the live schema."""

    def __init__(self, pipeline: dlt.Pipeline | None) -> None:
        self.pipeline = pipeline
        self._lock = threading.RLock()
        self._open: Any = None
        self._warned: set[str] = set()
        # table -> (columns, parent table); only tables that received data exist in the dataset
        self.tables: dict[str, tuple[list[str], str | None]] = {}
        if pipeline is not None and pipeline.default_schema_name:
            schema = pipeline.default_schema
            for name in schema.data_table_names(seen_data_only=True):
                columns = list(schema.get_table_columns(name))
                if columns:
                    self.tables[name] = (columns, schema.tables[name].get("parent"))

    @classmethod
    def of_current_pipeline(cls) -> PreviousLoad:
        """The dataset of the pipeline running this extract (none when iterated bare)."""
        try:
            pipeline = dlt.current.pipeline()
        except Exception:  # extracted outside a pipeline (e.g. list(source))
            pipeline = None
        return cls(pipeline)

    def __enter__(self) -> PreviousLoad:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._open is not None:
                self._open.__exit__(None, None, None)
                self._open = None

    def _client(self) -> Any:
        if self._open is None:
            self._open = self.pipeline.sql_client()  # type: ignore[union-attr]
            self._open.__enter__()
        return self._open

    def columns(self, table: str) -> set[str]:
        return set(self.tables.get(table, ([], None))[0])

    def table(self, name: str) -> str | None:
        """The qualified name of `name`, or None when the previous loads never filled it."""
        if name not in self.tables:
            return None
        with self._lock:
            return str(self._client().make_qualified_table_name(name))

    def select_list(self, columns: list[str]) -> str:
        """`columns` quoted for the destination (Trello has a column named `desc`)."""
        with self._lock:
            escape = self._client().escape_column_name
            return ", ".join(escape(c) for c in columns)

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of `sql`; nothing (with one warning per table) when the dataset cannot be read."""
        if not self.tables:
            return []
        try:
            with self._lock:
                return [tuple(r) for r in self._client().execute_sql(sql, *args) or []]
        except Exception as exc:
            what = sql.split(" FROM ", 1)[-1].split(" ", 1)[0]
            if what not in self._warned:
                self._warned.add(what)
                log.warning(
                    "could not read %s from the destination (%s): deletions there go "
                    "unnoticed this run",
                    what,
                    type(exc).__name__,
                )
            log.debug("previous load query failed: %s", exc)
            return []

    def records(self, table: str, key: str, values: Iterable[Any], where: str = "") -> list[Row]:
        """Records of `table` whose `key` is one of `values`, with their nested lists."""
        wanted = sorted(set(values))
        qualified = self.table(table)
        if qualified is None or not wanted:
            return []
        cols = sorted(self.columns(table))
        sql = (
            f"SELECT {self.select_list(cols)} FROM {qualified} "
            f"WHERE {key} IN ({', '.join(['%s'] * len(wanted))})"
        )
        rows = self.query(sql + (f" AND ({where})" if where else ""), *wanted)
        records = [dict(zip(cols, r, strict=True)) for r in rows]
        self._attach_children(table, records)
        return [_unflatten(r) for r in records]

    def _attach_children(self, table: str, parents: list[Row]) -> None:
        if not parents:
            return
        by_id = {p["_dlt_id"]: p for p in parents}
        for name, (_, parent_table) in self.tables.items():
            if parent_table != table:
                continue
            field_name = name[len(table) + 2 :]
            cols = sorted(self.columns(name))
            rows = self.query(
                f"SELECT {self.select_list(cols)} FROM {self.table(name)} WHERE _dlt_parent_id IN "
                f"({', '.join(['%s'] * len(by_id))}) ORDER BY _dlt_list_idx",
                *by_id,
            )
            children = [dict(zip(cols, r, strict=True)) for r in rows]
            self._attach_children(name, children)
            for child in children:
                parent = by_id[child["_dlt_parent_id"]]
                # a list of scalars is staged as a table with one `value` column
                scalar = set(child) - DLT_COLUMNS == {"value"}
                value = child.get("value") if scalar else _unflatten(child)
                parent.setdefault(field_name, []).append(value)


def _unflatten(row: Row) -> Row:
    """`owner__gid` → {"owner": {"gid": ...}}: the shape the record was first emitted in."""
    out: Row = {}
    for key, value in row.items():
        if key in DLT_COLUMNS or value is None:
            continue
        if not isinstance(key, str) or "__" not in key:
            out[key] = value
            continue
        node = out
        parts = key.split("__")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return out
