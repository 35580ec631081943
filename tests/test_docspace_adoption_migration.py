"""Migration story: a team that ran a script like ONLYOFFICE's API samples switches to this tool.

The samples (docspace-samples, api-backend/python/samples/manage-rooms.py and
manage-folders.py) create a room by name with POST /api/2.0/files/rooms and a folder by name
with POST /api/2.0/files/folder/{id} — no tags. Below is a tiny re-creation of that loop over
plain HTTP against the sandbox; then our sync runs over the same projects.
"""

from __future__ import annotations

import json
import urllib.request

from sandbox import DOCSPACE_API_KEY
from tests.sync_world import AsanaWorld, duplicates

PROJECTS = {
    "Harbor Relaunch": ["Brief", "Press kit: draft", "Venue"],
    "Q3: Budget": ["Forecast", "Review"],
    "Onboarding": ["Checklist"],
}


def _post(portal: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{portal}/api/2.0{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {DOCSPACE_API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["response"]


def sample_script(portal: str, projects: dict[str, list[str]]) -> None:
    """A room per project, a folder per task, created by name (what the samples show)."""
    for project, tasks in projects.items():
        room = _post(portal, "/files/rooms", {"title": project, "roomType": 2})
        for task in tasks:
            _post(portal, f"/files/folder/{room['id']}", {"title": task})


def test_migration_from_the_sample_scripts_adds_only_marker_tags_then_writes_nothing(
    workspace, staging, sandbox, monkeypatch
):
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    asana, docspace = sandbox.asana.emulator, sandbox.docspace.emulator
    ws = asana.add_workspace("Acme")
    gids = {}
    for project, tasks in PROJECTS.items():
        gids[project] = asana.add_project(project, ws)
        for task in tasks:
            asana.add_task(task, [(gids[project], None)])
    sample_script(sandbox.docspace.root_url, PROJECTS)
    rooms, folders = docspace.count_rooms(), docspace.count_folders()
    tree_before = {r.title: docspace.tree(r.id) for r in docspace.rooms("any")}
    sandbox.docspace.log.clear()

    world = AsanaWorld(sandbox)
    run = world.run()
    assert run.code == 0, run.output
    assert docspace.count_rooms() == rooms == 3
    assert docspace.count_folders() == folders == 6
    writes = [
        f"{e.method} {e.route}"
        for e in sandbox.docspace.log.entries
        if e.method in ("POST", "PUT", "DELETE") and e.outcome == "ok"
    ]
    assert len(writes) == 3 and all(w.endswith("/tags") and w.startswith("PUT") for w in writes)
    # DocSpace stored "Q3: Budget" as "Q3_ Budget": matched on the stored form
    assert {r.title: sorted(r.tags) for r in docspace.rooms("any")} == {
        "Harbor Relaunch": [f"asana:project:{gids['Harbor Relaunch']}"],
        "Q3_ Budget": [f"asana:project:{gids['Q3: Budget']}"],
        "Onboarding": [f"asana:project:{gids['Onboarding']}"],
    }
    assert {r.title: docspace.tree(r.id) for r in docspace.rooms("any")} == tree_before
    assert duplicates(docspace) == []

    before = world.writes()
    again = world.run()
    assert again.code == 0, again.output
    assert world.writes() == before
    assert world.run("--plan").code == 0
