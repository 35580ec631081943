"""dlt source for Asana: workspaces, users, teams, tags, custom fields, projects, sections,
tasks (subtasks at any depth in the same table) and optionally stories.

Incremental and deletion-aware (see `asana_source.extract_run`): tasks merge on `gid`; deleted
projects, sections and tasks keep their rows with `is_deleted = true` and `deleted_at`.
Configuration resolves under `sources.asana` (`SOURCES__ASANA__ACCESS_TOKEN`,
`SOURCES__ASANA__BASE_URL`, ...).
"""

from __future__ import annotations

from typing import Any

import dlt
from dlt.sources import DltResource

from asana_source import settings
from asana_source.attachments import COLUMNS as ATTACHMENT_COLUMNS
from asana_source.client import AsanaClient
from asana_source.extract_run import ExtractRun
from asana_source.previous_load import AsanaPreviousLoad
from asana_source.table_stream import TableStream
from pm_runtime.setting_checks import (
    check_settings,
    number_problem,
    string_list_problem,
    whole_number_problem,
)
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
        "completed_at": {"data_type": "timestamp", "nullable": True},
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
    "attachments": ATTACHMENT_COLUMNS,
}


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
    attachments: bool = False,
) -> list[DltResource]:
    """Asana → `asana_data`. `workspaces`/`projects` filter by gid or name (default: all).
    `attachments`: also stage task attachments (metadata only, `asana_source.attachments`)."""
    base_url = require_secure_url(base_url, "sources.asana.base_url")
    check_settings(
        whole_number_problem("sources.asana.max_workers", max_workers, minimum=1, maximum=64),
        whole_number_problem("sources.asana.max_retries", max_retries, minimum=0),
        number_problem("sources.asana.max_retry_after", max_retry_after, minimum=0),
        number_problem("sources.asana.reconcile_every_hours", reconcile_every_hours, minimum=0),
        _filter_problem("sources.asana.workspaces", workspaces),
        _filter_problem("sources.asana.projects", projects),
    )

    def extract(tables: frozenset[str]) -> Any:
        client = AsanaClient(
            access_token,
            base_url,
            max_retries=max_retries,
            max_retry_after=max_retry_after,
            pool_size=max_workers + 4,
        )
        return ExtractRun(
            client,
            dlt.current.source_state(),
            AsanaPreviousLoad.of_current_pipeline(),
            tables,
            workspaces=workspaces,
            projects=projects,
            include_subtasks=include_subtasks,
            include_stories=include_stories,
            max_workers=max_workers,
            reconcile_every_hours=reconcile_every_hours,
            attachments=attachments,
        ).rows()

    optional = {"stories": include_stories, "attachments": attachments}
    tables = [t for t in TABLES if optional.get(t, True)]
    stream = TableStream(extract, tables)
    return [_resource(stream, name) for name in tables]


def _filter_problem(key: str, value: Any) -> str | None:
    return None if value is None else string_list_problem(key, value)


def _resource(stream: TableStream, name: str) -> DltResource:
    return dlt.resource(
        stream.rows(name),
        name=name,
        write_disposition="merge",
        primary_key="gid",
        columns=TABLES[name],
        # DuckDB merges parquet ~25x faster than the default insert_values files
        file_format="parquet",
    )
