"""The DocSpace emulator's chunked upload sessions: sessions, chunks, finalize, abort, limits, faults.

Each behaviour is the server's (v3.7.2, UploadController / FileUploader / FileDao /
CommonChunkedUploadSessionHolder); see docs/docspace-behaviour.md.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
import requests

from tests.sandbox_docspace_api import DocSpaceApi
from tests.sandbox_docspace_uploads import CHUNK, MIB, Uploads

BIG = b"".join(bytes([n]) * CHUNK for n in (1, 2)) + b"tail"  # 2 full chunks and 4 bytes


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


def test_a_session_answers_id_path_created_expired_location_and_bytes_total(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "a.pdf", 5)
    room = api.emulator.folder(folder).parent_id
    assert set(session) == {"id", "path", "created", "expired", "location", "bytes_total"}
    assert session["path"] == [2, room, folder] and session["bytes_total"] == 5
    assert session["location"].endswith(f"/ChunkedUploader.ashx?uid={session['id']}")


def test_a_session_expires_twelve_hours_after_it_was_created(up: Uploads, folder: int) -> None:
    session = up.session(folder, "a.pdf", 5)
    created, expired = (
        datetime.fromisoformat(session[k][:26].rstrip("Z") + "+00:00")
        for k in ("created", "expired")
    )
    assert (expired - created).total_seconds() == pytest.approx(12 * 3600, abs=1)


def test_a_small_file_is_saved_by_its_first_chunk(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "small.txt", 5)
    assert up.chunk(folder, session["id"], b"hello", 1).status_code == 200
    [file] = api.emulator.files(folder)
    assert (file.title, api.emulator.file_content(file)) == ("small.txt", b"hello")


def test_finalizing_a_small_file_answers_201_with_the_file_and_adds_no_version(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "small.txt", 5)
    up.chunk(folder, session["id"], b"hello", 1)
    done = up.finalize(folder, session["id"])
    again = up.finalize(folder, session["id"])
    body = done.json()
    assert done.status_code == 201 and body["statusCode"] == 201
    assert body["response"]["uploaded"] is True and body["response"]["version"] == 1
    assert body["response"]["file"]["pureContentLength"] == 5
    assert again.status_code == 201 and api.emulator.files(folder)[0].version == 1


def test_a_resent_chunk_of_a_small_file_adds_a_version(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "small.txt", 5)
    up.chunk(folder, session["id"], b"hello", 1)
    up.chunk(folder, session["id"], b"hello", 1)
    [file] = api.emulator.files(folder)
    assert api.emulator.file_versions(file) == [1, 2]


def test_a_small_chunk_longer_than_declared_saves_nothing(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "small.txt", 3)
    assert up.chunk(folder, session["id"], b"four", 1).status_code == 200
    assert titles(api, folder) == []


def test_a_small_chunk_shorter_than_declared_is_saved_with_the_declared_size(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "small.txt", 10)
    up.chunk(folder, session["id"], b"half", 1)
    [file] = api.emulator.files(folder)
    assert (file.size, api.emulator.file_content(file)) == (10, b"half")


def test_a_large_file_appears_only_at_finalize(api: DocSpaceApi, up: Uploads, folder: int) -> None:
    session = up.session(folder, "big.bin", len(BIG))
    for n, start in enumerate(range(0, len(BIG), CHUNK), start=1):
        up.chunk(folder, session["id"], BIG[start : start + CHUNK], n)
    assert titles(api, folder) == []
    file = up.finalize(folder, session["id"]).json()["response"]["file"]
    assert file["pureContentLength"] == len(BIG) and file["contentLength"] == "20 MB"
    assert api.emulator.file_content(file["id"]) == BIG


def test_chunks_may_arrive_in_any_order(api: DocSpaceApi, up: Uploads, folder: int) -> None:
    session = up.session(folder, "big.bin", len(BIG))
    for n in (3, 1, 2):
        up.chunk(folder, session["id"], BIG[(n - 1) * CHUNK : n * CHUNK], n)
    file_id = up.finalize(folder, session["id"]).json()["response"]["id"]
    assert api.emulator.file_content(file_id) == BIG


def test_a_resent_numbered_chunk_replaces_the_earlier_bytes(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "big.bin", len(BIG))
    up.chunk(folder, session["id"], b"\xff" * CHUNK, 1)
    for n, start in enumerate(range(0, len(BIG), CHUNK), start=1):
        up.chunk(folder, session["id"], BIG[start : start + CHUNK], n)
    file_id = up.finalize(folder, session["id"]).json()["response"]["id"]
    assert api.emulator.file_content(file_id) == BIG


def test_a_resent_chunk_without_a_number_is_stored_as_the_next_part(
    up: Uploads, folder: int
) -> None:
    session = up.session(folder, "big.bin", len(BIG))
    up.chunk(folder, session["id"], BIG[:CHUNK])
    up.chunk(folder, session["id"], BIG[:CHUNK])  # the "retry" becomes part 2
    up.chunk(folder, session["id"], BIG[CHUNK : 2 * CHUNK])  # part 3
    refused = up.finalize(folder, session["id"])
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == "uploadSize != bytesTotal"


def test_finalize_refuses_while_a_chunk_is_missing_and_the_session_stays(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "big.bin", len(BIG))
    up.chunk(folder, session["id"], BIG[:CHUNK], 1)
    up.chunk(folder, session["id"], BIG[2 * CHUNK :], 3)
    assert up.finalize(folder, session["id"]).status_code == 400
    up.chunk(folder, session["id"], BIG[CHUNK : 2 * CHUNK], 2)
    assert up.finalize(folder, session["id"]).status_code == 201
    assert titles(api, folder) == ["big.bin"]


def test_a_chunk_over_10_mib_is_refused_with_402(up: Uploads, folder: int) -> None:
    session = up.session(folder, "big.bin", 3 * CHUNK)
    refused = up.chunk(folder, session["id"], b"x" * (CHUNK + 1), 1)
    assert refused.status_code == 402
    assert refused.json()["error"]["message"].startswith("The maximum file size is exceeded")


def test_a_resent_finalize_of_a_large_file_is_a_server_error_and_the_file_stays_single(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    up.upload(folder, "big.bin", BIG)
    session_id = up.session(folder, "other.bin", len(BIG))["id"]
    for n, start in enumerate(range(0, len(BIG), CHUNK), start=1):
        up.chunk(folder, session_id, BIG[start : start + CHUNK], n)
    assert up.finalize(folder, session_id).status_code == 201
    assert up.finalize(folder, session_id).status_code == 500
    assert titles(api, folder) == ["big.bin", "other.bin"]


def test_abort_drops_the_session_and_its_chunks(api: DocSpaceApi, up: Uploads, folder: int) -> None:
    session = up.session(folder, "big.bin", len(BIG))
    up.chunk(folder, session["id"], BIG[:CHUNK], 1)
    assert up.abort(folder, session["id"]).status_code == 200
    assert up.chunk(folder, session["id"], BIG[CHUNK : 2 * CHUNK], 2).status_code == 500
    assert api.emulator.upload_sessions() == [] and titles(api, folder) == []


def test_aborting_a_small_files_session_keeps_the_file_its_chunk_saved(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "small.txt", 5)
    up.chunk(folder, session["id"], b"hello", 1)
    assert up.abort(folder, session["id"]).status_code == 200
    assert titles(api, folder) == ["small.txt"]


def test_an_expired_session_is_a_server_error(api: DocSpaceApi, up: Uploads, folder: int) -> None:
    session = up.session(folder, "small.txt", 5)
    api.emulator.upload_sessions()[0].expired = 0
    assert up.chunk(folder, session["id"], b"hello", 1).status_code == 500


def test_an_unknown_session_is_a_server_error(up: Uploads, folder: int) -> None:
    assert up.chunk(folder, "0" * 32, b"x", 1).status_code == 500


def test_a_session_for_a_missing_folder_is_404(up: Uploads) -> None:
    assert up.create(999_999, "a.pdf", 1).status_code == 404


def test_a_session_in_an_archived_room_is_refused_with_403(api: DocSpaceApi, up: Uploads) -> None:
    room = api.emulator.add_room("Old", archived=True)
    assert up.create(room.id, "a.pdf", 1).status_code == 403


def test_a_declared_size_over_the_quota_is_refused_with_402(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    api.emulator.max_file_size = 50 * MIB
    assert up.create(folder, "huge.bin", 50 * MIB + 1).status_code == 402


def test_a_session_without_a_file_name_is_refused_with_400(api: DocSpaceApi, folder: int) -> None:
    assert api.post(f"/files/{folder}/session", {"fileSize": 3}).status_code == 400


def test_a_session_for_a_blank_file_name_is_refused_with_400(up: Uploads, folder: int) -> None:
    assert up.create(folder, "   ", 3).status_code == 400


def test_the_obsolete_create_session_wraps_the_session_in_success_and_data(
    api: DocSpaceApi, folder: int
) -> None:
    body = api.ok(
        api.post(f"/files/{folder}/upload/create_session", {"fileName": "a", "fileSize": 1})
    )
    assert body["success"] is True and set(body["data"]) >= {"id", "location", "bytes_total"}


def test_the_one_shot_path_saves_a_small_file_with_201(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "small.txt", 5)
    done = api.call(
        "POST", f"/files/{folder}/session/{session['id']}", files={"file": ("c", b"hello")}
    )
    assert done.status_code == 201 and done.json()["response"]["title"] == "small.txt"


def test_create_on_becomes_the_new_files_created_time(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    file = up.upload(folder, "a.txt", b"x", createOn="2024-05-01T10:00:00Z")["file"]
    assert file["created"].startswith("2024-05-01T10:00:00")


def test_relative_path_puts_the_file_in_subfolders_it_creates(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    up.upload(folder, "a.txt", b"x", relativePath="Docs/2024")
    [docs] = api.emulator.folders(folder)
    [year] = api.emulator.folders(docs.id)
    assert (docs.title, year.title, titles(api, year.id)) == ("Docs", "2024", ["a.txt"])


def test_a_chunk_without_a_form_is_refused(api: DocSpaceApi, up: Uploads, folder: int) -> None:
    session = up.session(folder, "a.txt", 1)
    path = f"/files/{folder}/session/{session['id']}/upload"
    assert api.call("POST", path, data=b"x").status_code == 415


def test_a_chunk_may_be_streamed_with_chunked_transfer_encoding(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "a.txt", 6)
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\nstream\r\n--{boundary}--\r\n"
    ).encode()
    sent = api.call(
        "POST",
        f"/files/{folder}/session/{session['id']}/upload",
        params={"chunkNumber": 1},
        data=(body[i : i + 7] for i in range(0, len(body), 7)),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert sent.status_code == 200
    assert api.emulator.file_content(api.emulator.files(folder)[0]) == b"stream"


def test_content_is_kept_in_files_on_disk(api: DocSpaceApi, up: Uploads, folder: int) -> None:
    file_id = up.upload(folder, "big.bin", BIG)["id"]
    blob = api.emulator.file(file_id).blob
    assert blob.parts and sum(p.stat().st_size for p in blob.parts) == len(BIG)


# -- limits and faults: every upload request is a write like any other ---------------------


def test_session_chunk_and_finalize_each_spend_the_daily_write_budget(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    api.emulator.reset_limits()
    api.emulator.limits.writes_per_day = 3
    up.upload(folder, "a.txt", b"abc")
    over = up.create(folder, "b.txt", 3)
    assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0


def test_chunks_share_the_15_concurrent_writes(api: DocSpaceApi, up: Uploads, folder: int) -> None:
    session = up.session(folder, "big.bin", 20 * CHUNK)
    api.emulator.faults.latency(1.0, route="POST /files/{folderId}/session/{sessionId}/upload")

    def send(n: int) -> int:
        return Uploads(DocSpaceApi(api.service)).chunk(folder, session["id"], b"x", n).status_code

    with ThreadPoolExecutor(18) as pool:
        statuses = list(pool.map(send, range(1, 19)))
    assert statuses.count(429) >= 1 and statuses.count(200) <= 15


def test_a_lost_finalize_reply_still_saved_the_file(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "big.bin", len(BIG))
    for n, start in enumerate(range(0, len(BIG), CHUNK), start=1):
        up.chunk(folder, session["id"], BIG[start : start + CHUNK], n)
    api.emulator.faults.lose_responses(1.0, route="PUT /files/{folderId}/session/*")
    with pytest.raises(requests.ConnectionError):
        up.finalize(folder, session["id"])
    assert titles(api, folder) == ["big.bin"]


def test_an_injected_5xx_on_a_chunk_stores_nothing(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    session = up.session(folder, "big.bin", len(BIG))
    api.emulator.faults.errors(1.0, statuses=(503,), route="POST /files/*/session/*/upload")
    assert up.chunk(folder, session["id"], BIG[:CHUNK], 1).status_code == 503
    api.emulator.faults.clear()
    assert up.finalize(folder, session["id"]).status_code == 400


def test_a_429_burst_on_session_create_creates_no_session(
    api: DocSpaceApi, up: Uploads, folder: int
) -> None:
    api.emulator.faults.burst_429(1, retry_after=2, route="POST /files/{folderId}/session")
    assert up.create(folder, "a.txt", 1).status_code == 429
    assert api.emulator.upload_sessions() == []
