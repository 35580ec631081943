"""The DocSpace emulator over real HTTP: envelopes, auth, rooms, folders, archive, tags, file ops."""

from __future__ import annotations

import pytest
import requests

from tests.sandbox_docspace_api import DocSpaceApi


@pytest.fixture
def api(docspace_service) -> DocSpaceApi:
    return DocSpaceApi(docspace_service)


# -- envelope, errors, auth ------------------------------------------------------------


def test_a_success_is_wrapped_in_response_count_links_status(api: DocSpaceApi) -> None:
    response = api.get("/files/rooms")
    body = response.json()
    assert response.status_code == 200
    assert set(body) >= {"response", "count", "links", "status", "statusCode"}
    assert body["status"] == 0 and body["statusCode"] == 200
    assert body["links"] == [{"href": api.base + "/files/rooms", "action": "GET"}]


def test_an_error_uses_the_error_envelope_with_dotnet_type(api: DocSpaceApi) -> None:
    response = api.get("/files/rooms/999999")
    body = response.json()
    assert response.status_code == 404
    assert body["status"] == 1 and body["statusCode"] == 404
    assert set(body["error"]) == {"message", "type", "stack", "hresult"}


def test_a_request_without_api_key_answers_401_with_an_empty_body(api: DocSpaceApi) -> None:
    response = requests.get(api.base + "/files/rooms", timeout=5)
    assert response.status_code == 401
    assert response.content == b""


def test_a_wrong_api_key_answers_401(api: DocSpaceApi) -> None:
    response = requests.get(
        api.base + "/files/rooms", headers={"Authorization": "Bearer sk-wrong"}, timeout=5
    )
    assert response.status_code == 401


def test_the_key_is_only_accepted_as_a_bearer_token(api: DocSpaceApi) -> None:
    key = api.service.credentials["api_key"]
    response = requests.get(api.base + "/files/rooms", headers={"Authorization": key}, timeout=5)
    assert response.status_code == 401


def test_an_unknown_route_answers_404_and_is_logged_as_unknown(api: DocSpaceApi) -> None:
    response = api.get("/files/no-such-endpoint")
    assert response.status_code == 404
    assert [e.path for e in api.emulator.log.unknown_routes()] == [
        "/api/2.0/files/no-such-endpoint"
    ]


# -- rooms and folders ----------------------------------------------------------------


def test_creating_a_room_answers_200_not_201(api: DocSpaceApi) -> None:
    response = api.post("/files/rooms", {"title": "Launch", "roomType": 2})
    assert response.status_code == 200
    assert response.json()["response"]["roomType"] == 2


def test_room_type_is_accepted_by_name_or_number(api: DocSpaceApi) -> None:
    by_name = api.create_room("A", "CustomRoom")
    by_number = api.create_room("B", 5)
    assert by_name["roomType"] == by_number["roomType"] == 5


def test_an_unknown_room_type_is_rejected_with_400(api: DocSpaceApi) -> None:
    assert api.post("/files/rooms", {"title": "A", "roomType": "Kitchen"}).status_code == 400


def test_rooms_and_folders_share_one_id_space(api: DocSpaceApi) -> None:
    room = api.create_room("Room")
    folder = api.create_folder(room["id"], "Folder")
    second = api.create_room("Second")
    assert room["id"] < folder["id"] < second["id"]
    assert len({room["id"], folder["id"], second["id"]}) == 3


def test_duplicate_titles_are_allowed_for_rooms_and_folders(api: DocSpaceApi) -> None:
    first, again = api.create_room("Design"), api.create_room("Design")
    a = api.create_folder(first["id"], "Spec")
    b = api.create_folder(first["id"], "Spec")
    assert first["id"] != again["id"] and a["id"] != b["id"]
    assert len(api.emulator.find("Design", "room")) == 2


def test_a_room_is_read_back_by_id_with_its_tags(api: DocSpaceApi) -> None:
    room = api.create_room("Tagged", tags=["pm-sync", "asana"])
    read = api.ok(api.get(f"/files/rooms/{room['id']}"))
    assert read["title"] == "Tagged" and read["tags"] == ["pm-sync", "asana"]
    assert read["rootFolderType"] == 14


def test_a_folder_cannot_be_created_directly_under_the_rooms_root(api: DocSpaceApi) -> None:
    rooms_root = api.ok(api.get("/files/rooms"))["current"]["id"]
    assert api.post(f"/files/folder/{rooms_root}", {"title": "Loose"}).status_code == 403


