"""The staging DuckDB every pipeline shares (data/pm.duckdb unless configured)."""

from __future__ import annotations

import os
from pathlib import Path

import dlt

DEFAULT_DUCKDB_PATH = Path("data") / "pm.duckdb"
CREDENTIALS_ENV = "DESTINATION__DUCKDB__CREDENTIALS"


def staging_database_path() -> str:
    """`DESTINATION__DUCKDB__CREDENTIALS` (a path or duckdb:/// URL) when set, else data/pm.duckdb."""
    configured = os.environ.get(CREDENTIALS_ENV)
    if not configured:
        try:
            configured = dlt.config.get("destination.duckdb.credentials")
        except Exception:
            configured = None
    if configured:
        configured = str(configured)
        return configured.removeprefix("duckdb:///")
    DEFAULT_DUCKDB_PATH.parent.mkdir(parents=True, exist_ok=True)
    return str(DEFAULT_DUCKDB_PATH.resolve())


def staging_pipeline(
    pipeline_name: str, dataset_name: str, progress: str | None = None
) -> dlt.Pipeline:
    """The source → DuckDB pipeline (`asana` → `asana_data`, `trello` → `trello_data`)."""
    return dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=dlt.destinations.duckdb(credentials=staging_database_path()),
        dataset_name=dataset_name,
        progress=progress,
    )
