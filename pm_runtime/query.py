"""`python -m pm_runtime.query "SELECT ..."`: run SQL on the staging DuckDB and print the result.

The duckdb Python package ships no command-line shell; this is the one-liner stand-in.
"""

from __future__ import annotations

import sys

import duckdb

from pm_runtime.staging import staging_database_path


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip())
        return 2
    con = duckdb.connect(staging_database_path(), read_only=True)
    try:
        con.sql(" ".join(argv)).show(max_rows=200, max_width=200)
    except duckdb.Error as exc:
        print(f"error: {exc}")
        return 1
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
