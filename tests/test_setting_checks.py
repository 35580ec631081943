"""The per-setting rules: value in, one line naming the key out (None when the value fits)."""

from __future__ import annotations

import pytest

from pm_runtime.setting_checks import (
    closest,
    number_problem,
    portal_root_problem,
    template_problem,
    unknown_key_warnings,
    whole_number_problem,
)

FIELDS = ("name", "id", "gid", "team")


@pytest.mark.parametrize("template", ["{name}", "{name} ({gid})", "[{team}] {name}", "Fixed"])
def test_a_template_using_the_offered_fields_fits(template):
    assert template_problem("k.room_title", template, FIELDS) is None


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("{nam}", "did you mean {name}"),
        ("{title}", "unknown field {title}"),
        ("{name", "not a valid template"),
        ("{0}", "positional"),
        ("{}", "positional"),
        ("{name.upper}", "unknown field {name.upper}"),
        ("", "must be a title template"),
    ],
)
def test_a_bad_template_is_named_with_its_key(template, said):
    problem = template_problem("k.room_title", template, FIELDS)
    assert problem is not None and problem.startswith("k.room_title") and said in problem


@pytest.mark.parametrize(
    ("value", "ok"), [(8, True), ("8", True), (8.5, False), ("abc", False), (True, False)]
)
def test_whole_numbers(value, ok):
    assert (whole_number_problem("k.concurrency", value) is None) is ok


def test_a_number_must_be_above_its_floor_and_the_key_is_named():
    assert number_problem("watch.asana_quota", 150, above=0) is None
    assert "watch.asana_quota must be more than 0" in number_problem(
        "watch.asana_quota", 0, above=0
    )
    assert "'abc'" in number_problem("watch.asana_quota", "abc", above=0)


@pytest.mark.parametrize(
    "url", ["https://p.example.com", "https://p.example.com/", "https://p.example.com/api/2.0"]
)
def test_the_portal_root_fits(url):
    assert portal_root_problem("k.base_url", url) is None


def test_a_page_under_the_portal_is_not_its_root():
    problem = portal_root_problem("k.base_url", "https://p.example.com/some/path")
    assert "portal root" in problem and "https://p.example.com" in problem


def test_an_unknown_key_is_warned_about_with_the_closest_known_one():
    found = {"destination.docspace": ["layuot", "layout"]}
    known = {"destination.docspace": {"layout", "subtasks"}}
    assert unknown_key_warnings(found, known) == [
        "unknown setting destination.docspace.layuot (did you mean layout?): it is ignored"
    ]
    assert closest("zzz", {"layout"}) is None


def test_the_shipped_config_and_its_documented_keys_raise_no_unknown_key_warning():
    """Every key `.dlt/config.toml` ships (and documents in comments) is a key the tool reads."""
    import re
    from pathlib import Path

    from pipelines.preflight import read_toml, unknown_settings

    path = Path(__file__).resolve().parents[1] / ".dlt" / "config.toml"
    assert unknown_settings(read_toml(path), {}) == []
    # keys shown commented out (`# key = value`) under our sections are known too
    section, documented = None, {}
    for line in path.read_text().splitlines():
        if m := re.match(r"^\[([\w.]+)\]", line):
            section = m.group(1)
        elif section and (m := re.match(r"^#\s*([a-z_]+)\s*=", line)):
            documented.setdefault(section, {})[m.group(1)] = "x"
    nested: dict = {}
    for name, keys in documented.items():
        node = nested
        for part in name.split("."):
            node = node.setdefault(part, {})
        node.update(keys)
    assert unknown_settings(nested, {}) == []


def test_the_demo_checks_settings_before_it_loads_anything(tmp_path) -> None:
    """`--sandbox` checks the settings against its emulators first, as a real run does."""
    import subprocess

    from tests.demo_clone import _clean_environment, clone_project

    root = clone_project(tmp_path / "clone")
    done = subprocess.run(
        [".venv/bin/python", "pipelines/asana_to_docspace.py", "--sandbox"],
        cwd=root,
        env=_clean_environment({"DESTINATION__DOCSPACE__ROOM_TYPE": "99"}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith(
        "error: destination.docspace.room_type: '99' is not a DocSpace room type"
    )
    assert "Asana → DuckDB" not in done.stdout and "Traceback" not in done.stdout + done.stderr
