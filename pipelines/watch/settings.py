"""Settings of `--watch`, declared once: `[watch] <key>` in .dlt/config.toml or WATCH__<KEY>.

`WatchConfiguration` is a dlt configspec: each key is a typed field with its default, dlt
resolves it (TOML or environment, text decoded), and `on_resolved` checks it, naming the key
(`watch.interval must be more than 0, got -1`). A source adds one key, `<source>_quota`
(its API's requests per window, defaulting to the quota its `SourceSpec` publishes), and a
source with its own periodic reconcile (`SourceSpec.reconcile_key`, e.g.
`sources.asana.reconcile_every_hours`) has it win over `[watch] reconcile_every_hours`.
A flag (`--interval`, `--api-share`) wins over its key and is worded as the flag.

    interval = 30                  # seconds between looks (--interval)
    api_share = 0.5                # share of each API's quota the watcher may use (--api-share)
    asana_quota / trello_quota     # the source API's requests per window (published quota)
    docspace_quota = 1500          # DocSpace requests per minute
    docspace_writes_per_day = 10000
    reconcile_every_hours = 24     # full extract now and then
    keep_load_packages = 50        # finished load packages kept per pipeline

The keys are embedded under a root spec (`watch: WatchConfiguration`) rather than resolved
with `sections=("watch",)`, which would let dlt fall back to a bare `INTERVAL` variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dlt.common.configuration import configspec, resolve_configuration
from dlt.common.configuration.exceptions import ConfigValueCannotBeCoercedException
from dlt.common.configuration.specs import BaseConfiguration

from pm_runtime.errors import UserFacingError
from pm_runtime.setting_checks import number_problem, whole_number_problem
from pm_runtime.source_spec import SourceSpec, source_names, spec_for


class WatchSettingsError(UserFacingError):
    """A watch setting out of range; the message is the one line the command line prints."""


@configspec
class WatchConfiguration(BaseConfiguration):
    """`[watch]`: what every source's watcher shares."""

    interval: float = 30.0
    api_share: float = 0.5
    docspace_quota: float = 1500  # requests/min: docs/docspace-behaviour.md, "Rate limits"
    docspace_writes_per_day: float = 10000  # docs/docspace-behaviour.md, "Rate limits"
    reconcile_every_hours: float = 24.0
    keep_load_packages: int = 50  # finished dlt load packages kept per pipeline

    def on_resolved(self) -> None:
        problem = next(filter(None, map(self._problem, self.get_resolvable_fields())), None)
        if problem:
            raise WatchSettingsError(problem)

    def _problem(self, name: str) -> str | None:
        key, value = f"watch.{name}", getattr(self, name)
        if name == "keep_load_packages":
            return whole_number_problem(key, value, minimum=0)
        if name == "reconcile_every_hours":
            return number_problem(key, value, minimum=0)
        if name == "api_share" and number_problem(key, value, above=0) is None and value > 1:
            return f"{key} must be at most 1, got {value!r}"
        return number_problem(key, value, above=0)


@dataclass(frozen=True)
class WatchSettings:
    """The watch settings of one source, flags applied."""

    interval: float
    api_share: float
    source_quota: float
    source_window: float
    source_quota_unit: str
    docspace_quota: float
    docspace_writes_per_day: float
    reconcile_every_hours: float
    keep_load_packages: int


def quota_key(source: SourceSpec) -> str:
    return f"{source.name}_quota"


def known_keys() -> set[str]:
    """The keys of `[watch]` (for the unknown-key check): the shared ones and each source's quota."""
    shared = set(WatchConfiguration.get_resolvable_fields())
    return shared | {f"{name}_quota" for name in source_names()}


def _source_spec(source: SourceSpec) -> type[BaseConfiguration]:
    """`[watch]` with this source's `<name>_quota` (default: its published quota), and the
    root spec that places it (and the source's own reconcile key) at its dotted path."""
    made = _SPECS.get(source.name)
    if made is None:
        made = _SPECS[source.name] = _make_source_spec(source)
    return made


_SPECS: dict[str, type[BaseConfiguration]] = {}  # a configspec class per source, made once


def _make_source_spec(source: SourceSpec) -> type[BaseConfiguration]:
    assert source.quota is not None
    watch = _configspec(
        f"{source.name.capitalize()}WatchConfiguration",
        {quota_key(source): (float, source.quota.requests)},
        base=WatchConfiguration,
    )
    root: dict[str, tuple[Any, Any]] = {"watch": (watch, None)}
    if source.reconcile_key:
        own = _configspec("OwnReconcile", {source.reconcile_key: (float | None, None)})
        root["sources"] = (_configspec("Sources", {source.name: (own, None)}), None)
    return _configspec("WatchRoot", root)


def _configspec(
    name: str, fields: dict[str, tuple[Any, Any]], base: type = BaseConfiguration
) -> type[BaseConfiguration]:
    """A configspec made at run time (its keys are named after a source): field → (type, default)."""
    namespace: dict[str, Any] = {"__annotations__": {k: hint for k, (hint, _) in fields.items()}}
    namespace |= {k: default for k, (_, default) in fields.items()}
    return configspec(type(name, (base,), namespace))


def _resolved(source: SourceSpec) -> tuple[WatchConfiguration, float | None]:
    try:
        root: Any = resolve_configuration(_source_spec(source)())
    except ConfigValueCannotBeCoercedException as exc:
        key = exc.field_name
        own = source.reconcile_key
        dotted = f"sources.{source.name}.{key}" if key == own else f"watch.{key}"
        check = whole_number_problem if exc.hint is int else number_problem
        raise WatchSettingsError(check(dotted, exc.field_value) or f"{dotted}: {exc}") from None
    own_hours = None
    if source.reconcile_key:
        own_hours = getattr(getattr(root.sources, source.name), source.reconcile_key)
        key = f"sources.{source.name}.{source.reconcile_key}"
        problem = own_hours is not None and number_problem(key, own_hours, minimum=0)
        if problem:
            raise WatchSettingsError(problem)
    return root.watch, own_hours


def read_watch_settings(
    source: str | SourceSpec, interval: float | None = None, api_share: float | None = None
) -> WatchSettings:
    """The watch settings of `source`; `interval`/`api_share` are the flags (None: not given)."""
    spec = spec_for(source)
    if spec.quota is None:
        raise WatchSettingsError(f"{spec.name} states no API quota: it cannot be watched")
    if interval is not None and not interval > 0:
        raise WatchSettingsError("--interval must be more than 0 seconds")
    if api_share is not None and not 0 < api_share <= 1:
        raise WatchSettingsError("--api-share must be more than 0 and at most 1")
    watch, own_reconcile = _resolved(spec)
    return WatchSettings(
        interval=interval if interval is not None else watch.interval,
        api_share=api_share if api_share is not None else watch.api_share,
        source_quota=float(getattr(watch, quota_key(spec))),
        source_window=spec.quota.window_seconds,
        source_quota_unit=spec.quota.unit,
        docspace_quota=watch.docspace_quota,
        docspace_writes_per_day=watch.docspace_writes_per_day,
        reconcile_every_hours=own_reconcile
        if own_reconcile is not None
        else watch.reconcile_every_hours,
        keep_load_packages=int(watch.keep_load_packages),
    )
