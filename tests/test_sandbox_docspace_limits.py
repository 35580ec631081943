"""DocSpace emulator limits and faults: concurrency caps, quotas, lost responses, denied rooms."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.sandbox_docspace_api import DocSpaceApi


@pytest.fixture
def api(docspace_service) -> DocSpaceApi:
    return DocSpaceApi(docspace_service)


def concurrently(api: DocSpaceApi, n: int, method: str, path: str, body: dict | None = None):
    """n simultaneous requests, each on its own connection; returns the responses."""

    def one(_: int) -> requests.Response:
        return DocSpaceApi(api.service).call(method, path, json=body)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_more_than_15_concurrent_writes_are_rejected_at_once_with_429(api: DocSpaceApi) -> None:
    api.emulator.faults.latency(1.0, route="POST /files/rooms")
    responses = concurrently(api, 20, "POST", "/files/rooms", {"title": "R", "roomType": 2})
    statuses = [r.status_code for r in responses]
    assert statuses.count(429) >= 1 and statuses.count(200) <= 15
    assert api.emulator.count_rooms() == statuses.count(200)


def test_a_concurrency_429_has_an_empty_body_and_no_retry_after(api: DocSpaceApi) -> None:
    api.emulator.faults.latency(1.0, route="POST /files/rooms")
    responses = concurrently(api, 20, "POST", "/files/rooms", {"title": "R", "roomType": 2})
    limited = [r for r in responses if r.status_code == 429]
    assert limited
    for r in limited:
        assert r.content == b""
        assert "Retry-After" not in r.headers and "X-RateLimit-Reset" not in r.headers
        assert r.headers["X-RateLimit-Limit"] == "15"
        assert r.headers["X-RateLimit-Remaining"] == "0"


def test_more_than_50_concurrent_reads_are_rejected_at_once_with_429(api: DocSpaceApi) -> None:
    api.emulator.faults.latency(1.0, route="GET /files/rooms")
    statuses = [r.status_code for r in concurrently(api, 56, "GET", "/files/rooms")]
    assert statuses.count(429) >= 1 and statuses.count(200) <= 50


def test_the_per_minute_quota_answers_429_with_an_empty_body_and_no_retry_after(
    api: DocSpaceApi,
) -> None:
    api.emulator.limits.requests_per_window = 3
    statuses = [api.get("/files/rooms").status_code for _ in range(3)]
    over = api.get("/files/rooms")
    assert statuses == [200, 200, 200] and over.status_code == 429
    assert over.content == b"" and "Retry-After" not in over.headers
    assert over.headers["X-RateLimit-Limit"] == "3"
    assert over.headers["X-RateLimit-Remaining"] == "0"


def test_the_daily_write_budget_rejects_writes_but_not_reads(api: DocSpaceApi) -> None:
    api.emulator.limits.writes_per_day = 2
    created = [api.post("/files/rooms", {"title": f"R{i}", "roomType": 2}) for i in range(3)]
    assert [r.status_code for r in created] == [200, 200, 429]
    assert api.get("/files/rooms").status_code == 200
    assert api.emulator.count_rooms() == 2


def test_the_daily_limit_429_says_when_the_window_resets(api: DocSpaceApi) -> None:
    import time

    api.emulator.limits.writes_per_day = 1
    api.post("/files/rooms", {"title": "R", "roomType": 2})
    over = api.post("/files/rooms", {"title": "R2", "roomType": 2})
    assert over.status_code == 429 and over.content == b""
    retry_after = int(over.headers["Retry-After"])
    assert 86_000 < retry_after <= 86_400
    reset = int(over.headers["X-RateLimit-Reset"])  # Unix seconds
    assert abs(reset - (time.time() + retry_after)) < 5
    assert over.headers["X-RateLimit-Limit"] == "1"


def test_the_daily_limit_counts_post_and_put_but_not_delete(api: DocSpaceApi) -> None:
    api.emulator.limits.writes_per_day = 2
    room = api.create_room("R")
    doomed = api.create_folder(room["id"], "Gone")
    assert api.delete(f"/files/folder/{doomed['id']}", {}).status_code == 200
    assert api.post("/files/rooms", {"title": "R3", "roomType": 2}).status_code == 429


def test_the_daily_window_reopens_after_it_ends(api: DocSpaceApi) -> None:
    import time

    api.emulator.limits.writes_per_day = 1
    api.emulator.limits.daily_window_seconds = 0.3
    assert api.post("/files/rooms", {"title": "A", "roomType": 2}).status_code == 200
    assert api.post("/files/rooms", {"title": "B", "roomType": 2}).status_code == 429
    time.sleep(0.35)
    assert api.post("/files/rooms", {"title": "B", "roomType": 2}).status_code == 200


def test_successes_carry_no_rate_limit_headers(api: DocSpaceApi) -> None:
    for response in (
        api.get("/files/rooms"),
        api.post("/files/rooms", {"title": "R", "roomType": 2}),
    ):
        assert response.status_code == 200
        assert not [h for h in response.headers if h.lower().startswith("x-ratelimit")]


def test_a_429_burst_carries_retry_after(api: DocSpaceApi) -> None:
    api.emulator.faults.burst_429(2, retry_after=3, route="GET /files/rooms")
    answers = [api.get("/files/rooms") for _ in range(3)]
    assert [r.status_code for r in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"


def test_a_lost_response_still_applies_the_write(api: DocSpaceApi) -> None:
    api.emulator.faults.lose_responses(1.0, route="POST /files/rooms")
    with pytest.raises(requests.ConnectionError):
        api.post("/files/rooms", {"title": "Created anyway", "roomType": 2})
    assert [r.title for r in api.emulator.rooms()] == ["Created anyway"]
    assert api.emulator.log.count("POST", outcome="lost") == 1


def test_a_lost_move_response_still_moves_the_folder(api: DocSpaceApi) -> None:
    source, target = api.emulator.add_room("A"), api.emulator.add_room("B")
    folder = api.emulator.add_folder(source, "Task")
    api.emulator.faults.lose_responses(1.0, route="PUT /files/fileops/move")
    with pytest.raises(requests.ConnectionError):
        api.put("/files/fileops/move", {"folderIds": [folder.id], "destFolderId": target.id})
    api.emulator.finish_file_operations()  # file operations run in the background
    assert api.emulator.folder(folder.id).parent_id == target.id


def test_an_injected_502_has_an_html_body(api: DocSpaceApi) -> None:
    api.emulator.faults.errors(1.0, statuses=(502,), route="GET /files/rooms")
    response = api.get("/files/rooms")
    assert response.status_code == 502
    assert response.headers["Content-Type"].startswith("text/html")


def test_a_denied_room_answers_403_to_writes_and_others_still_work(api: DocSpaceApi) -> None:
    blocked, fine = api.emulator.add_room("Blocked"), api.emulator.add_room("Fine")
    api.emulator.deny(blocked.id)
    assert api.post(f"/files/folder/{blocked.id}", {"title": "Task"}).status_code == 403
    assert api.put(f"/files/rooms/{blocked.id}", {"title": "X"}).status_code == 403
    assert api.get(f"/files/rooms/{blocked.id}").status_code == 200
    assert api.post(f"/files/folder/{fine.id}", {"title": "Task"}).status_code == 200


def test_a_denial_covers_the_folders_inside_the_room(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Blocked")
    folder = api.emulator.add_folder(room, "Task")
    api.emulator.deny("Blocked")
    assert api.post(f"/files/folder/{folder.id}", {"title": "Subtask"}).status_code == 403
    assert api.put(f"/files/folder/{folder.id}", {"title": "Renamed"}).status_code == 403


def test_a_denied_title_blocks_creating_that_room(api: DocSpaceApi) -> None:
    api.emulator.deny("Forbidden project", status=403)
    response = api.post("/files/rooms", {"title": "Forbidden project", "roomType": 2})
    assert response.status_code == 403
    assert api.post("/files/rooms", {"title": "Allowed", "roomType": 2}).status_code == 200
