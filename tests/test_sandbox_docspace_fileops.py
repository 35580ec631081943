"""The DocSpace emulator's file operations: asynchronous, with the server's three conflict modes.

Behaviour from FileMoveCopyOperation.MoveOrCopyFoldersAsync and
FileOperationsManagerHolder.GetOperationResults (DocSpace-server v3.7.2).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.sandbox_docspace_api import DocSpaceApi


@pytest.fixture
def api(docspace_service) -> DocSpaceApi:
    docspace_service.emulator.fileop_seconds = 0.2
    return DocSpaceApi(docspace_service)


def _move(api: DocSpaceApi, folder_id: int, dest_id: int, mode: str, **extra: Any) -> list[dict]:
    body = {
        "folderIds": [folder_id],
        "fileIds": [],
        "destFolderId": dest_id,
        "conflictResolveType": mode,
        "deleteAfter": False,
        **extra,
    }
    return api.ok(api.put("/files/fileops/move", body))


def _moved(api: DocSpaceApi, folder_id: int, dest_id: int, mode: str) -> None:
    _move(api, folder_id, dest_id, mode)
    api.emulator.finish_file_operations()


def test_a_move_is_queued_and_the_folder_moves_when_the_operation_runs(api: DocSpaceApi) -> None:
    source, target = api.emulator.add_room("Source"), api.emulator.add_room("Target")
    folder = api.emulator.add_folder(source, "Task")
    [op] = _move(api, folder.id, target.id, "Skip", returnSingleOperation=True)
    assert (op["status"], op["finished"]) == (0, False)
    assert api.emulator.folder(folder.id).parent_id == source.id
    time.sleep(0.25)
    [done] = api.ok(api.get("/files/fileops", id=op["id"]))
    assert (done["status"], done["finished"], done["error"]) == (2, True, "")
    assert api.emulator.folder(folder.id).parent_id == target.id


def test_a_running_operation_reports_status_one(api: DocSpaceApi) -> None:
    api.emulator.fileop_seconds = 2.0  # created for the first half, running for the second
    room = api.create_room("Room")
    op = api.ok(api.put(f"/files/rooms/{room['id']}/archive", {}))
    time.sleep(1.1)
    [running] = api.ok(api.get("/files/fileops", id=op["id"]))
    assert (running["status"], running["finished"]) == (1, False)


def test_a_finished_operation_is_listed_once_then_gone(api: DocSpaceApi) -> None:
    room = api.create_room("Room")
    op = api.ok(api.put(f"/files/rooms/{room['id']}/archive", {"deleteAfter": False}))
    api.emulator.finish_file_operations()
    assert [o["id"] for o in api.ok(api.get("/files/fileops"))] == [op["id"]]
    assert api.ok(api.get("/files/fileops")) == []


def test_a_finished_operation_sent_with_delete_after_is_never_listed(api: DocSpaceApi) -> None:
    room = api.create_room("Room")
    api.ok(api.put(f"/files/rooms/{room['id']}/archive", {"deleteAfter": True}))
    api.emulator.finish_file_operations()
    assert api.ok(api.get("/files/fileops")) == []
    assert api.emulator.rooms("archive")[0].id == room["id"]


def test_the_move_reply_lists_every_move_of_the_user_unless_one_is_asked_for(
    api: DocSpaceApi,
) -> None:
    source, target = api.emulator.add_room("Source"), api.emulator.add_room("Target")
    one, two = api.emulator.add_folder(source, "One"), api.emulator.add_folder(source, "Two")
    _move(api, one.id, target.id, "Skip")
    assert len(_move(api, two.id, target.id, "Skip")) == 2
    three = api.emulator.add_folder(source, "Three")
    assert len(_move(api, three.id, target.id, "Skip", returnSingleOperation=True)) == 1


def test_duplicate_resent_for_a_folder_already_there_copies_it_and_deletes_the_original(
    api: DocSpaceApi,
) -> None:
    source, target = api.emulator.add_room("Source"), api.emulator.add_room("Target")
    folder = api.emulator.add_folder(source, "Task")
    api.emulator.add_file(folder, "Notes.docx")
    _moved(api, folder.id, target.id, "Duplicate")
    _moved(api, folder.id, target.id, "Duplicate")  # the re-sent move
    [copy] = api.emulator.folders(target.id)
    assert copy.title == "Task (1)" and copy.id != folder.id
    assert [f.title for f in api.emulator.files(copy.id)] == ["Notes.docx"]
    assert api.get(f"/files/folder/{folder.id}").status_code == 404


def test_skip_resent_for_a_folder_already_there_does_nothing(api: DocSpaceApi) -> None:
    source, target = api.emulator.add_room("Source"), api.emulator.add_room("Target")
    folder = api.emulator.add_folder(source, "Task")
    _moved(api, folder.id, target.id, "Skip")
    _moved(api, folder.id, target.id, "Skip")
    assert [(f.id, f.title) for f in api.emulator.folders(target.id)] == [(folder.id, "Task")]


def test_skip_next_to_a_same_titled_folder_merges_into_it(api: DocSpaceApi) -> None:
    source, target = api.emulator.add_room("Source"), api.emulator.add_room("Target")
    folder = api.emulator.add_folder(source, "Task")
    api.emulator.add_file(folder, "Notes.docx")
    theirs = api.emulator.add_folder(target, "Task")
    _moved(api, folder.id, target.id, "Skip")
    assert [f.id for f in api.emulator.folders(target.id)] == [theirs.id]
    assert [f.title for f in api.emulator.files(theirs.id)] == ["Notes.docx"]
    assert api.emulator.folders(source.id) == []


def test_a_skip_merge_leaves_a_file_the_destination_already_has_and_keeps_its_folder(
    api: DocSpaceApi,
) -> None:
    source, target = api.emulator.add_room("Source"), api.emulator.add_room("Target")
    folder = api.emulator.add_folder(source, "Task")
    api.emulator.add_file(folder, "Notes.docx")
    api.emulator.add_file(folder, "Plan.docx")
    theirs = api.emulator.add_folder(target, "Task")
    api.emulator.add_file(theirs, "Notes.docx")
    _moved(api, folder.id, target.id, "Skip")
    assert [f.title for f in api.emulator.files(folder.id)] == ["Notes.docx"]
    assert api.emulator.folder(folder.id).parent_id == source.id
    assert sorted(f.title for f in api.emulator.files(theirs.id)) == ["Notes.docx", "Plan.docx"]


def test_duplicate_next_to_a_same_titled_folder_is_a_plain_move(api: DocSpaceApi) -> None:
    source, target = api.emulator.add_room("Source"), api.emulator.add_room("Target")
    folder = api.emulator.add_folder(source, "Task")
    api.emulator.add_file(folder, "Notes.docx")
    theirs = api.emulator.add_folder(target, "Task")
    _moved(api, folder.id, target.id, "Duplicate")
    assert {(f.id, f.title) for f in api.emulator.folders(target.id)} == {
        (theirs.id, "Task"),
        (folder.id, "Task"),
    }
    assert [f.title for f in api.emulator.files(folder.id)] == ["Notes.docx"]


def test_a_finished_move_lists_the_destination_and_the_moved_folder(api: DocSpaceApi) -> None:
    source, target = api.emulator.add_room("Source"), api.emulator.add_room("Target")
    folder = api.emulator.add_folder(source, "Task")
    [op] = _move(api, folder.id, target.id, "Skip", returnSingleOperation=True)
    api.emulator.finish_file_operations()
    [done] = api.ok(api.get("/files/fileops", id=op["id"]))
    assert [f["id"] for f in done["folders"]] == [target.id, folder.id]


def test_an_archive_sent_twice_runs_once_in_order(api: DocSpaceApi) -> None:
    room = api.create_room("Room")
    for _ in range(2):
        api.ok(api.put(f"/files/rooms/{room['id']}/archive", {}))
    assert api.emulator.rooms("archive") == []  # still queued
    api.emulator.finish_file_operations()
    assert [r.id for r in api.emulator.rooms("archive")] == [room["id"]]
