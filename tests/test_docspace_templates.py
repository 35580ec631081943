"""Rooms from templates chosen by project type, through the single template job slot of the portal."""

from __future__ import annotations

import json

import pytest

from tests.sync_world import AsanaWorld, duplicates

RULES = [
    {"custom_field": "Project type", "equals": "Marketing", "template": "Marketing room"},
    {"custom_field": "Project type", "equals": "Engineering", "template": "Engineering room"},
    {"team": "Design team", "template": "Design room"},
    {"custom_field": "Project type", "equals": "Research", "template": "Research room"},  # missing
]


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DESTINATION__DOCSPACE__ROOM_TEMPLATES", json.dumps(RULES))
    a, d = sandbox.asana.emulator, sandbox.docspace.emulator
    ws = a.add_workspace("Acme")
    design_team = a.add_team("Design team", ws)
    ptype = a.add_custom_field("Project type", ws, "enum", ["Marketing", "Engineering", "Research"])

    def project(name, kind=None, team=None):
        fields = {ptype: a.enum_option(ptype, kind)} if kind else {}
        gid = a.add_project(name, ws, team=team, custom_fields=fields)
        a.add_task("Design", [(gid, None)])
        return gid

    w = AsanaWorld(sandbox)
    w.ids = {
        "launch": project("Launch", "Marketing"),
        "api": project("API", "Engineering"),
        "brand": project("Brand", team=design_team),
        "study": project("Study", "Research"),
        "misc": project("Misc"),
    }
    d.add_template("Marketing room", folders=["Briefs", "Design"], files={"Briefs": ["brief.docx"]})
    d.add_template("Engineering room", folders=["Specs"])
    d.add_template("Design room")
    return w


def test_each_project_type_gets_the_room_template_its_rule_names(world):
    world.run()
    tree = world.tree()
    assert tree["Launch"] == {"Briefs": {"brief.docx": None}, "Design": {}}
    assert tree["API"] == {"Specs": {}, "Design": {}}
    assert tree["Brand"] == {"Design": {}}
    assert tree["Misc"] == {"Design": {}}
    assert world.sb.docspace.log.count("POST", "/files/rooms/fromtemplate") == 3
    assert world.sb.docspace.log.count("POST", "/files/rooms") == 1  # Misc: no rule, a plain room
    assert world.sb.docspace.log.unknown_routes() == []


def test_a_rule_naming_a_missing_template_is_reported_and_nothing_is_made_for_that_project(world):
    run = world.run()
    assert run.code == 1
    assert "'Research room' does not exist" in run.output
    assert "Study" not in world.tree()


def test_plan_shows_creates_from_templates_and_the_missing_template(world):
    plan = world.run("--plan")
    assert plan.code == 2
    assert "create from template" in plan.output
    assert "'Research room' does not exist" in plan.output
    assert world.writes() == 0


def test_a_template_folder_titled_like_a_task_is_adopted_not_duplicated(world):
    world.run()
    assert duplicates(world.docspace) == []
    assert list(world.tree()["Launch"]).count("Design") == 1


def test_a_run_while_another_clients_template_job_runs_still_makes_exactly_the_right_rooms(world):
    world.docspace.start_template_job_externally(title="Someone else's room", duration=0.5)
    world.run()
    tree = world.tree()
    assert {"Launch", "API", "Brand", "Misc", "Someone else's room"} == set(tree)
    assert tree["Launch"] == {"Briefs": {"brief.docx": None}, "Design": {}}
    assert duplicates(world.docspace) == []


def test_template_jobs_are_polled_until_complete_and_run_one_at_a_time(world):
    world.run()
    log = world.sb.docspace.log
    assert log.count("GET", "/files/rooms/fromtemplate/status") >= 3
    starts = [
        e for e in log.entries if e.route == "/files/rooms/fromtemplate" and e.method == "POST"
    ]
    assert len(starts) == 3


def test_rerun_adds_no_rooms_and_writes_nothing(world):
    world.run()
    before = world.writes()
    world.run()
    assert world.writes() == before
