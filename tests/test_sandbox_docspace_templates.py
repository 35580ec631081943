"""Room templates in the DocSpace emulator: one job slot per portal, status polling, contents."""

from __future__ import annotations

import time

import pytest

from tests.sandbox_docspace_api import DocSpaceApi


@pytest.fixture
def api(docspace_service) -> DocSpaceApi:
    return DocSpaceApi(docspace_service)


def wait_until_completed(api: DocSpaceApi, path: str) -> dict:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = api.ok(api.get(path))
        if status and status["isCompleted"]:
            return status
        time.sleep(0.02)
    raise AssertionError(f"{path} never completed")


def test_the_status_is_empty_when_no_job_ever_ran(api: DocSpaceApi) -> None:
    body = api.get("/files/rooms/fromtemplate/status").json()
    assert body["status"] == 0 and body.get("response") is None


def test_a_room_from_a_template_answers_its_room_id_at_once(api: DocSpaceApi) -> None:
    template = api.emulator.add_template("Marketing", folders=["Brief", "Assets"])
    started = api.ok(
        api.post("/files/rooms/fromtemplate", {"templateId": template.id, "title": "Q3 launch"})
    )
    assert started["isCompleted"] is False
    assert api.emulator.room(started["roomId"]).title == "Q3 launch"


def test_the_room_gets_the_template_folders_and_files_when_the_job_completes(
    api: DocSpaceApi,
) -> None:
    template = api.emulator.add_template(
        "Marketing", folders=["Brief", "Assets"], files={"Brief": ["Brief.docx"]}
    )
    started = api.ok(
        api.post("/files/rooms/fromtemplate", {"templateId": template.id, "title": "Q3 launch"})
    )
    done = wait_until_completed(api, "/files/rooms/fromtemplate/status")
    assert done["roomId"] == started["roomId"] and done["progress"] == 100
    assert api.emulator.tree(started["roomId"]) == {"Brief": {"Brief.docx": None}, "Assets": {}}


def test_a_room_from_a_template_takes_the_requested_tags(api: DocSpaceApi) -> None:
    template = api.emulator.add_template("Marketing", tags=["from-template"])
    started = api.ok(
        api.post(
            "/files/rooms/fromtemplate",
            {"templateId": template.id, "title": "Q3", "tags": ["pm-sync"]},
        )
    )
    assert api.emulator.room(started["roomId"]).tags == ["pm-sync"]


def test_starting_while_a_job_runs_returns_the_running_job_and_creates_nothing(
    api: DocSpaceApi,
) -> None:
    other_room = api.emulator.start_template_job_externally(duration=60)
    template = api.emulator.add_template("Marketing", folders=["Brief"])
    rooms_before = api.emulator.count_rooms()
    answer = api.ok(
        api.post("/files/rooms/fromtemplate", {"templateId": template.id, "title": "Mine"})
    )
    assert answer["roomId"] == other_room and answer["isCompleted"] is False
    assert api.emulator.count_rooms() == rooms_before
    assert api.emulator.find("Mine", "room") == []


def test_the_slot_frees_once_the_running_job_completes(api: DocSpaceApi) -> None:
    api.emulator.start_template_job_externally(duration=0.05)
    template = api.emulator.add_template("Marketing")
    wait_until_completed(api, "/files/rooms/fromtemplate/status")
    answer = api.ok(
        api.post("/files/rooms/fromtemplate", {"templateId": template.id, "title": "Mine"})
    )
    assert api.emulator.room(answer["roomId"]).title == "Mine"


def test_the_status_keeps_showing_the_last_completed_job(api: DocSpaceApi) -> None:
    room_id = api.emulator.start_template_job_externally(duration=0)
    for _ in range(2):
        status = api.ok(api.get("/files/rooms/fromtemplate/status"))
        assert status["roomId"] == room_id and status["isCompleted"] is True


def test_an_unknown_template_answers_404(api: DocSpaceApi) -> None:
    response = api.post("/files/rooms/fromtemplate", {"templateId": 99999, "title": "X"})
    assert response.status_code == 404


def test_a_template_is_made_from_a_room_with_its_folders(api: DocSpaceApi) -> None:
    room = api.emulator.add_room("Model project")
    api.emulator.add_folder(room, "Brief")
    started = api.ok(api.post("/files/roomtemplate", {"roomId": room.id, "title": "Model"}))
    done = wait_until_completed(api, "/files/roomtemplate/status")
    assert done["templateId"] == started["templateId"]
    listed = api.ok(api.get("/files/rooms", searchArea="Templates"))["folders"]
    assert [t["title"] for t in listed] == ["Model"]
    assert api.emulator.tree(done["templateId"]) == {"Brief": {}}


# -- what the status says over time (issue 9, section 4) -------------------------------------


def start_job(api: DocSpaceApi, title: str = "From template") -> dict:
    template = api.emulator.add_template("Kickoff", folders=["Brief"])
    return api.ok(
        api.post("/files/rooms/fromtemplate", {"templateId": template.id, "title": title})
    )


def test_reading_the_status_does_not_clear_it(api: DocSpaceApi) -> None:
    start_job(api)
    first = wait_until_completed(api, "/files/rooms/fromtemplate/status")
    again = api.ok(api.get("/files/rooms/fromtemplate/status"))
    assert again == first


def test_a_completed_status_vanishes_after_the_cleaner_delay(api: DocSpaceApi) -> None:
    api.emulator.template_status_linger_seconds = 0.2  # the server's is 60–70 s
    start_job(api)
    done = wait_until_completed(api, "/files/rooms/fromtemplate/status")
    assert done["isCompleted"] and done["error"] == ""
    time.sleep(0.3)
    assert api.get("/files/rooms/fromtemplate/status").json().get("response") is None
    assert api.emulator.room(done["roomId"]).title == "From template"  # the room stays


def test_the_default_status_delay_is_about_a_minute(api: DocSpaceApi) -> None:
    assert 60 <= api.emulator.template_status_linger_seconds <= 70


def test_a_failed_job_deletes_its_room_but_its_status_still_names_it(api: DocSpaceApi) -> None:
    api.emulator.fail_next_template_job("Room quota exceeded")
    start_job(api, "Doomed")
    status = wait_until_completed(api, "/files/rooms/fromtemplate/status")
    assert status["error"] == "Room quota exceeded"
    assert status["roomId"] > 0
    assert api.get(f"/files/rooms/{status['roomId']}").status_code == 404
    assert api.emulator.find("Doomed") == []
