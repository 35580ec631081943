"""The [staging] keys (env STAGING__<KEY>), declared once as a dlt `@configspec`.

    [staging]
    destination = "duckdb"          # duckdb | postgres | motherduck (`staging_database`)
    lock_timeout = 60               # seconds to wait for a staging file another process holds
    duckdb_memory_limit = "128MB"   # DuckDB's memory_limit for dlt's loads (`staging`)

Only `staging.<key>` applies (not dlt's fallback to a bare `DESTINATION`, see
`pm_runtime.settings_resolution`). Also here: where the staging DuckDB file is, dlt's own
`destination.duckdb.credentials` read as a path.
"""

from __future__ import annotations

from typing import Any, Literal

from dlt.common.configuration import configspec
from dlt.common.configuration.specs import BaseConfiguration

from pm_runtime.errors import ConfigurationError
from pm_runtime.setting_checks import choice_problem
from pm_runtime.settings_resolution import field_names, resolve_settings

LOCK_TIMEOUT_KEY = "staging.lock_timeout"


@configspec
class StagingConfiguration(BaseConfiguration):
    destination: Literal["duckdb", "postgres", "motherduck"] = "duckdb"
    lock_timeout: float = 60.0
    # DuckDB takes 80% of the machine's memory by default; see `staging` for the figures
    duckdb_memory_limit: str = "128MB"

    @staticmethod
    def coercion_problem(key: str, value: Any) -> str | None:
        if key == "staging.destination":
            return choice_problem(key, value, StagingConfiguration.destinations())
        if key == LOCK_TIMEOUT_KEY:
            return _lock_timeout_problem(value)
        return None

    def on_resolved(self) -> None:
        if self.lock_timeout < 0:
            raise ConfigurationError(_lock_timeout_problem(self.lock_timeout))

    @staticmethod
    def destinations() -> tuple[str, ...]:
        from typing import get_args

        return get_args(StagingConfiguration.get_resolvable_fields()["destination"])


def _lock_timeout_problem(value: Any) -> str:
    return (
        f"{LOCK_TIMEOUT_KEY}: {value!r} is not a number of seconds (0 or more); "
        "set it under [staging] in .dlt/config.toml or as STAGING__LOCK_TIMEOUT"
    )


@configspec
class DuckDbFileConfiguration(BaseConfiguration):
    """dlt's `destination.duckdb.credentials` as the staging file's path (a path or duckdb:/// URL)."""

    credentials: str | None = None


def staging_config() -> StagingConfiguration:
    return resolve_settings(StagingConfiguration, ("staging",), floor=1)


def duckdb_file_setting() -> str | None:
    """`DESTINATION__DUCKDB__CREDENTIALS` / `[destination.duckdb] credentials`, or None."""
    found = resolve_settings(DuckDbFileConfiguration, ("destination", "duckdb"), floor=2)
    return found.credentials or None


STAGING_KEYS = field_names(StagingConfiguration)
