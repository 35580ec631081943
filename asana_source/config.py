"""[sources.asana] as the link writer reads it: the token and the API root, a dlt `@configspec`.

The source itself gets the same keys through dlt's injection (`asana_source(access_token=
dlt.secrets.value, base_url=...)`); the write-back step runs outside the source, so it
resolves them here, in exactly `sources.asana` (SOURCES__ASANA__ACCESS_TOKEN).
"""

from __future__ import annotations

from dlt.common.configuration import configspec
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from asana_source.settings import DEFAULT_BASE_URL
from pm_runtime.settings_resolution import resolve_settings


@configspec
class AsanaApiConfiguration(BaseConfiguration):
    access_token: TSecretStrValue | None = None  # in secrets.toml or the environment
    base_url: str = DEFAULT_BASE_URL


def asana_api_config() -> AsanaApiConfiguration:
    return resolve_settings(AsanaApiConfiguration, ("sources", "asana"), floor=2)
