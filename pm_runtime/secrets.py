"""A secret by its dlt path, from secrets.toml, config.toml or the environment (None if unset)."""

from __future__ import annotations

from typing import Any

import dlt


def secret_value(path: str) -> Any:
    for provider in (dlt.secrets, dlt.config):
        try:
            value = provider.get(path)
        except Exception:
            value = None
        if value:
            return value
    return None
