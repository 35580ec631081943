"""End to end: with `sync_members` the real command line gives project members access to their room."""

from __future__ import annotations

import pytest

from docspace_destination.client import DocSpaceClient
from sandbox import DOCSPACE_API_KEY
from sandbox.trello_sample import populate_trello
from tests.sync_world import AsanaWorld

OWNER = "admin@sandbox.example"  # the DocSpace account of the API key: owner of every room it makes
SHARE = "/files/rooms/{id:int}/share"


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    """Alpha: owner Ada, members Ada, Grace, Alan, Nobody (no DocSpace account); Beta: Grace."""
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DESTINATION__DOCSPACE__SYNC_MEMBERS", "add")
    w = AsanaWorld(sandbox)
    a = w.asana
    ws = a.add_workspace("Acme")
    people = {
        name: a.add_user(name.title(), f"{name}@example.com", ws)
        for name in ("ada", "grace", "alan", "nobody")
    }
    w.ids.update(ws=ws, **people)
    w.ids["alpha"] = a.add_project(
        "Alpha",
        ws,
        owner=people["ada"],
        members=[people["ada"], people["grace"], people["alan"], people["nobody"]],
    )
    w.ids["beta"] = a.add_project("Beta", ws, owner=people["grace"], members=[people["grace"]])
    a.add_task("Design", [(w.ids["alpha"], None)])
    for name in ("ada", "grace", "alan"):
        w.docspace.add_user(f"{name}@example.com", name.title())
    return w


def shares(world: AsanaWorld, room: str) -> dict[str, int]:
    return world.docspace.shares(world.docspace.find_room(room).id)


def share_puts(world: AsanaWorld) -> int:
    return world.sb.docspace.log.count("PUT", SHARE)


def test_members_with_a_docspace_account_are_invited_with_the_mapped_access(world):
    run = world.run()
    assert run.code == 0, run.output
    assert shares(world, "Alpha") == {
        OWNER: 9,
        "ada@example.com": 9,  # project owner → Room manager
        "grace@example.com": 11,  # members → Content creator
        "alan@example.com": 11,
    }
    assert shares(world, "Beta") == {OWNER: 9, "grace@example.com": 9}
    assert "members     invited 4" in run.output


def test_invitations_count_against_max_writes_and_the_rest_wait_for_the_next_run(world):
    # 3 creates (Alpha, Beta, Design) leave 1 write of 4: Alpha's invitations; Beta's wait
    run = world.run("--max-writes", "4")
    assert run.code == 0, run.output
    assert world.sb.docspace.log.writes() == 4
    assert "grace@example.com" in shares(world, "Alpha")
    assert shares(world, "Beta") == {OWNER: 9}
    assert "deferred 1" in run.output
    run = world.run("--sync-only", "--max-writes", "4")
    assert run.code == 0, run.output
    assert shares(world, "Beta") == {OWNER: 9, "grace@example.com": 9}


def test_sync_members_is_off_by_default(world, monkeypatch):
    monkeypatch.delenv("DESTINATION__DOCSPACE__SYNC_MEMBERS")
    assert world.run().code == 0
    assert shares(world, "Alpha") == {OWNER: 9}
    assert world.sb.docspace.log.count(route="/people*") == 0


def test_a_rerun_sends_no_second_invitation(world):
    world.run()
    puts = share_puts(world)
    run = world.run("--sync-only")
    assert run.code == 0, run.output
    assert share_puts(world) == puts
    assert "invited 0" in run.output


def test_people_without_a_docspace_account_are_listed_and_not_invited(world):
    run = world.run()
    assert run.code == 0, run.output
    assert "people with no DocSpace account (1, not invited):" in run.output
    assert "nobody@example.com (Alpha)" in run.output
    assert world.docspace.user_by_email("nobody@example.com") is None


