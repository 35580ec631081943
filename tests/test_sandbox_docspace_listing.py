"""GET /files/rooms in the DocSpace emulator: search areas, filters and paging."""

from __future__ import annotations

import json

import pytest

from tests.sandbox_docspace_api import DocSpaceApi


@pytest.fixture
def api(docspace_service) -> DocSpaceApi:
    api = DocSpaceApi(docspace_service)
    emulator = api.emulator
    emulator.add_room("Marketing plan", "EditingRoom", tags=["pm-sync", "asana"])
    emulator.add_room("Sales PLAN", "CustomRoom", tags=["trello"])
    emulator.add_room("Archived plan", "EditingRoom", tags=["pm-sync"], archived=True)
    emulator.add_room("Public docs", "PublicRoom")
    emulator.add_template("Project template", folders=["Brief"])
    return api


def test_search_area_active_is_the_default_and_lists_active_rooms_only(api: DocSpaceApi) -> None:
    assert sorted(api.room_titles()) == ["Marketing plan", "Public docs", "Sales PLAN"]
    assert sorted(api.room_titles(searchArea="Active")) == sorted(api.room_titles())


def test_search_area_archive_lists_archived_rooms_only(api: DocSpaceApi) -> None:
    assert api.room_titles(searchArea="Archive") == ["Archived plan"]


def test_search_area_any_lists_active_and_archived_rooms(api: DocSpaceApi) -> None:
    assert len(api.room_titles(searchArea="Any")) == 4


def test_search_area_accepts_its_number(api: DocSpaceApi) -> None:
    assert api.room_titles(searchArea=1) == ["Archived plan"]


def test_search_area_templates_lists_templates_in_folders(api: DocSpaceApi) -> None:
    content = api.ok(api.get("/files/rooms", searchArea="Templates"))
    assert [f["title"] for f in content["folders"]] == ["Project template"]
    assert content["folders"][0]["rootFolderType"] == 30


def test_type_filter_is_repeatable_and_takes_names_or_numbers(api: DocSpaceApi) -> None:
    only_custom = api.room_titles(type="CustomRoom")
    both = api.ok(api.call("GET", "/files/rooms", params=[("type", "5"), ("type", "6")]))
    assert only_custom == ["Sales PLAN"]
    assert sorted(f["title"] for f in both["folders"]) == ["Public docs", "Sales PLAN"]


def test_filter_value_is_a_case_insensitive_substring_of_the_title(api: DocSpaceApi) -> None:
    assert sorted(api.room_titles(filterValue="plan")) == ["Marketing plan", "Sales PLAN"]
    assert api.room_titles(filterValue="ING PL") == ["Marketing plan"]


def test_tags_filter_is_a_json_array_matching_any_tag(api: DocSpaceApi) -> None:
    assert api.room_titles(tags=json.dumps(["pm-sync"])) == ["Marketing plan"]
    assert sorted(api.room_titles(tags=json.dumps(["asana", "trello"]))) == [
        "Marketing plan",
        "Sales PLAN",
    ]


def test_tags_filter_applies_to_the_archive_too(api: DocSpaceApi) -> None:
    assert api.room_titles(searchArea="Any", tags='["pm-sync"]') == [
        "Marketing plan",
        "Archived plan",
    ]


def test_count_above_100_is_rejected(api: DocSpaceApi) -> None:
    assert api.get("/files/rooms", count=101).status_code == 400


def test_paging_with_count_and_start_index_visits_every_room_once(
    docspace_service,
) -> None:
    api = DocSpaceApi(docspace_service)
    for i in range(250):
        api.emulator.add_room(f"Room {i:03}")
    seen, start = [], 0
    while True:
        page = api.ok(api.get("/files/rooms", count=100, startIndex=start))
        seen += [f["title"] for f in page["folders"]]
        assert page["total"] == 250 and page["startIndex"] == start
        start += page["count"]
        if start >= page["total"]:
            break
    assert sorted(seen) == [f"Room {i:03}" for i in range(250)]


def test_the_default_page_holds_100_rooms(docspace_service) -> None:
    api = DocSpaceApi(docspace_service)
    for i in range(120):
        api.emulator.add_room(f"Room {i}")
    page = api.ok(api.get("/files/rooms"))
    assert page["count"] == 100 and page["total"] == 120


def test_a_listing_reflects_a_rename_made_after_it_was_read(api: DocSpaceApi) -> None:
    before = api.room_titles()
    room = api.emulator.find_room("Public docs")
    api.ok(api.put(f"/files/rooms/{room.id}", {"title": "Public handbook"}))
    assert "Public handbook" in api.room_titles() and "Public handbook" not in before


# -- tags as the server's database compares them (issue 9, section 4) ------------------------


def test_an_empty_tags_array_is_no_filter_and_returns_every_room(api: DocSpaceApi) -> None:
    api.emulator.add_room("Tagged", tags=["asana:project:1"])
    api.emulator.add_room("Untagged")
    rooms = api.ok(api.get("/files/rooms", tags="[]"))["folders"]
    every = sorted(r.title for r in api.emulator.rooms("active"))
    assert "Untagged" in every and sorted(r["title"] for r in rooms) == every


def test_tags_match_ignoring_case_accents_and_trailing_spaces(api: DocSpaceApi) -> None:
    api.emulator.add_room("Marked", tags=["Asana:Project:1"])
    api.emulator.add_room("Café", tags=["café"])
    for query, title in (('["asana:project:1"]', "Marked"), ('["CAFE "]', "Café")):
        rooms = api.ok(api.get("/files/rooms", tags=query))["folders"]
        assert [r["title"] for r in rooms] == [title], query


def test_a_bare_non_json_tags_value_answers_500(api: DocSpaceApi) -> None:
    assert api.get("/files/rooms", tags="asana:project:1").status_code == 500
