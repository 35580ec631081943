"""What every pipeline shares: the staging DuckDB, user-facing errors, transport security."""
