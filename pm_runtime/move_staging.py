"""`python -m pm_runtime.move_staging --to postgres`: copy the DuckDB staging (data, dlt's own tables and
the sync ledger) into the configured warehouse, so the next sync there writes nothing to DocSpace.

Everything is copied table by table, with its column types (DuckDB's, transpiled by sqlglot), dlt's
`_dlt_*` tables included: the source pipelines then find their schema and load history in the new
place and keep extracting incrementally, and the ledger keeps every room and folder already mirrored.
Afterwards set `destination = "postgres"` under `[staging]` (or STAGING__DESTINATION=postgres).
The target must not hold these tables yet (use --replace to overwrite them).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from typing import Any

import duckdb

from pm_runtime.errors import UserFacingError
from pm_runtime.failures import describe_failure
from pm_runtime.staging import staging_database_path
from pm_runtime.staging_database import DESTINATIONS, open_warehouse, transpile

SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "main"}
BATCH_ROWS = 5000


def _tables(con: duckdb.DuckDBPyConnection, schemas: list[str] | None) -> list[tuple[str, str]]:
    rows = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal ORDER BY 1, 2"
    ).fetchall()
    return [
        (s, t)
        for s, t in rows
        # `<dataset>_staging` is dlt's scratch space for merges, rebuilt by every load
        if s not in SYSTEM_SCHEMAS and not s.endswith("_staging") and (not schemas or s in schemas)
    ]


def _create_statement(con: duckdb.DuckDBPyConnection, schema: str, table: str, dialect: str) -> str:
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, table],
    ).fetchall()
    body = ", ".join(f'"{name}" {dtype}' for name, dtype in columns)
    keys = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE schema_name = ? AND table_name = ? AND constraint_type = 'PRIMARY KEY'",
        [schema, table],
    ).fetchall()
    if keys:
        body += ", PRIMARY KEY (" + ", ".join(f'"{c}"' for c in keys[0][0]) + ")"
    return transpile(f'CREATE TABLE "{schema}"."{table}" ({body})', dialect)


def _batches(cur: duckdb.DuckDBPyConnection) -> Iterator[list[tuple[Any, ...]]]:
    while rows := cur.fetchmany(BATCH_ROWS):
        yield rows


def move(
    target_name: str, duckdb_path: str, schemas: list[str] | None, replace: bool
) -> dict[str, int]:
    """Copy every table; returns rows copied per `schema.table`."""
    copied: dict[str, int] = {}
    con = duckdb.connect(duckdb_path, read_only=True)
    try:
        tables = _tables(con, schemas)
        if not tables:
            raise UserFacingError(f"{duckdb_path} holds no staged tables to move")
        with open_warehouse(target_name) as session:
            existing = {
                (s, t)
                for s, t in session.execute(
                    "SELECT table_schema, table_name FROM information_schema.tables"
                ).fetchall()
            }
            clash = [f"{s}.{t}" for s, t in tables if (s, t) in existing]
            if clash and not replace:
                raise UserFacingError(
                    f"the target already has {len(clash)} of these tables ({', '.join(clash[:3])}…); "
                    "re-run with --replace to overwrite them"
                )
            for schema, table in tables:
                session.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                if (schema, table) in existing:
                    session.execute(f'DROP TABLE "{schema}"."{table}" CASCADE')
                session.execute(_create_statement(con, schema, table, session.dialect))
                columns = [
                    c
                    for (c,) in con.execute(
                        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                        "AND table_name = ? ORDER BY column_index",
                        [schema, table],
                    ).fetchall()
                ]
                quoted = [f'"{c}"' for c in columns]
                cur = con.execute(f'SELECT {", ".join(quoted)} FROM "{schema}"."{table}"')
                n = 0
                for rows in _batches(cur):
                    session.insert_rows(f'"{schema}"."{table}"', quoted, rows)
                    n += len(rows)
                copied[f"{schema}.{table}"] = n
    finally:
        con.close()
    return copied


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pm_runtime.move_staging",
        description="Copy the DuckDB staging (staged data, dlt's tables, the sync ledger) into the "
        "warehouse named by --to, using dlt's credentials for it (e.g. DESTINATION__POSTGRES__CREDENTIALS).",
    )
    parser.add_argument("--to", required=True, choices=[d for d in DESTINATIONS if d != "duckdb"])
    parser.add_argument(
        "--from-duckdb",
        metavar="PATH",
        help="the DuckDB file to copy (default: the configured staging file, data/pm.duckdb)",
    )
    parser.add_argument("--schema", action="append", help="only this dataset (repeatable)")
    parser.add_argument(
        "--replace", action="store_true", help="overwrite tables the target already has"
    )
    parser.add_argument("-vv", dest="traceback", action="store_true", help="show tracebacks")
    args = parser.parse_args(argv)
    try:
        source = args.from_duckdb or staging_database_path()
        if not os.path.isfile(source):
            raise UserFacingError(
                f"{source} does not exist: nothing to move (name the file with --from-duckdb)"
            )
        copied = move(args.to, source, args.schema, args.replace)
    except Exception as exc:  # one line: the file, the server and why; never the password
        if args.traceback:
            raise
        print(f"error: {describe_failure(exc)}")
        return 1
    for name, n in copied.items():
        print(f"  {name:<50} {n:>8} rows")
    print(
        f'Moved {len(copied)} tables to {args.to}. Now set destination = "{args.to}" under [staging] '
        f"in .dlt/config.toml (or STAGING__DESTINATION={args.to}) and run the pipelines as before."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