def test_a_folder_is_read_renamed_and_deleted_for_good(api: DocSpaceApi) -> None:
    room = api.create_room("Room")
    folder = api.create_folder(room["id"], "Old")
    assert api.ok(api.get(f"/files/folder/{folder['id']}"))["parentId"] == room["id"]
    assert api.ok(api.put(f"/files/folder/{folder['id']}", {"title": "New"}))["title"] == "New"
    ops = api.ok(api.delete(f"/files/folder/{folder['id']}", {"immediately": True}))
    assert isinstance(ops, list) and ops[0]["Operation"] == 2
    assert api.get(f"/files/folder/{folder['id']}").status_code == 404


def test_folder_contents_list_subfolders_and_documents(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Room")
    folder = api.emulator.add_folder(room, "Specs")
    api.emulator.add_file(room, "Brief.docx")
    content = api.ok(api.get(f"/files/{room.id}"))
    assert [f["id"] for f in content["folders"]] == [folder.id]
    assert [f["title"] for f in content["files"]] == ["Brief.docx"]
    assert content["total"] == 2
    assert [p["id"] for p in content["pathParts"]][-1] == room.id


def test_folder_contents_are_paged_by_count_and_start_index(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Big")
    for i in range(7):
        api.emulator.add_folder(room, f"F{i}")
    pages = [api.ok(api.get(f"/files/{room.id}", count=3, startIndex=s)) for s in (0, 3, 6)]
    titles = [f["title"] for page in pages for f in page["folders"]]
    assert sorted(titles) == [f"F{i}" for i in range(7)]
    assert [p["count"] for p in pages] == [3, 3, 1] and pages[0]["total"] == 7


# -- archive --------------------------------------------------------------------------


def test_an_archived_room_rejects_edits_with_403(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Old project", archived=True)
    response = api.put(f"/files/rooms/{room.id}", {"title": "Renamed"})
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "System.InvalidOperationException"


def test_an_archived_room_rejects_new_folders_with_403(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Old project", archived=True)
    assert api.post(f"/files/folder/{room.id}", {"title": "Task"}).status_code == 403


def test_renaming_a_missing_room_answers_403_invalid_operation(api: DocSpaceApi) -> None:
    response = api.put("/files/rooms/424242", {"title": "Ghost"})
    assert response.status_code == 403


def test_archive_moves_the_room_and_is_harmless_to_repeat(api: DocSpaceApi) -> None:
    room = api.create_room("Project")
    for _ in range(2):
        op = api.ok(api.put(f"/files/rooms/{room['id']}/archive", {"deleteAfter": False}))
        assert op["error"] == ""
    api.emulator.finish_file_operations()  # file operations run in the background
    assert [r.id for r in api.emulator.rooms("archive")] == [room["id"]]
    assert api.ok(api.get(f"/files/rooms/{room['id']}"))["rootFolderType"] == 20


def test_unarchive_brings_the_room_back_and_is_harmless_to_repeat(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Project", archived=True)
    for _ in range(2):
        api.ok(api.put(f"/files/rooms/{room.id}/unarchive", {}))
    api.emulator.finish_file_operations()  # file operations run in the background
    assert [r.id for r in api.emulator.rooms("active")] == [room.id]


def test_deleting_a_room_removes_it_with_its_folders(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Gone")
    api.emulator.add_folder(room, "Task")
    api.ok(api.delete(f"/files/rooms/{room.id}", {"deleteAfter": False}))
    assert api.emulator.count_rooms() == 0 and api.emulator.count_folders() == 0


# -- tags -------------------------------------------------------------------------------


def test_updating_a_room_with_tags_replaces_the_whole_set(api: DocSpaceApi) -> None:
    room = api.create_room("Room", tags=["a", "b"])
    updated = api.ok(api.put(f"/files/rooms/{room['id']}", {"tags": ["c"]}))
    assert updated["tags"] == ["c"]


def test_put_tags_adds_without_duplicates(api: DocSpaceApi) -> None:
    room = api.create_room("Room", tags=["a"])
    updated = api.ok(api.put(f"/files/rooms/{room['id']}/tags", {"names": ["a", "b"]}))
    assert updated["tags"] == ["a", "b"]


def test_delete_tags_removes_only_the_named_tags(api: DocSpaceApi) -> None:
    room = api.create_room("Room", tags=["a", "b", "c"])
    updated = api.ok(api.delete(f"/files/rooms/{room['id']}/tags", {"names": ["b", "zz"]}))
    assert updated["tags"] == ["a", "c"]


def test_an_archived_room_refuses_tag_edits_with_403(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Room", archived=True)
    assert api.put(f"/files/rooms/{room.id}/tags", {"names": ["x"]}).status_code == 403


def test_tags_are_listed_portal_wide(api: DocSpaceApi) -> None:
    api.create_room("One", tags=["pm-sync"])
    api.create_room("Two", tags=["asana", "pm-sync"])
    assert api.ok(api.get("/files/tags")) == ["pm-sync", "asana"]


# -- file operations ----------------------------------------------------------------------


def test_moving_a_folder_takes_its_subfolders_and_documents(api: DocSpaceApi) -> None:
    emulator = api.emulator
    source, target = emulator.add_room("Source"), emulator.add_room("Target")
    task = emulator.add_folder(source, "Task")
    emulator.add_file(task, "Notes.docx")
    emulator.add_file(emulator.add_folder(task, "Subtask"), "Spec.docx")
    ops = api.ok(
        api.put(
            "/files/fileops/move",
            {
                "folderIds": [task.id],
                "fileIds": [],
                "destFolderId": target.id,
                "conflictResolveType": "Skip",
                "deleteAfter": True,
            },
        )
    )
    assert ops[0]["error"] == ""
    emulator.finish_file_operations()  # file operations run in the background
    assert emulator.tree(target.id) == {
        "Task": {"Subtask": {"Spec.docx": None}, "Notes.docx": None}
    }
    assert emulator.tree(source.id) == {}


def test_a_finished_file_operation_vanishes_once_read(api: DocSpaceApi) -> None:
    room = api.create_room("Room")
    op = api.ok(api.put(f"/files/rooms/{room['id']}/archive", {}))
    api.emulator.finish_file_operations()  # file operations run in the background
    first = api.ok(api.get("/files/fileops", id=op["id"]))
    assert first[0]["finished"] is True
    assert api.ok(api.get("/files/fileops", id=op["id"])) == []


def test_an_unfinished_file_operation_stays_listed(api: DocSpaceApi) -> None:
    api.emulator.fileop_seconds = 60
    room = api.create_room("Room")
    op = api.ok(api.put(f"/files/rooms/{room['id']}/archive", {}))
    for _ in range(2):
        assert api.ok(api.get("/files/fileops", id=op["id"]))[0]["finished"] is False


def test_moving_into_an_archived_room_reports_the_error_in_the_operation(api: DocSpaceApi) -> None:
    api.emulator.fileop_seconds = 0  # the operation runs inside the request
    source = api.emulator.add_room("Source")
    folder = api.emulator.add_folder(source, "Task")
    archived = api.emulator.add_room("Old", archived=True)
    ops = api.ok(
        api.put("/files/fileops/move", {"folderIds": [folder.id], "destFolderId": archived.id})
    )
    assert ops[0]["error"] and ops[0]["finished"] is True
    assert api.emulator.folders(source.id)[0].id == folder.id


def test_a_folder_cannot_be_moved_into_its_own_subfolder(api: DocSpaceApi) -> None:
    api.emulator.fileop_seconds = 0  # the operation runs inside the request
    room = api.emulator.add_room("Room")
    outer = api.emulator.add_folder(room, "Outer")
    inner = api.emulator.add_folder(outer, "Inner")
    ops = api.ok(
        api.put("/files/fileops/move", {"folderIds": [outer.id], "destFolderId": inner.id})
    )
    assert ops[0]["error"]
    assert api.emulator.folder(outer.id).parent_id == room.id


def test_the_state_api_reports_sibling_duplicates_by_path(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Launch #1")
    api.emulator.add_folder(room, "Design")
    api.emulator.add_folder(room, "Design")
    api.emulator.add_folder(room, "Task #2")
    assert api.emulator.duplicate_titles() == ["/Launch #1/Design"]


def test_creating_a_folder_under_a_missing_parent_answers_403_invalid_operation(
    docspace_service,
) -> None:
    from tests.sandbox_docspace_api import DocSpaceApi

    api = DocSpaceApi(docspace_service)
    room = api.create_room("Gone soon")
    api.emulator.delete(room["id"])
    response = api.post(f"/files/folder/{room['id']}", {"title": "Task"})
    assert response.status_code == 403
    assert response.json()["error"]["type"] == "System.InvalidOperationException"
    assert api.get(f"/files/folder/{room['id']}").status_code == 404
