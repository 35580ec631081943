"""Checks of single settings: value(s) in, the one-line problem (naming the key) out, or None.

Pure functions, so that every reader — the `@configspec`s' `on_resolved`
(`docspace_destination.config`, `pm_runtime.staging_config`), `pipelines.watch.settings`,
`pm_runtime.settings_resolution` wording dlt's conversion errors — calls the same rule and
prints the same words. `key` is always the dotted dlt path
(`destination.docspace.room_title`); the message says it, the value found, and what fits.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known key `word` was most likely meant to be (a typo), or None."""
    found = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


def template_problem(key: str, template: Any, fields: Iterable[str]) -> str | None:
    """A title template (`"{name} ({gid})"`) using only `fields`, by name, well formed."""
    fields = sorted(fields)
    offered = ", ".join("{" + f + "}" for f in fields)
    if not isinstance(template, str) or not template.strip():
        return f"{key} must be a title template such as '{{name}}' (fields: {offered}), got {template!r}"
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"{key} is not a valid template ({exc}): {template!r}; fields: {offered}"
    for _, name, spec, _ in parts:
        if name is None:
            continue
        root = name.split(".")[0].split("[")[0]
        if root == "" or root.isdigit():
            return f"{key} uses a positional field in {template!r}: name one of {offered}"
        if root not in fields or root != name:
            near = closest(root, fields)
            hint = f" (did you mean {{{near}}}?)" if near else ""
            return (
                f"{key} uses an unknown field {{{name}}}{hint} in {template!r}; fields: {offered}"
            )
        if spec and "{" in spec:
            return f"{key} nests a field in a format spec: {template!r}"
    return None


def text_problem(key: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"{key} must not be empty, got {value!r}"
    return None


def choice_problem(key: str, value: Any, choices: Iterable[Any]) -> str | None:
    choices = list(choices)
    if value not in choices:
        allowed = " | ".join(f'"{c}"' if isinstance(c, str) else repr(c) for c in choices)
        return f"{key} must be one of {allowed}, got {value!r}"
    return None


def whole_number_problem(
    key: str, value: Any, minimum: int | None = None, maximum: int | None = None
) -> str | None:
    """`value` is a whole number (an int, or text of one) within [minimum, maximum]."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif (
        isinstance(value, str)
        and value.strip().lstrip("+-").isdigit()
        or isinstance(value, float)
        and value.is_integer()
    ):
        number = int(value)
    if number is None:
        return f"{key} must be a whole number, got {value!r}"
    return _range_problem(key, number, minimum, maximum)


def number_problem(
    key: str, value: Any, *, above: float | None = None, minimum: float | None = None
) -> str | None:
    """`value` is a number (an int, a float or text of one) above `above` / at least `minimum`."""
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        return f"{key} must be a number, got {value!r}"
    if number != number:  # NaN
        return f"{key} must be a number, got {value!r}"
    if above is not None and not number > above:
        return f"{key} must be more than {above:g}, got {value!r}"
    return _range_problem(key, number, minimum, None)


def _range_problem(
    key: str, number: float, minimum: float | None, maximum: float | None
) -> str | None:
    if minimum is not None and number < minimum:
        return f"{key} must be at least {minimum:g}, got {number:g}"
    if maximum is not None and number > maximum:
        return f"{key} must be at most {maximum:g}, got {number:g}"
    return None


def string_list_problem(key: str, value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return f'{key} must be a list of strings (e.g. ["a", "b"]), got {value!r}'
    return None


def portal_root_problem(key: str, url: str) -> str | None:
    """A DocSpace portal is addressed by its root (`https://portal.example.com`); its API lives
    at /api/2.0 under it, so any other path would only ever answer 404."""
    path = urlsplit(url.strip()).path.rstrip("/")
    if path not in ("", "/api/2.0"):
        root = url.strip()[: len(url.strip()) - len(urlsplit(url.strip()).path)]
        return f"{key} must be the portal root (e.g. {root}), not a page under it: {url!r}"
    return None


def unknown_key_warnings(found: dict[str, Iterable[str]], known: dict[str, set[str]]) -> list[str]:
    """`{section: keys found}` against `{section: keys known}`: one warning per unknown key,
    naming the closest known one."""
    warnings = []
    for section, keys in found.items():
        for key in keys:
            if key in known.get(section, set()):
                continue
            near = closest(key, known.get(section, set()))
            hint = f" (did you mean {near}?)" if near else ""
            warnings.append(f"unknown setting {section}.{key}{hint}: it is ignored")
    return warnings


def check_settings(*problems: str | None) -> None:
    """Raise the first problem found as a ConfigurationError (one line naming the key)."""
    from pm_runtime.errors import ConfigurationError

    for problem in problems:
        if problem:
            raise ConfigurationError(problem)
