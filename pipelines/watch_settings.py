"""Settings of `--watch`, read once: `[watch] <key>` in .dlt/config.toml or WATCH__<KEY>.

A plain frozen dataclass and one reader function, not dlt's `@configspec`: a flag given on the
command line wins over the key, a few keys have per-source names (`asana_quota`,
`sources.asana.reconcile_every_hours`), and the messages of a bad value are the command line's
own (`--interval must be...`), none of which a configspec resolves without wrapping it anyway.
Each key is read here, with its default, and nowhere else.

    interval = 30                  # seconds between looks (--interval)
    api_share = 0.5                # share of each API's quota the watcher may use (--api-share)
    asana_quota / trello_quota     # the source API's requests per window (published quota)
    docspace_quota = 1500          # DocSpace requests per minute
    docspace_writes_per_day = 10000
    reconcile_every_hours = 24     # full extract now and then (Asana: also
                                   # sources.asana.reconcile_every_hours, which wins)
    keep_load_packages = 50        # finished load packages kept per pipeline
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.watch_files import DEFAULT_KEEP
from pm_runtime.errors import UserFacingError
from pm_runtime.setting_checks import number_problem, whole_number_problem

DEFAULT_INTERVAL = 30.0
DEFAULT_API_SHARE = 0.5
DEFAULT_RECONCILE_HOURS = 24.0
# each API's published quota: (requests, per seconds), and DocSpace's daily writes
QUOTAS = {
    "asana": (1500, 60.0, "requests/min"),  # developers.asana.com/docs/rate-limits (paid plans)
    "trello": (
        100,
        10.0,
        "requests/10 s per token",
    ),  # developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits
}
DOCSPACE_QUOTA = (1500, 60.0)  # docs/docspace-behaviour.md, "Rate limits"
DOCSPACE_WRITES_PER_DAY = 10000  # docs/docspace-behaviour.md, "Rate limits"


class WatchSettingsError(UserFacingError):
    """A watch setting out of range; the message is the one line the command line prints."""


@dataclass(frozen=True)
class WatchSettings:
    interval: float
    api_share: float
    source_quota: float
    source_window: float
    source_quota_unit: str
    docspace_quota: float
    docspace_writes_per_day: float
    reconcile_every_hours: float
    keep_load_packages: int


def _number(
    key: str, default: float, *, above: float | None = 0, minimum: float | None = None
) -> float:
    """`[watch]` value of `key` (a number above `above` / at least `minimum`), else `default`."""
    import dlt

    value = dlt.config.get(key)
    if value is None:
        return default
    problem = number_problem(key, value, above=above, minimum=minimum)
    if problem:
        raise WatchSettingsError(problem)
    return float(value)


def _whole(key: str, default: int) -> int:
    import dlt

    value = dlt.config.get(key)
    if value is None:
        return default
    problem = whole_number_problem(key, value, minimum=0)
    if problem:
        raise WatchSettingsError(problem)
    return int(value)


def read_watch_settings(
    source: str, interval: float | None = None, api_share: float | None = None
) -> WatchSettings:
    """The watch settings of `source`; `interval`/`api_share` are the flags (None: not given)."""
    interval = interval if interval is not None else _number("watch.interval", DEFAULT_INTERVAL)
    if interval <= 0:
        raise WatchSettingsError("--interval must be more than 0 seconds")
    share = api_share if api_share is not None else _number("watch.api_share", DEFAULT_API_SHARE)
    if not 0 < share <= 1:
        raise WatchSettingsError("--api-share must be more than 0 and at most 1")
    quota, window, unit = QUOTAS[source]
    reconcile = _number(
        "watch.reconcile_every_hours", DEFAULT_RECONCILE_HOURS, above=None, minimum=0
    )
    if source == "asana":
        reconcile = _number("sources.asana.reconcile_every_hours", reconcile, above=None, minimum=0)
    return WatchSettings(
        interval=interval,
        api_share=share,
        source_quota=_number(f"watch.{source}_quota", quota),
        source_window=window,
        source_quota_unit=unit,
        docspace_quota=_number("watch.docspace_quota", DOCSPACE_QUOTA[0]),
        docspace_writes_per_day=_number("watch.docspace_writes_per_day", DOCSPACE_WRITES_PER_DAY),
        reconcile_every_hours=reconcile,
        keep_load_packages=_whole("watch.keep_load_packages", DEFAULT_KEEP),
    )
