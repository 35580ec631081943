"""The DocSpace emulator's folder deletion and Trash, as the server's code does it (v3.7.2):
DELETE files/folder/{id} moves the folder, subtree and all, into the deleting user's Trash
unless `immediately` (FileDeleteOperation); only a Trash's owner may read what is in it
(FileSecurity). See sandbox/docspace_file_edits.py and docs/docspace-behaviour.md.
"""

from __future__ import annotations

import pytest

from tests.sandbox_docspace_api import DocSpaceApi

TRASH = 3  # FolderType.TRASH: the rootFolderType of whatever is in a Trash


@pytest.fixture
def api(docspace_service) -> DocSpaceApi:
    return DocSpaceApi(docspace_service)


@pytest.fixture
def room(api: DocSpaceApi) -> int:
    return api.create_room("Project")["id"]


def test_delete_without_immediately_moves_the_folder_into_the_api_keys_users_trash(
    api: DocSpaceApi, room: int
) -> None:
    folder = api.create_folder(room, "Task")["id"]
    ops = api.ok(api.delete(f"/files/folder/{folder}", {"deleteAfter": False}))
    assert ops[0]["Operation"] == 2
    info = api.ok(api.get(f"/files/folder/{folder}"))
    assert (info["id"], info["title"], info["rootFolderType"]) == (folder, "Task", TRASH)
    assert info["parentId"] != room
    assert api.emulator.folders(room) == []


def test_a_trashed_folder_keeps_its_subfolders_and_files_with_their_ids(
    api: DocSpaceApi, room: int
) -> None:
    folder = api.emulator.add_folder(room, "Task")
    sub = api.emulator.add_folder(folder.id, "Subtask")
    file = api.emulator.add_file(sub.id, "a.txt", b"1")
    api.ok(api.delete(f"/files/folder/{folder.id}"))
    listing = api.ok(api.get(f"/files/{sub.id}"))
    assert [f["id"] for f in listing["files"]] == [file.id]
    assert listing["current"]["rootFolderType"] == TRASH
    assert api.ok(api.get(f"/files/file/{file.id}"))["rootFolderType"] == TRASH


def test_delete_immediately_deletes_the_folder_for_good(api: DocSpaceApi, room: int) -> None:
    folder = api.create_folder(room, "Task")["id"]
    api.ok(api.delete(f"/files/folder/{folder}", {"immediately": True}))
    assert api.get(f"/files/folder/{folder}").status_code == 404


def test_deleting_a_folder_already_in_the_trash_deletes_it_for_good(
    api: DocSpaceApi, room: int
) -> None:
    folder = api.create_folder(room, "Task")["id"]
    api.ok(api.delete(f"/files/folder/{folder}"))
    api.ok(api.delete(f"/files/folder/{folder}"))
    assert api.get(f"/files/folder/{folder}").status_code == 404


def test_a_folder_in_a_colleagues_trash_is_403_to_read_and_to_list(
    api: DocSpaceApi, room: int
) -> None:
    folder = api.emulator.add_folder(room, "Task")
    api.emulator.trash_folder(folder, by="ann@example.com")
    for path in (f"/files/folder/{folder.id}", f"/files/{folder.id}"):
        reply = api.get(path)
        assert reply.status_code == 403, path
        assert reply.json()["error"]["message"] == (
            "You don't have enough permission to view the folder content"
        )
    assert api.emulator.folders(room) == []


def test_trash_folder_puts_it_in_the_api_keys_users_own_trash_by_default(
    api: DocSpaceApi, room: int
) -> None:
    folder = api.emulator.add_folder(room, "Task")
    trash = api.emulator.trash_folder(folder)
    info = api.ok(api.get(f"/files/folder/{folder.id}"))
    assert (info["parentId"], info["rootFolderType"]) == (trash.id, TRASH)


def test_each_user_has_his_own_trash(api: DocSpaceApi, room: int) -> None:
    mine = api.emulator.trash_folder(api.emulator.add_folder(room, "A"))
    theirs = api.emulator.trash_folder(api.emulator.add_folder(room, "B"), by="ann@example.com")
    assert mine.id != theirs.id
    assert api.emulator.trash_folder(api.emulator.add_folder(room, "C")).id == mine.id


def test_no_folder_can_be_created_inside_a_trashed_folder(api: DocSpaceApi, room: int) -> None:
    folder = api.create_folder(room, "Task")["id"]
    api.ok(api.delete(f"/files/folder/{folder}"))
    assert api.post(f"/files/folder/{folder}", {"title": "Subtask"}).status_code == 403


@pytest.mark.parametrize("deleted_by", [None, "ann@example.com"])
def test_a_folder_in_a_trash_cannot_be_renamed(api: DocSpaceApi, room: int, deleted_by) -> None:
    folder = api.emulator.add_folder(room, "Task")
    api.emulator.trash_folder(folder, by=deleted_by)
    reply = api.put(f"/files/folder/{folder.id}", {"title": "Renamed"})
    assert reply.status_code == 403
    assert api.emulator.folder(folder.id).title == "Task"


def move_error(api: DocSpaceApi, folder_id: int, dest_id: int) -> str:
    """The `error` of a finished PUT fileops/move of one folder ("" when it moved)."""
    body = {"folderIds": [folder_id], "destFolderId": dest_id, "returnSingleOperation": True}
    [op] = api.ok(api.put("/files/fileops/move", body))
    api.emulator.finish_file_operations()
    return api.ok(api.get("/files/fileops", id=op["id"]))[0]["error"]


def test_only_the_trashs_owner_can_move_a_folder_out_of_it(api: DocSpaceApi, room: int) -> None:
    mine, theirs = api.emulator.add_folder(room, "Mine"), api.emulator.add_folder(room, "Theirs")
    api.emulator.trash_folder(mine)
    api.emulator.trash_folder(theirs, by="ann@example.com")
    assert move_error(api, mine.id, room) == ""  # the server's restore
    assert move_error(api, theirs.id, room) == "You don't have enough permission to move the folder"
    assert [f.title for f in api.emulator.folders(room)] == ["Mine"]
