"""What every pipeline shares: the staging DuckDB, user-facing errors, transport security.

Imported before dlt in every sync (the command line imports it first), it keeps dlt's
dashboard plugin and pandas out of the process: see `pm_runtime.lean_start`.
"""

from pm_runtime.lean_start import lean_start

lean_start()
