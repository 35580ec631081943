"""The DocSpace emulator's files: same-title rules, titles, upload/check, listing, info, history, download.

Each behaviour is the server's (v3.7.2, FileUploader.VerifyFileUploadAsync, FileDao,
Global, FileDto); see docs/docspace-behaviour.md.
"""

from __future__ import annotations

import pytest

from tests.sandbox_docspace_api import DocSpaceApi
from tests.sandbox_docspace_uploads import Uploads


@pytest.fixture
def api(docspace_service) -> DocSpaceApi:
    return DocSpaceApi(docspace_service)


@pytest.fixture
def up(api: DocSpaceApi) -> Uploads:
    return Uploads(api)


@pytest.fixture
def folder(api: DocSpaceApi) -> int:
    room = api.create_room("Project")
    return api.create_folder(room["id"], "Task")["id"]


def titles(api: DocSpaceApi, folder: int) -> list[str]:
    return [f.title for f in api.emulator.files(folder)]


# -- same title ------------------------------------------------------------------------------


def test_an_upload_with_an_existing_title_becomes_its_next_version(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    theirs = api.emulator.add_file(folder, "Notes.docx", b"human", author="ana@example.com")
    result = up.upload(folder, "Notes.docx", b"ours")
    assert (result["id"], result["version"]) == (theirs.id, 2)
    assert result["file"]["comment"] == "Uploaded" and titles(api, folder) == ["Notes.docx"]
    assert api.emulator.file_content(theirs, version=1) == b"human"


def test_the_title_match_ignores_case_and_accents(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    theirs = api.emulator.add_file(folder, "Résumé.pdf", b"1")
    assert up.upload(folder, "RESUME.PDF", b"2")["id"] == theirs.id


def test_a_new_version_keeps_the_existing_title(api: DocSpaceApi, up: Uploads, folder: int) -> None:
    api.emulator.add_file(folder, "Notes.docx", b"1")
    assert up.upload(folder, "NOTES.DOCX", b"2")["title"] == "Notes.docx"


def test_create_new_if_exist_numbers_the_new_title_before_the_extension(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    api.emulator.add_file(folder, "Notes.docx", b"1")
    up.upload(folder, "Notes.docx", b"2", createNewIfExist=True)
    up.upload(folder, "Notes.docx", b"3", createNewIfExist=True)
    assert titles(api, folder) == ["Notes.docx", "Notes (1).docx", "Notes (2).docx"]


def test_a_file_open_in_the_editor_gets_a_second_file_with_the_same_title(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    theirs = api.emulator.add_file(folder, "Notes.docx", b"1")
    api.emulator.open_in_editor(theirs)
    up.upload(folder, "Notes.docx", b"2")
    assert titles(api, folder) == ["Notes.docx", "Notes.docx"]
    assert api.emulator.file_versions(theirs) == [1]


def test_a_file_locked_by_someone_else_gets_a_second_file_with_the_same_title(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    theirs = api.emulator.add_file(folder, "Notes.docx", b"1")
    api.emulator.lock_file(theirs, "ana@example.com")
    up.upload(folder, "Notes.docx", b"2")
    assert titles(api, folder) == ["Notes.docx", "Notes.docx"]


def test_the_target_is_fixed_when_the_session_is_created(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "Notes.docx", 4)
    api.emulator.add_file(folder, "Notes.docx", b"human")
    up.chunk(folder, session["id"], b"ours", 1)
    assert titles(api, folder) == ["Notes.docx", "Notes.docx"]


# -- titles -----------------------------------------------------------------------------------


def test_titles_are_sanitised_and_the_extension_lowercased(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    assert up.upload(folder, ' Q1+Q2: "plan"?.PDF ', b"x")["title"] == "Q1_Q2_ _plan__.pdf"


def test_a_title_without_an_extension_is_stored_with_a_trailing_dot(
    up: Uploads, folder: int
) -> None:
    # FileDao.SaveFileAsync: ReplaceFileExtension(title, "") = stem + "." (read from code)
    assert up.upload(folder, "README", b"x")["title"] == "README."


def test_a_long_title_is_cut_to_170_keeping_its_extension(up: Uploads, folder: int) -> None:
    title = up.upload(folder, "a" * 200 + ".pdf", b"x")["title"]
    assert len(title) == 170 and title.endswith("a.pdf")


# -- upload/check ------------------------------------------------------------------------------


def test_upload_check_answers_the_titles_that_exist_as_they_were_asked(
    api: DocSpaceApi, folder: int
) -> None:
    api.emulator.add_file(folder, "Notes.docx")
    asked = ["notes.DOCX", "Other.docx"]
    found = api.ok(api.post(f"/files/{folder}/upload/check", {"filesTitle": asked}))
    assert found == ["notes.DOCX"]


def test_upload_check_does_not_sanitise_the_titles(api: DocSpaceApi, folder: int) -> None:
    api.emulator.add_file(folder, "a+b.txt")  # stored as a_b.txt
    asked = {"filesTitle": ["a+b.txt", "a_b.txt"]}
    assert api.ok(api.post(f"/files/{folder}/upload/check", asked)) == ["a_b.txt"]


def test_upload_check_skips_encrypted_files(api: DocSpaceApi, up: Uploads, folder: int) -> None:
    up.upload(folder, "secret.txt", b"x", encrypted=True)
    asked = {"filesTitle": ["secret.txt"]}
    assert api.ok(api.post(f"/files/{folder}/upload/check", asked)) == []


# -- reading ----------------------------------------------------------------------------------


def test_the_folder_listing_shows_files_with_size_version_and_author(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    up.upload(folder, "a.txt", b"12345")
    [file] = api.ok(api.get(f"/files/{folder}"))["files"]
    assert (file["title"], file["pureContentLength"], file["contentLength"]) == (
        "a.txt",
        5,
        "5 bytes",
    )
    assert (file["version"], file["versionGroup"], file["fileExst"]) == (1, 1, ".txt")
    assert file["createdBy"]["id"] == api.emulator.me.id


def test_an_empty_file_has_no_pure_content_length(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    up.upload(folder, "empty.txt", b"")
    [file] = api.ok(api.get(f"/files/{folder}"))["files"]
    assert "pureContentLength" not in file and file["contentLength"] == "0 bytes"


def test_files_only_listing_pages_over_files(api: DocSpaceApi, folder: int) -> None:
    api.emulator.add_folder(folder, "Sub")
    for n in range(5):
        api.emulator.add_file(folder, f"f{n}.txt")
    page = api.ok(api.get(f"/files/{folder}", filterType="FilesOnly", count=2, startIndex=2))
    assert [f["title"] for f in page["files"]] == ["f2.txt", "f3.txt"]
    assert (page["folders"], page["total"]) == ([], 5)


def test_files_only_accepts_its_number(api: DocSpaceApi, folder: int) -> None:
    api.emulator.add_folder(folder, "Sub")
    api.emulator.add_file(folder, "f.txt")
    assert api.ok(api.get(f"/files/{folder}", filterType=1))["total"] == 1


def test_folders_only_listing_has_no_files(api: DocSpaceApi, folder: int) -> None:
    api.emulator.add_folder(folder, "Sub")
    api.emulator.add_file(folder, "f.txt")
    page = api.ok(api.get(f"/files/{folder}", filterType="FoldersOnly"))
    assert (page["files"], [f["title"] for f in page["folders"]]) == ([], ["Sub"])


def test_file_info_reads_the_current_or_an_older_version(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    file_id = up.upload(folder, "a.txt", b"one")["id"]
    up.upload(folder, "a.txt", b"three")
    assert api.ok(api.get(f"/files/file/{file_id}"))["pureContentLength"] == 5
    assert api.ok(api.get(f"/files/file/{file_id}", version=1))["pureContentLength"] == 3


def test_file_info_of_a_missing_file_is_404(api: DocSpaceApi) -> None:
    assert api.get("/files/file/999999").status_code == 404


def test_a_file_deleted_for_good_is_404(api: DocSpaceApi, folder: int) -> None:
    file = api.emulator.add_file(folder, "a.txt", b"1")
    api.emulator.delete_file(file)
    assert api.get(f"/files/file/{file.id}").status_code == 404


def test_a_file_the_api_keys_user_deleted_is_in_his_trash_with_root_folder_type_3(
    api: DocSpaceApi, folder: int
) -> None:
    file = api.emulator.add_file(folder, "a.txt", b"1")
    trash = api.emulator.trash_file(file)
    info = api.ok(api.get(f"/files/file/{file.id}"))
    assert (info["id"], info["folderId"], info["rootFolderType"]) == (file.id, trash.id, 3)
    assert titles(api, folder) == []


def test_a_file_in_a_colleagues_trash_is_403_to_the_api_key(api: DocSpaceApi, folder: int) -> None:
    file = api.emulator.add_file(folder, "a.txt", b"1")
    api.emulator.trash_file(file, by="ann@example.com")
    reply = api.get(f"/files/file/{file.id}")
    assert reply.status_code == 403
    assert reply.json()["error"]["message"] == "You don't have enough permission to view the file"


def test_a_file_moved_by_hand_keeps_its_id_in_its_new_folder(api: DocSpaceApi, folder: int) -> None:
    other = api.create_folder(api.emulator.folder(folder).parent_id, "Other")["id"]
    file = api.emulator.add_file(folder, "a.txt", b"1")
    api.emulator.move_file(file, other)
    assert api.ok(api.get(f"/files/file/{file.id}"))["folderId"] == other


def test_history_lists_every_version_newest_first(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    file_id = up.upload(folder, "a.txt", b"1")["id"]
    up.upload(folder, "a.txt", b"22")
    history = api.ok(api.get(f"/files/file/{file_id}/history"))
    assert [(v["version"], v["pureContentLength"]) for v in history] == [(2, 2), (1, 1)]


def test_a_new_version_keeps_the_creator_and_names_the_uploader_as_updater(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    theirs = api.emulator.add_file(folder, "Notes.docx", b"1", author="ana@example.com")
    file = up.upload(folder, "Notes.docx", b"2")["file"]
    assert file["createdBy"]["id"] == theirs.created_by
    assert file["updatedBy"]["id"] == api.emulator.me.id


def test_download_returns_the_bytes_of_the_current_or_an_older_version(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    file = up.upload(folder, "a.txt", b"one")["file"]
    up.upload(folder, "a.txt", b"two")
    assert api.session.get(file["viewUrl"], timeout=10).content == b"two"
    assert api.session.get(file["viewUrl"] + "&version=1", timeout=10).content == b"one"


def test_presigneduri_gives_a_link_that_downloads_the_file(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    file_id = up.upload(folder, "a.txt", b"data")["id"]
    link = api.ok(api.get(f"/files/file/{file_id}/presigneduri"))
    assert api.session.get(link, timeout=10).content == b"data"
