"""`python -m asana_source`: load Asana into the staging DuckDB (pipeline `asana`).

Problems the user fixes (token, configuration, access) print as one line, exit code 1.
"""

from __future__ import annotations

import sys

from pm_runtime.errors import find_user_error


def main() -> int:
    from asana_source import asana_source
    from pm_runtime.staging import staging_pipeline

    try:
        info = staging_pipeline("asana", "asana_data").run(asana_source())
    except Exception as exc:
        user_error = find_user_error(exc)
        if user_error is None:
            raise
        print(f"error: {user_error}", file=sys.stderr)
        return user_error.exit_code
    print(info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
