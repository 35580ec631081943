"""Resolving our dlt `@configspec`s: exactly their sections, and errors in our words.

dlt resolves a configspec field by field, looking up each key in `sections` from the most
specific path down to the bare key: `resolve_configuration(spec, sections=("destination",
"docspace", "asana"))` tries `destination.docspace.asana.layout`, `destination.docspace.layout`,
`destination.layout` and finally `layout` (dlt's `_build_section_lookup_paths`), so a stray
`LAYOUT=...` in the environment would set our layout. `resolve_settings` keeps dlt's
resolution (providers, env strings decoded, `Literal` checked, secret values, `on_resolved`)
and only takes a value found at `floor` sections or deeper; one found higher up is dropped
(the field keeps its default), which dlt's resolve traces tell.

dlt's own conversion errors ("cannot be coerced into type ...") are worded here, naming the
key as the user writes it: `destination.docspace.private must be true or false, got 'x'`.
A spec may word a field itself with `coercion_problem(key, value)` and fix a value dlt cannot
convert with `normalised(field, value)` (`"Copy"` → `"copy"`, `"a, b"` → `["a", "b"]`).
An empty text is "not set" for a number or a flag (its default applies) and a mistake for a
text or a choice (`... must not be empty (leave it out for the default)`). A secret's value
never appears in a message.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, TypeVar, get_args, get_origin

from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.container import Container
from dlt.common.configuration.exceptions import (
    ConfigValueCannotBeCoercedException,
    ValueNotSecretException,
)
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.configuration.specs.base_configuration import is_secret_hint
from dlt.common.configuration.utils import TraceLogContext

from pm_runtime.errors import ConfigurationError
from pm_runtime.setting_checks import choice_problem, whole_number_problem

TSpec = TypeVar("TSpec", bound=BaseConfiguration)


def resolve_settings(spec: type[TSpec], sections: tuple[str, ...], floor: int) -> TSpec:
    """`spec` resolved the dlt way in `sections`, taking values only from paths of at least
    `floor` sections (`destination.docspace.<source>.key`, then `destination.docspace.key`
    for `floor=2`); raises ConfigurationError naming the key."""
    path = ".".join(sections[:floor])
    explicit: dict[str, Any] = {}
    for _ in range(3 * len(spec.get_resolvable_fields()) + 1):
        log = TraceLogContext()
        try:
            # held for the resolve: threads of one dlt pool share a context (dlt's Container)
            with Container().injectable_context(log, lock_context_on_yield=True):
                config = resolve_configuration(
                    spec(), sections=sections, explicit_value=dict(explicit) or None
                )
            stray = _stray_fields(log, spec, floor) - set(explicit)
            if not stray:
                return config
            explicit.update({name: _default(spec, name) for name in stray})
        except (ConfigValueCannotBeCoercedException, ConfigurationError) as exc:
            stray = _stray_fields(log, spec, floor) - set(explicit)
            if stray:  # a value from above our sections: as if unset, then try again
                explicit.update({name: _default(spec, name) for name in stray})
                continue
            if not isinstance(exc, ConfigValueCannotBeCoercedException):
                raise
            name, value = exc.field_name, exc.field_value
            fixed = _fixed(spec, name, value)
            if fixed is None or explicit.get(name) == fixed:
                raise ConfigurationError(_problem(spec, f"{path}.{name}", name, value)) from None
            explicit[name] = fixed
        except ValueNotSecretException as exc:
            raise ConfigurationError(
                f"{exc.key.lower().replace('__', '.')} is a secret: put it in .dlt/secrets.toml "
                "or the environment, not in config.toml"
            ) from None
    raise ConfigurationError(f"[{path}] could not be resolved")  # pragma: no cover


def field_names(*specs: type[BaseConfiguration]) -> set[str]:
    """The keys these specs read (for the unknown-key warnings)."""
    return {name for spec in specs for name in spec.get_resolvable_fields()}


def _stray_fields(log: TraceLogContext, spec: type[BaseConfiguration], floor: int) -> set[str]:
    """Our fields whose value dlt found above `floor` sections (dlt's lookup traces say where)."""
    return {
        t.key for t in log.resolved_traces if isinstance(t.config, spec) and len(t.sections) < floor
    }


def _default(spec: type[BaseConfiguration], name: str) -> Any:
    return getattr(spec(), name)


def _hint(spec: type[BaseConfiguration], name: str) -> Any:
    hint = spec.get_resolvable_fields()[name]
    if get_origin(hint) in (typing.Union, types.UnionType):  # X | None
        kinds = [a for a in get_args(hint) if a is not type(None)]
        hint = kinds[0] if len(kinds) == 1 else hint
    return hint


def _is_text(hint: Any) -> bool:
    return hint is str or get_origin(hint) is Literal


def _fixed(spec: type[BaseConfiguration], name: str, value: Any) -> Any:
    """A value dlt could not convert, made right when its meaning is plain; else None."""
    hint = _hint(spec, name)
    if isinstance(value, str) and not value.strip() and not _is_text(hint):
        return _default(spec, name)  # `CONCURRENCY=` in the environment: not set
    normalised = getattr(spec, "normalised", None)
    fixed = normalised(name, value) if normalised else None
    if fixed is None and get_origin(hint) is Literal and isinstance(value, str):
        text = value.strip().lower()
        fixed = text if text in get_args(hint) else None
    return fixed


def _problem(spec: type[BaseConfiguration], key: str, name: str, value: Any) -> str:
    hint = spec.get_resolvable_fields()[name]
    if is_secret_hint(hint):
        return f"{key} is not a valid secret value"
    wording = getattr(spec, "coercion_problem", None)
    problem = wording(key, value) if wording else None
    if problem:
        return problem
    hint = _hint(spec, name)
    if isinstance(value, str) and not value.strip():
        return f"{key} must not be empty (leave it out for the default)"
    if get_origin(hint) is Literal:
        return choice_problem(key, value, get_args(hint))
    if hint is bool:
        return f"{key} must be true or false, got {value!r}"
    if hint is int:
        return whole_number_problem(key, value) or f"{key} must be a whole number, got {value!r}"
    if hint is float:
        return f"{key} must be a number, got {value!r}"
    return f"{key} has the wrong type ({getattr(hint, '__name__', hint)}), got {value!r}"
