"""Test helper: the Asana source pointed at a served emulator, loading a real DuckDB file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.asana_sample import AsanaSample

SNAPSHOT_TABLES = {
    "workspaces": "gid, name",
    "users": "gid, name, email",
    "projects": "gid, name, archived, completed, team__gid, owner__gid",
    "sections": "gid, name, project__gid",
    "tasks": "gid, name, completed, parent__gid, assignee__gid, num_subtasks, modified_at",
}


class AsanaWorld:
    def __init__(self, service: Any, sample: AsanaSample, monkeypatch: pytest.MonkeyPatch) -> None:
        self.service = service
        self.sample = sample
        self.monkeypatch = monkeypatch
        self.env = {
            "SOURCES__ASANA__ACCESS_TOKEN": service.token,
            "SOURCES__ASANA__BASE_URL": service.base_url,
        }
        for k, v in self.env.items():
            monkeypatch.setenv(k, v)
        self.pipeline: Any = None

    def use_fresh_database(self, path: Path) -> None:
        """Forget local pipeline state and load into another DuckDB file (an independent load)."""
        if self.pipeline is not None:
            self.pipeline.drop()
        self.monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(path))

    def run(self, **options: Any) -> Any:
        from asana_source import asana_source
        from pm_runtime.staging import staging_pipeline

        self.pipeline = staging_pipeline("asana", "asana_data")
        return self.pipeline.run(asana_source(**options))

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with self.pipeline.sql_client() as client:
            return [tuple(r) for r in client.execute_sql(query, *args)]

    def scalar(self, query: str, *args: Any) -> Any:
        rows = self.sql(query, *args)
        return rows[0][0] if rows else None

    def rows_loaded(self, table: str) -> int:
        """Rows of `table` normalized by the last run."""
        info = self.pipeline.last_trace.last_normalize_info
        return info.row_counts.get(table, 0) if info else 0

    def memberships(self, task: str) -> list[tuple[str, str]]:
        return self.sql(
            "SELECT m.project__gid, m.section__gid FROM tasks t JOIN tasks__memberships m "
            "ON m._dlt_parent_id = t._dlt_id WHERE t.gid = ? ORDER BY m._dlt_list_idx",
            task,
        )

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        out = {
            t: self.sql(f"SELECT {cols} FROM {t} ORDER BY gid")
            for t, cols in SNAPSHOT_TABLES.items()
        }
        out["memberships"] = self.sql(
            "SELECT t.gid, m.project__gid, m.section__gid FROM tasks t JOIN tasks__memberships m "
            "ON m._dlt_parent_id = t._dlt_id ORDER BY 1, 2"
        )
        out["custom_fields"] = self.sql(
            "SELECT t.gid, c.gid, c.display_value FROM tasks t JOIN tasks__custom_fields c "
            "ON c._dlt_parent_id = t._dlt_id ORDER BY 1, 2"
        )
        return out
