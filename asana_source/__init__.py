"""dlt source for Asana: workspaces, users, teams, tags, custom fields, projects, sections,
tasks (subtasks at any depth in the same table) and optionally stories.

Incremental and deletion-aware (see `asana_source.sync`): tasks merge on `gid`; deleted
projects, sections and tasks keep their rows with `is_deleted = true` and `deleted_at`.
Configuration resolves under `sources.asana` (`SOURCES__ASANA__ACCESS_TOKEN`,
`SOURCES__ASANA__BASE_URL`, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt
from dlt.sources import DltResource

from asana_source import settings
from asana_source.client import AsanaClient
from asana_source.known import Staged
from asana_source.sync import AsanaSync, Batch
from pm_runtime.transport import require_secure_url

DELETION_COLUMNS: dict[str, Any] = {
    "is_deleted": {"data_type": "bool", "nullable": True},
    "deleted_at": {"data_type": "timestamp", "nullable": True},
}
TABLES: dict[str, dict[str, Any]] = {
    "workspaces": {},
    "users": {},
    "teams": {"workspace_gid": {"data_type": "text"}},
    "tags": {"workspace_gid": {"data_type": "text"}},
    "custom_fields": {"workspace_gid": {"data_type": "text"}},
    "projects": {
        **DELETION_COLUMNS,
        "modified_at": {"data_type": "timestamp"},
        "team__gid": {"data_type": "text", "nullable": True},
        "team__name": {"data_type": "text", "nullable": True},
        "owner__gid": {"data_type": "text", "nullable": True},
        "owner__email": {"data_type": "text", "nullable": True},
        "due_on": {"data_type": "date", "nullable": True},
        "start_on": {"data_type": "date", "nullable": True},
    },
    "sections": {**DELETION_COLUMNS, "project__gid": {"data_type": "text"}},
    "tasks": {
        **DELETION_COLUMNS,
        "modified_at": {"data_type": "timestamp"},
        "completed_at": {"data_type": "timestamp", "nullable": True},
        "parent__gid": {"data_type": "text", "nullable": True},
        "parent__name": {"data_type": "text", "nullable": True},
        "assignee__gid": {"data_type": "text", "nullable": True},
        "assignee__name": {"data_type": "text", "nullable": True},
        "due_on": {"data_type": "date", "nullable": True},
    },
    "stories": {"task_gid": {"data_type": "text"}},
}


class _Run:
    """Runs the extraction once, on the first resource that asks, inside dlt's context."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._batch: Batch | None = None

    def rows(self, table: str) -> list[dict[str, Any]]:
        if self._batch is None:
            self._batch = self._make()
        return self._batch.tables.get(table, [])


@dlt.source(name="asana", section="asana")
def asana_source(
    access_token: str = dlt.secrets.value,
    base_url: str = settings.DEFAULT_BASE_URL,
    workspaces: list[str] | None = None,
    projects: list[str] | None = None,
    include_subtasks: bool = True,
    include_stories: bool = False,
    max_workers: int = settings.MAX_WORKERS,
    max_retries: int = 8,
    max_retry_after: float = 60.0,
    reconcile_every_hours: float = 24.0,
) -> list[DltResource]:
    """Asana → `asana_data`. `workspaces`/`projects` filter by gid or name (default: all)."""
    base_url = require_secure_url(base_url, "sources.asana.base_url")

    def extract() -> Batch:
        client = AsanaClient(
            access_token,
            base_url,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            pool_size=max_workers + 4,
        )
        try:
            pipeline = dlt.current.pipeline()
        except Exception:  # extracted outside a pipeline (e.g. list(source))
            pipeline = None
        return AsanaSync(
            client,
            dlt.current.source_state(),
            Staged(pipeline),
            workspaces=workspaces,
            projects=projects,
            include_subtasks=include_subtasks,
            include_stories=include_stories,
            max_workers=max_workers,
            reconcile_every_hours=reconcile_every_hours,
        ).run()

    run = _Run(extract)
    tables = [t for t in TABLES if t != "stories" or include_stories]
    return [_resource(run, name) for name in tables]


def _resource(run: _Run, name: str) -> DltResource:
    def rows() -> Iterator[list[dict[str, Any]]]:
        batch = run.rows(name)
        if batch:
            yield batch

    return dlt.resource(
        rows,
        name=name,
        write_disposition="merge",
        primary_key="gid",
        columns=TABLES[name],
        # DuckDB merges parquet ~25x faster than the default insert_values files
        file_format="parquet",
    )


__all__ = ["asana_source"]
