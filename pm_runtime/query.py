"""`python -m pm_runtime.query "SELECT ..."`: run SQL on the staging DuckDB and print the result.

The duckdb Python package ships no command-line shell; this is the one-liner stand-in.
It opens the database read-only and, while a sync or a load holds it, waits for it
([staging] lock_timeout, default 60 s).
"""

from __future__ import annotations

import os
import sys

import duckdb

from pm_runtime.errors import UserFacingError
from pm_runtime.staging import open_staging, staging_database_path
from pm_runtime.staging_lock import shown_path


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip())
        return 2
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