def test_invite_unknown_invites_people_without_an_account_by_email(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__INVITE_UNKNOWN", "true")
    assert world.run().code == 0
    assert shares(world, "Alpha")["nobody@example.com"] == 11
    puts = share_puts(world)
    assert world.run("--sync-only").code == 0
    assert share_puts(world) == puts


def test_mirror_removes_a_member_who_left_the_project(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__SYNC_MEMBERS", "mirror")
    world.run()
    world.asana.set_project_members(world.ids["alpha"], [world.ids["ada"], world.ids["alan"]])
    run = world.run()
    assert run.code == 0, run.output
    assert shares(world, "Alpha") == {OWNER: 9, "ada@example.com": 9, "alan@example.com": 11}
    assert "removed 1" in run.output


def test_mirror_never_removes_the_rooms_owner(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__SYNC_MEMBERS", "mirror")
    owner = world.asana.add_user("Admin", OWNER, world.ids["ws"])
    world.asana.set_project_members(world.ids["alpha"], [owner, world.ids["grace"]])
    world.run()
    world.asana.set_project_members(world.ids["alpha"], [])
    assert world.run().code == 0
    assert shares(world, "Alpha") == {OWNER: 9, "ada@example.com": 9}  # Ada still owns the project


def test_add_mode_never_removes(world):
    world.run()
    world.asana.set_project_members(world.ids["alpha"], [world.ids["ada"]])
    assert world.run().code == 0
    assert set(shares(world, "Alpha")) == {
        OWNER,
        *(f"{n}@example.com" for n in ("ada", "grace", "alan")),
    }


def test_mirror_leaves_people_a_human_shared_the_room_with(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__SYNC_MEMBERS", "mirror")
    world.run()
    pat = world.docspace.add_user("pat@example.com", "Pat")
    room = world.docspace.find_room("Alpha")
    client = DocSpaceClient(world.sb.docspace.root_url, DOCSPACE_API_KEY)
    client.call(
        "PUT", f"/files/rooms/{room.id}/share", body={"invitations": [{"id": pat.id, "access": 2}]}
    )
    client.close()
    world.asana.set_project_members(world.ids["alpha"], [world.ids["ada"]])
    assert world.run().code == 0
    assert shares(world, "Alpha") == {OWNER: 9, "ada@example.com": 9, "pat@example.com": 2}


def test_role_map_takes_names_or_numbers(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__ROLE_MAP", '{"owner": "Room manager", "member": 10}')
    assert world.run().code == 0
    assert shares(world, "Alpha")["grace@example.com"] == 10  # Editing


def test_a_role_the_room_type_does_not_allow_is_a_clear_error_before_any_write(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__ROLE_MAP__MEMBER", "Review")
    run = world.run()
    assert run.code == 1
    last = run.output.strip().splitlines()[-1]
    assert last.startswith("error: destination.docspace.role_map.member: Review (5)")
    assert "type 2" in last and "ContentCreator (11)" in last
    assert world.writes() == 0


def test_a_bad_sync_members_value_names_the_key(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__SYNC_MEMBERS", "everyone")
    run = world.run()
    assert run.code == 1
    assert "destination.docspace.sync_members must be one of" in run.output


def test_trello_board_members_are_invited_by_their_board_role(workspace, sandbox, monkeypatch):
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DESTINATION__DOCSPACE__SYNC_MEMBERS", "mirror")
    t = sandbox.trello.emulator
    populate_trello(t, boards=1, cards_per_board=1, seed=0)
    board = next(iter(t.boards.values()))
    world = AsanaWorld(sandbox)
    roles = {m["idMember"]: m["memberType"] for m in board["memberships"]}
    for mid in roles:
        world.docspace.add_user(t.members[mid]["email"], t.members[mid]["fullName"])
    run = world.run(source="trello")
    assert run.code == 0, run.output
    expected = {OWNER: 9}
    for mid, role in roles.items():
        expected[t.members[mid]["email"]] = {"admin": 9, "normal": 11, "observer": 2}[role]
    assert shares(world, board["name"]) == expected
    puts = share_puts(world)
    assert world.run("--sync-only", source="trello").code == 0
    assert share_puts(world) == puts
