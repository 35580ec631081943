"""Running a source's mapping SQL (see `pm_runtime.source_spec`) over a young dataset.

A fresh or small account lacks tables and columns a mapping joins (no sections yet, no
custom fields): absent optional tables become empty stand-ins, absent optional columns
read as NULL, and a query whose required tables or columns are absent has nothing to say.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import duckdb

from pm_runtime.source_spec import MappingQuery


def existing_tables(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, set[str]]:
    """{table: columns} of `schema` in the staging database."""
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ?",
        [schema],
    ).fetchall()
    tables: dict[str, set[str]] = defaultdict(set)
    for table, column in rows:
        tables[table].add(column)
    return tables


def missing_requirement(
    query: MappingQuery, tables: dict[str, set[str]], dataset: str
) -> str | None:
    """The first required table or column that is absent, as `dataset.table[.column]`."""
    for table, columns in query.requires.items():
        if table not in tables:
            return f"{dataset}.{table}"
        for column in columns:
            if column not in tables[table]:
                return f"{dataset}.{table}.{column}"
    return None


def prepared_sql(query: MappingQuery, dataset: str, tables: dict[str, set[str]]) -> str:
    """The query's SQL with absent optional tables/columns replaced by stand-ins."""
    sql = query.path.read_text()
    for table, columns in query.optional_tables.items():
        if table not in tables:
            cols = ", ".join(f"NULL::{c.split()[1]} AS {c.split()[0]}" for c in columns.split(", "))
            sql = sql.replace(f"{dataset}.{table} ", f"(SELECT {cols} WHERE false) ")
    for table, columns in query.optional_columns.items():
        absent = [c for c in columns if table in tables and c not in tables[table]]
        if absent:
            extra = ", ".join(f"NULL AS {c}" for c in absent)
            sql = sql.replace(f"{dataset}.{table} ", f"(SELECT *, {extra} FROM {dataset}.{table}) ")
    return sql


def parameter_names(sql: str) -> set[str]:
    """The `$name` parameters `sql` uses (comments aside)."""
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return set(re.findall(r"\$(\w+)", code))


def parameters(sql: str, available: dict[str, Any]) -> dict[str, Any]:
    """The `$name` parameters `sql` uses (comments aside), from `available`."""
    return {name: available[name] for name in parameter_names(sql)}


def run_mapping(
    con: duckdb.DuckDBPyConnection,
    query: MappingQuery,
    dataset: str,
    available: dict[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of `query`; none when a table or column it requires is absent."""
    tables = existing_tables(con, dataset)
    if missing_requirement(query, tables, dataset):
        return []
    sql = prepared_sql(query, dataset, tables)
    return con.execute(sql, parameters(sql, available or {})).fetchall()
