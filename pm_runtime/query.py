"""`python -m pm_runtime.query "SELECT ..."`: run SQL on the staging DuckDB and print the result.

The duckdb Python package ships no command-line shell; this is the one-liner stand-in.
The SQL is DuckDB's dialect on every staging database (transpiled for PostgreSQL).
It opens the database read-only and, while a sync or a load holds it, waits for it
([staging] lock_timeout, default 60 s).
"""

from __future__ import annotations

import os
import sys

import duckdb

from pm_runtime.errors import UserFacingError
from pm_runtime.failures import describe_failure
from pm_runtime.staging import open_staging, staging_database_path
from pm_runtime.staging_database import configured_destination, transpile
from pm_runtime.staging_lock import shown_path


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip())
        return 2
    try:
        return _query(argv)
    except Exception as exc:  # a bad setting, an unreadable file...: one line, no traceback
        print(f"error: {describe_failure(exc)}", file=sys.stderr)
        return 1


def _query(argv: list[str]) -> int:
    if configured_destination() != "duckdb":
        return _query_warehouse(" ".join(argv))
    path = staging_database_path()
    if not os.path.exists(path):
        print(
            f"error: {shown_path(path)} does not exist yet: run a pipeline first", file=sys.stderr
        )
        return 1
    try:
        with open_staging(read_only=True) as con:
            con.sql(" ".join(argv)).show(max_rows=200, max_width=200)
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    return 0


def _in_dialect(sql: str, dialect: str) -> str:
    """The query as typed in DuckDB's dialect (the README's examples: `GROUP BY ALL`...) in the
    warehouse's, as the mapping SQL is; what sqlglot cannot read is sent as typed."""
    import sqlglot

    try:
        return transpile(sql, dialect)
    except sqlglot.errors.ParseError:
        return sql


def _query_warehouse(sql: str) -> int:
    """The same on a PostgreSQL staging: DuckDB-dialect SQL transpiled to the server's, rows printed."""
    try:
        with open_staging(read_only=True) as con:
            sql = _in_dialect(sql, con.dialect)
            result = con.client.native_connection.cursor()
            try:
                result.execute(sql)
                columns = [d[0] for d in result.description or []]
                rows = result.fetchmany(200) if result.description else []
            finally:
                result.close()
    except UserFacingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the server's message for a bad query is the useful part
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    cells = [columns] + [["NULL" if v is None else str(v) for v in r] for r in rows]
    widths = [min(60, max(len(row[i]) for row in cells)) for i in range(len(columns))]
    for n, row in enumerate(cells):
        print("  ".join(v[:60].ljust(w) for v, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
