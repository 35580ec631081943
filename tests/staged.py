"""Reading the staging database from tests, whichever it is (DuckDB file or PostgreSQL)."""

from __future__ import annotations

from typing import Any


def staged_rows(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Rows of `sql` (DuckDB's dialect) through the product's own opener."""
    from pm_runtime.staging import open_staging

    with open_staging() as con:
        return [tuple(r) for r in con.execute(sql, params).fetchall()]


def staged_execute(sql: str) -> None:
    from pm_runtime.staging import open_staging

    with open_staging() as con:
        con.execute(sql)
