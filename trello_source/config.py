"""[sources.trello] as the link writer reads it: key, token and API root, a dlt `@configspec`.

The source itself gets the same keys through dlt's injection (`trello_source(api_key=
dlt.secrets.value, token=dlt.secrets.value, ...)`); the write-back step runs outside the
source, so it resolves them here, in exactly `sources.trello` (SOURCES__TRELLO__API_KEY).
"""

from __future__ import annotations

from dlt.common.configuration import configspec
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from pm_runtime.settings_resolution import resolve_settings
from trello_source.settings import DEFAULT_BASE_URL


@configspec
class TrelloApiConfiguration(BaseConfiguration):
    api_key: TSecretStrValue | None = None  # in secrets.toml or the environment
    token: TSecretStrValue | None = None
    base_url: str = DEFAULT_BASE_URL


def trello_api_config() -> TrelloApiConfiguration:
    return resolve_settings(TrelloApiConfiguration, ("sources", "trello"), floor=2)
