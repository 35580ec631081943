"""plan with DocSpace's existing rooms as input: what it adopts, blocks and skips (pure)."""

from __future__ import annotations

from docspace_destination.adoption import ExistingRoom, ExistingRooms
from docspace_destination.plan import plan, wants_existing_rooms
from tests.test_docspace_plan import entry, folder, ops, room


def existing(*rooms: tuple[int, str, list[str], bool], by_title: bool = True) -> ExistingRooms:
    return ExistingRooms.from_listing(
        [
            {"id": i, "title": t, "tags": tags, "rootFolderType": 20 if archived else 14}
            for i, t, tags, archived in rooms
        ],
        by_title=by_title,
    )


def test_a_room_titled_like_the_project_is_adopted_for_one_tag_write():
    r = room()
    p = plan("asana", [r], {}, existing=existing((7, "Alpha", [], False)))
    [a] = p.actions
    assert (a.op, a.docspace_id, a.writes) == ("adopt", 7, 1)
    assert p.has_changes


def test_a_room_with_the_marker_is_adopted_for_no_write_whatever_its_title():
    r = room()
    p = plan(
        "asana",
        [r],
        {},
        existing=existing((7, "Alpha", [], False), (8, "Old", ["ASANA:Project:1"], False)),
    )
    [a] = p.actions
    assert (a.op, a.docspace_id, a.writes) == ("adopt", 8, 0)


def test_two_candidates_block_the_project_and_its_folders_wait():
    r = room()
    f = folder("asana:task:9@1", r.key, "Design")
    p = plan(
        "asana", [r, f], {}, existing=existing((7, "Alpha", [], False), (8, "Alpha", [], False))
    )
    assert ops(p) == [("blocked", r.key), ("blocked", f.key)]
    reason = next(a.reason for a in p.actions if a.key == r.key)
    assert "ids 7, 8" in reason and "asana:project:1" in reason
    assert p.ordered() == []


def test_rooms_marked_for_another_record_or_in_the_ledger_are_no_candidates():
    r, other = room(), room("asana:project:2", "Beta")
    rooms = existing((7, "Alpha", ["trello:board:abc"], False), (8, "Alpha", [], False))
    p = plan("asana", [r, other], {other.key: entry(other, 8)}, existing=rooms)
    assert [a.op for a in p.actions if a.key == r.key] == ["create"]


def test_archived_candidates_cost_what_the_archive_allows():
    active, archived = room(), room(archived=True)
    rooms = existing((7, "Alpha", [], True))
    [a] = plan("asana", [active], {}, existing=rooms).actions
    assert (a.op, a.writes) == ("adopt", 2)  # unarchive, then the tag
    [b] = plan("asana", [archived], {}, existing=rooms, archived_projects="mirror").actions
    assert (b.op, b.writes) == ("adopt", 0)  # stays archived: no tag possible there


def test_folders_of_a_room_adopted_from_the_archive_that_stays_there_wait():
    r = room(archived=True)
    f = folder("asana:task:9@1", r.key, "Design")
    p = plan(
        "asana", [r, f], {}, existing=existing((7, "Alpha", [], True)), archived_projects="mirror"
    )
    assert [(a.op, a.reason) for a in p.actions if a.key == f.key] == [("noop", "room archived")]


def test_an_active_room_adopted_for_an_archived_project_is_archived_after():
    r = room(archived=True)
    p = plan(
        "asana", [r], {}, existing=existing((7, "Alpha", [], False)), archived_projects="mirror"
    )
    assert [a.op for a in p.ordered()] == ["adopt", "archive"]


def test_without_adopt_existing_only_the_marker_finds_a_room():
    r = room()
    p = plan("asana", [r], {}, existing=existing((7, "Alpha", [], False), by_title=False))
    assert [a.op for a in p.actions] == ["create"]


def test_archived_at_first_sight_is_skipped_with_its_folders_and_is_no_change():
    r = room(archived=True)
    f = folder("asana:task:9@1", r.key, "Design")
    p = plan("asana", [r, f], {}, archived_projects="skip")
    assert ops(p) == [("skip", r.key), ("skip", f.key)]
    assert p.skipped_projects == 1 and not p.has_changes and p.ordered() == []


def test_a_pending_room_is_not_skipped_because_its_create_may_have_landed():
    r = room(archived=True)
    pending = entry(r, None, status="pending")
    assert [
        a.op for a in plan("asana", [r], {r.key: pending}, archived_projects="skip").ordered()
    ] == [
        "create",
        "archive",
    ]


def test_rooms_are_listed_only_when_one_would_be_created():
    r, old = room(), room("asana:project:2", "Old", archived=True)
    assert wants_existing_rooms([r, old], {}, "skip")
    assert not wants_existing_rooms([r, old], {r.key: entry(r, 10)}, "skip")
    assert wants_existing_rooms([r, old], {r.key: entry(r, 10)}, "mirror")


def test_existing_room_reads_markers_case_insensitively_and_ignores_other_tags():
    seen = ExistingRoom.from_dto({"id": 1, "title": "A", "tags": ["Asana:Project:1 ", "pm"]})
    assert seen.markers == frozenset({"asana:project:1"}) and not seen.archived
