"""`[watch]` settings: a dlt configspec, a flag wins over its key, bad values get one line naming it."""

from __future__ import annotations

import pytest

from pipelines.watch.settings import WatchSettingsError, known_keys, read_watch_settings


def test_the_defaults_are_the_published_quotas_and_a_look_every_30_seconds() -> None:
    s = read_watch_settings("trello")
    assert (s.interval, s.api_share, s.source_quota, s.source_window) == (30.0, 0.5, 100, 10.0)
    assert (s.docspace_quota, s.docspace_writes_per_day, s.keep_load_packages) == (1500, 10000, 50)
    assert s.reconcile_every_hours == 24.0


def test_a_key_sets_a_value_and_a_flag_wins_over_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCH__INTERVAL", "5")
    monkeypatch.setenv("WATCH__ASANA_QUOTA", "150")
    assert read_watch_settings("asana").interval == 5.0
    assert read_watch_settings("asana").source_quota == 150.0
    assert read_watch_settings("asana", interval=2.0).interval == 2.0


def test_the_asana_sources_reconcile_key_wins_over_the_watch_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WATCH__RECONCILE_EVERY_HOURS", "6")
    monkeypatch.setenv("SOURCES__ASANA__RECONCILE_EVERY_HOURS", "2")
    assert read_watch_settings("asana").reconcile_every_hours == 2.0
    assert read_watch_settings("trello").reconcile_every_hours == 6.0


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"interval": 0.0}, "--interval must be more than 0 seconds"),
        ({"api_share": 1.5}, "--api-share must be more than 0 and at most 1"),
    ],
)
def test_an_out_of_range_value_is_one_line_naming_the_flag(flags: dict, message: str) -> None:
    with pytest.raises(WatchSettingsError, match=message):
        read_watch_settings("asana", **flags)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WATCH__API_SHARE": "1.5"}, "watch.api_share must be at most 1, got 1.5"),
        ({"WATCH__DOCSPACE_QUOTA": "abc"}, "watch.docspace_quota must be a number, got 'abc'"),
        ({"WATCH__KEEP_LOAD_PACKAGES": "x"}, "watch.keep_load_packages must be a whole number"),
        ({"SOURCES__ASANA__RECONCILE_EVERY_HOURS": "-2"}, "sources.asana.reconcile_every_hours"),
    ],
)
def test_a_bad_key_is_one_line_naming_the_key(
    env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(WatchSettingsError, match=message):
        read_watch_settings("asana")


def test_only_the_watch_section_sets_a_watch_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERVAL", "3")  # dlt's fallback to a bare key would pick it up
    assert read_watch_settings("trello").interval == 30.0


def test_the_known_keys_are_the_configspecs_fields_and_each_sources_quota() -> None:
    assert known_keys() == {
        "interval",
        "api_share",
        "docspace_quota",
        "docspace_writes_per_day",
        "reconcile_every_hours",
        "keep_load_packages",
        "asana_quota",
        "trello_quota",
    }
