"""Settings declared as dlt configspecs: read in exactly their sections, decoded from the
environment as before, wrong values worded naming the key (issue 19 §1)."""

from __future__ import annotations

import pytest

from docspace_destination.settings import load_opt_in_settings, load_settings
from pm_runtime.errors import ConfigurationError

DS = "DESTINATION__DOCSPACE__"


@pytest.fixture
def env(workspace, monkeypatch):
    return monkeypatch.setenv


def _settings(source: str = "asana"):
    return load_settings(source, need_credentials=False)


def test_a_source_table_overrides_the_shared_one_key_by_key(env):
    env(DS + "LAYOUT", "grouped")
    env(DS + "SUBTASKS", "skip")
    env(DS + "ASANA__LAYOUT", "flat")
    asana, trello = _settings("asana").mapping, _settings("trello").mapping
    assert (asana.layout, asana.subtasks) == ("flat", "skip")
    assert (trello.layout, trello.subtasks) == ("grouped", "skip")


def test_keys_outside_destination_docspace_are_not_docspace_settings(env):
    """dlt would fall back to `destination.layout` and to a bare `LAYOUT`; we do not."""
    for name, value in {
        "LAYOUT": "grouped",
        "DESTINATION__LAYOUT": "grouped",
        "PRIVATE": "not a flag",
        "ROOM_TITLE": "{nme}",
        "API_KEY": "someone-elses-key",
        "CONCURRENCY": "",
    }.items():
        env(name, value)
    settings = _settings()
    assert settings.mapping.layout == "flat"
    assert settings.mapping.room_title == "{name}"
    assert settings.apply.private is False
    assert settings.apply.concurrency == 8
    assert settings.api_key == ""


def test_environment_strings_are_decoded_as_before(env):
    env(DS + "TAGS", '["a", "b"]')
    env(DS + "PRIVATE", "yes")
    env(DS + "CONCURRENCY", "4")
    env(DS + "ARCHIVED_PROJECTS", " Mirror ")
    env(DS + "ROOM_TYPE", "5")
    settings = _settings()
    assert settings.apply.room_tags == ["a", "b"]
    assert settings.apply.private is True
    assert settings.apply.concurrency == 4
    assert settings.archived_projects == "mirror"
    assert settings.apply.room_type == 5


def test_tags_may_be_given_comma_separated(env):
    env(DS + "TAGS", "synced, asana")
    assert _settings().apply.room_tags == ["synced", "asana"]


def test_an_empty_text_is_a_mistake_and_an_empty_number_the_default(env):
    env(DS + "MAX_WRITES", "")
    assert _settings().apply.max_writes == 9000
    env(DS + "ASANA__LAYOUT", "")
    with pytest.raises(ConfigurationError) as raised:
        _settings()
    assert str(raised.value) == (
        "destination.docspace.layout must not be empty (leave it out for the default)"
    )


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("PRIVATE", "maybe", "destination.docspace.private must be true or false, got 'maybe'"),
        (
            "CONCURRENCY",
            "8.5",
            "destination.docspace.concurrency must be a whole number, got '8.5'",
        ),
        (
            "SUBTASKS",
            "all",
            'destination.docspace.subtasks must be one of "nested" | "skip", got \'all\'',
        ),
        ("TAGS", "[oops", "destination.docspace.tags must be a list of strings, got '[oops'"),
        (
            "ATTACHMENT_MAX_MB",
            "0",
            "destination.docspace.attachment_max_mb must be at least 1, got 0",
        ),
    ],
)
def test_a_wrong_value_is_one_line_naming_the_key(env, key, value, said):
    env(DS + key, value)
    with pytest.raises(ConfigurationError) as raised:
        _settings()
    assert str(raised.value) == said


def test_the_opt_in_steps_take_a_role_one_by_one_over_the_table(env):
    env(DS + "SYNC_MEMBERS", "no")
    assert load_opt_in_settings("asana").sync_members == "off"
    env(DS + "SYNC_MEMBERS", "Add")
    env(DS + "ROLE_MAP", '{"owner": "Editing", "member": 10}')
    env(DS + "TRELLO__ROLE_MAP__MEMBER", "Read")
    assert load_opt_in_settings("asana").role_map["member"] == 10
    assert load_opt_in_settings("trello").role_map["member"] == 2


def test_staging_reads_only_its_own_section(env):
    from pm_runtime.staging_config import staging_config

    env("DESTINATION", "oracle")  # a bare key is not [staging] destination
    env("LOCK_TIMEOUT", "soon")
    env("STAGING__DUCKDB_MEMORY_LIMIT", "1GB")
    config = staging_config()
    assert (config.destination, config.lock_timeout, config.duckdb_memory_limit) == (
        "duckdb",
        60.0,
        "1GB",
    )
    env("STAGING__DESTINATION", "oracle")
    with pytest.raises(ConfigurationError) as raised:
        staging_config()
    assert str(raised.value) == (
        'staging.destination must be one of "duckdb" | "postgres" | "motherduck", got \'oracle\''
    )


def test_a_secret_is_named_but_never_shown(env):
    from asana_source.config import asana_api_config

    env("SOURCES__ASANA__ACCESS_TOKEN", "2/1234567890/secret-token")
    env("SOURCES__ASANA__BASE_URL", "https://app.asana.com/api/1.0")
    assert asana_api_config().access_token == "2/1234567890/secret-token"
    assert "secret-token" not in repr(asana_api_config())


def test_the_known_keys_and_the_flags_defaults_come_from_the_configspecs(workspace):
    from docspace_destination.config import DocSpaceConfiguration, OptInStepsConfiguration
    from pipelines.flags import build_parser
    from pipelines.preflight import unknown_settings

    every_key = {
        f"{DS}{name.upper()}": "x"
        for spec in (DocSpaceConfiguration, OptInStepsConfiguration)
        for name in spec.get_resolvable_fields()
    }
    assert unknown_settings({}, every_key) == []
    assert unknown_settings({}, {DS + "LAYUOT": "x"}) == [
        "unknown setting destination.docspace.layuot (did you mean layout?): it is ignored"
    ]
    text = " ".join(build_parser("asana").format_help().split())
    assert f"(default {DocSpaceConfiguration.max_writes};" in text
    assert f"(default {DocSpaceConfiguration.concurrency};" in text


def test_settings_resolve_at_once_in_the_threads_of_one_dlt_pool(workspace):
    """dlt's load runs our destination in pool threads that share one configuration context;
    the staging opener reads [staging] there on every transaction."""
    import threading

    from docspace_destination.config import docspace_config
    from pm_runtime.staging_config import staging_config

    failures: list[str] = []

    def resolve() -> None:
        try:
            for _ in range(30):
                staging_config()
                docspace_config("asana")
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            failures.append(type(exc).__name__)

    threads = [threading.Thread(target=resolve, name=f"dlt-pool-9-{i}") for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
