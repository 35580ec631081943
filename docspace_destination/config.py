"""Reading [destination.docspace] keys the dlt way, with per-source overrides.

`[destination.docspace.asana] layout = "grouped"` wins over `[destination.docspace] layout`;
environment variables in dlt's naming work too (DESTINATION__DOCSPACE__LAYOUT).
Bad values raise ConfigurationError naming the key.

This is the one reader; each concern has one typed module that calls it once per key, with
the key's default and its error message: `settings` (portal, mapping, limits, rooms) and
`opt_in_steps` (write-back, members). Those modules are plain frozen dataclasses filled by
one function, not dlt `@configspec`s, because every key has a per-source override
(`destination.docspace.<source>.<key>` over `destination.docspace.<key>`), values come as
TOML or as environment strings alike (a list or a table given as JSON text), and the messages
name the key in our words ("... must be true or false, got 'x'"): a configspec would resolve
one section and raise its own conversion errors, so it would need this wrapper anyway.
(`[watch]` is read in `pipelines.watch_settings`, the staging lock's timeout in
`pm_runtime.staging_lock`.)
"""

from __future__ import annotations

from typing import Any

import dlt

from pm_runtime.errors import ConfigurationError
from pm_runtime.setting_checks import whole_number_problem

SECTION = "destination.docspace"


def config_value(source: str, key: str, default: Any = None, secret: bool = False) -> Any:
    provider = dlt.secrets if secret else dlt.config
    for path in (f"{SECTION}.{source}.{key}", f"{SECTION}.{key}"):
        try:
            value = provider.get(path)
        except Exception:
            value = None
        if value is not None and value != "":
            return value
    return default


def config_int(source: str, key: str, default: int) -> int:
    value = config_value(source, key, default)
    problem = whole_number_problem(f"{SECTION}.{key}", value)  # 8.5 is not 8
    if problem:
        raise ConfigurationError(problem)
    return int(value)


def set_but_empty(source: str, key: str) -> bool:
    """The key is given as an empty string (`LAYOUT=` in the environment): a mistake, not "unset"."""
    for path in (f"{SECTION}.{source}.{key}", f"{SECTION}.{key}"):
        try:
            value = dlt.config.get(path)
        except Exception:
            value = None
        if value is not None:
            return isinstance(value, str) and not value.strip()
    return False


def config_bool(source: str, key: str, default: bool) -> bool:
    value = config_value(source, key, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ConfigurationError(f"{SECTION}.{key} must be true or false, got {value!r}")


def config_choice(source: str, key: str, choices: tuple[str, ...], default: str) -> str:
    value = config_value(source, key, default)
    text = str(value).strip().lower()
    if text not in choices:
        allowed = " | ".join(f'"{c}"' for c in choices)
        raise ConfigurationError(f"{SECTION}.{key} must be {allowed}, got {value!r}")
    return text
