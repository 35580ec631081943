"""Room membership and people in the DocSpace emulator."""

from __future__ import annotations

import pytest

from tests.sandbox_docspace_api import DocSpaceApi


@pytest.fixture
def api(docspace_service) -> DocSpaceApi:
    api = DocSpaceApi(docspace_service)
    api.emulator.add_user("ana@example.com", "Ana Lima")
    api.emulator.add_user("bo@example.com", "Bo Berg")
    return api


def share(api: DocSpaceApi, room_id: int, *invitations: dict):
    return api.put(
        f"/files/rooms/{room_id}/share", {"invitations": list(invitations), "notify": False}
    )


def test_inviting_by_email_makes_the_user_a_member(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Room", "EditingRoom")
    result = api.ok(share(api, room.id, {"email": "ana@example.com", "access": "ContentCreator"}))
    assert [m["sharedToUser"]["email"] for m in result["members"]] == ["ana@example.com"]
    assert api.emulator.shares(room.id)["ana@example.com"] == 11


def test_inviting_by_user_id_makes_the_user_a_member(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Room", "EditingRoom")
    bo = api.emulator.user_by_email("bo@example.com")
    api.ok(share(api, room.id, {"id": bo.id, "access": 9}))
    assert api.emulator.shares(room.id)["bo@example.com"] == 9


def test_an_access_level_the_room_type_does_not_allow_answers_403(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Public", "PublicRoom")  # allows 9 and 11 only
    response = share(api, room.id, {"email": "ana@example.com", "access": "Read"})
    assert response.status_code == 403
    assert "ana@example.com" not in api.emulator.shares(room.id)


def test_access_zero_removes_a_member(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Room", "EditingRoom")
    api.ok(share(api, room.id, {"email": "ana@example.com", "access": 11}))
    api.ok(share(api, room.id, {"email": "ana@example.com", "access": 0}))
    assert "ana@example.com" not in api.emulator.shares(room.id)


def test_the_owner_is_listed_first_and_members_are_paged(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Room", "EditingRoom")
    api.ok(
        share(
            api,
            room.id,
            {"email": "ana@example.com", "access": 11},
            {"email": "bo@example.com", "access": 2},
        )
    )
    first = api.get(f"/files/rooms/{room.id}/share", count=2, startIndex=0).json()
    second = api.ok(api.get(f"/files/rooms/{room.id}/share", count=2, startIndex=2))
    assert first["total"] == 3 and first["response"][0]["isOwner"] is True
    assert [m["sharedToUser"]["email"] for m in second] == ["bo@example.com"]


def test_an_email_without_an_account_is_invited_as_a_pending_guest(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Room", "EditingRoom")
    api.ok(share(api, room.id, {"email": "new@example.com", "access": 2}))
    assert api.emulator.user_by_email("new@example.com").activation == 2
    assert api.emulator.shares(room.id)["new@example.com"] == 2


def test_the_api_key_owner_is_people_self(api: DocSpaceApi) -> None:
    me = api.ok(api.get("/people/@self"))
    assert me["email"] == api.emulator.me.email and me["isAdmin"] is True


def test_a_user_is_found_by_email(api: DocSpaceApi) -> None:
    user = api.ok(api.get("/people/email", email="ANA@example.com"))
    assert user["displayName"] == "Ana Lima"


def test_an_unknown_email_answers_404(api: DocSpaceApi) -> None:
    assert api.get("/people/email", email="nobody@example.com").status_code == 404


def test_people_are_searched_by_filter_value(api: DocSpaceApi) -> None:
    body = api.get("/people", filterValue="berg").json()
    assert [u["email"] for u in body["response"]] == ["bo@example.com"]
    assert body["total"] == 1
