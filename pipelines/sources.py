"""The sources the command line knows: their packages, dlt datasets, titles and credentials.

A source package states its DocSpace mapping itself (`DOCSPACE_SPEC`); this table only says
where to find it and how to talk about it to a user.
"""

from __future__ import annotations

SOURCES: dict[str, dict[str, str]] = {
    "asana": {
        "module": "asana_source",
        "function": "asana_source",
        "dataset": "asana_data",
        "title": "Asana",
        "secret_hint": "SOURCES__ASANA__ACCESS_TOKEN (or access_token under [sources.asana] in .dlt/secrets.toml)",
    },
    "trello": {
        "module": "trello_source",
        "function": "trello_source",
        "dataset": "trello_data",
        "title": "Trello",
        "secret_hint": "SOURCES__TRELLO__API_KEY and SOURCES__TRELLO__TOKEN "
        "(or api_key/token under [sources.trello] in .dlt/secrets.toml)",
    },
}
