"""What earlier runs staged: gids to compare listings against, and rows to re-emit as deleted.

Asana shows deletions only through events or by absence, and a deleted object can no
longer be fetched. To keep the row (flagged `is_deleted`) the source re-emits it from the
staged copy: the root row plus its nested child rows, reassembled into the original shape,
so that the merge (which replaces child rows of merged parents) keeps memberships and
custom fields intact.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

import dlt

log = logging.getLogger("asana_source")
DLT_COLUMNS = ("_dlt_id", "_dlt_parent_id", "_dlt_list_idx", "_dlt_root_id", "_dlt_load_id")


class Staged:
    """Read access to the dataset of the running pipeline (empty before the first load)."""

    def __init__(self, pipeline: dlt.Pipeline | None) -> None:
        self.pipeline = pipeline
        self._lock = threading.RLock()  # worker threads share one DuckDB connection
        self._open: Any = None
        # a snapshot taken on dlt's thread: workers must not touch the live schema
        self.tables: dict[str, tuple[list[str], str | None]] = {}
        if pipeline is not None and pipeline.default_schema_name:
            schema = pipeline.default_schema
            for name, meta in schema.tables.items():
                columns = list(schema.get_table_columns(name))
                if columns:
                    self.tables[name] = (columns, meta.get("parent"))

    def _client(self) -> Any:
        # one connection for the whole extraction: opening DuckDB per lookup costs ~100 ms
        if self._open is None:
            self._open = self.pipeline.sql_client()  # type: ignore[union-attr]
            self._open.__enter__()
        return self._open

    def close(self) -> None:
        with self._lock:
            if self._open is not None:
                self._open.__exit__(None, None, None)
                self._open = None

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if not self.tables:
            return []
        try:
            with self._lock:
                return [tuple(r) for r in self._client().execute_sql(sql, *args) or []]
        except Exception as exc:  # the table may simply not exist yet
            log.debug("staged lookup skipped: %s", exc)
            return []

    def table(self, name: str) -> str | None:
        if name not in self.tables:
            return None
        with self._lock:
            return self._client().make_qualified_table_name(name)

    def live_gids(self, table: str, where: str, *args: Any) -> set[str]:
        qualified = self.table(table)
        if qualified is None:
            return set()
        rows = self.query(
            f"SELECT gid FROM {qualified} WHERE coalesce(is_deleted, false) = false AND {where}",
            *args,
        )
        return {r[0] for r in rows}

    def project_gids(self, workspace: str) -> set[str]:
        return self.live_gids("projects", "workspace__gid = ?", workspace)

    def section_gids(self, project: str) -> set[str]:
        return self.live_gids("sections", "project__gid = ?", project)

    def task_gids_in_project(self, project: str) -> set[str]:
        tasks, members = self.table("tasks"), self.table("tasks__memberships")
        if tasks is None or members is None:
            return set()
        rows = self.query(
            f"SELECT t.gid FROM {tasks} t JOIN {members} m ON m._dlt_parent_id = t._dlt_id "
            "WHERE coalesce(t.is_deleted, false) = false AND m.project__gid = ?",
            project,
        )
        return {r[0] for r in rows}

    def subtask_gids(self, parents: set[str]) -> dict[str, set[str]]:
        """Live children staged under each parent."""
        out: dict[str, set[str]] = defaultdict(set)
        tasks = self.table("tasks")
        if tasks is None or not parents or "parent__gid" not in self._columns("tasks"):
            return out
        for gid, parent in self.query(
            f"SELECT gid, parent__gid FROM {tasks} WHERE coalesce(is_deleted, false) = false "
            f"AND parent__gid IN ({', '.join('?' * len(parents))})",
            *sorted(parents),
        ):
            out[parent].add(gid)
        return out

    def descendants(self, roots: set[str]) -> set[str]:
        found: set[str] = set()
        frontier = set(roots)
        while frontier:
            children = set().union(*self.subtask_gids(frontier).values()) - found - roots
            found |= children
            frontier = children
        return found

    def _columns(self, table: str) -> set[str]:
        return set(self.tables.get(table, ([], None))[0])

    def rows(self, table: str, gids: set[str]) -> list[dict[str, Any]]:
        """Staged records for `gids`, reassembled with their nested lists."""
        qualified = self.table(table)
        if qualified is None or not gids:
            return []
        cols = sorted(self._columns(table))
        placeholders = ", ".join("?" * len(gids))
        result = self.query(
            f"SELECT {', '.join(cols)} FROM {qualified} WHERE gid IN ({placeholders})",
            *sorted(gids),
        )
        records = [dict(zip(cols, r, strict=True)) for r in result]
        self._attach_children(table, records)
        return [_unflatten(r) for r in records]

    def _attach_children(self, table: str, parents: list[dict[str, Any]]) -> None:
        if not parents:
            return
        by_id = {p["_dlt_id"]: p for p in parents}
        for name, (_, parent_table) in self.tables.items():
            if parent_table != table:
                continue
            field_name = name[len(table) + 2 :]
            cols = sorted(self._columns(name))
            rows = self.query(
                f"SELECT {', '.join(cols)} FROM {self.table(name)} WHERE _dlt_parent_id IN "
                f"({', '.join('?' * len(by_id))}) ORDER BY _dlt_list_idx",
                *by_id,
            )
            children = [dict(zip(cols, r, strict=True)) for r in rows]
            self._attach_children(name, children)
            for child in children:
                parent = by_id[child["_dlt_parent_id"]]
                value = child.get("value") if set(child) - set(DLT_COLUMNS) == {"value"} else child
                parent.setdefault(f"{field_name}", []).append(
                    value if not isinstance(value, dict) else _unflatten(value)
                )


def _unflatten(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in DLT_COLUMNS or value is None:
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
