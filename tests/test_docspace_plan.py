"""plan is a pure function of desired state and ledger: what it decides, per situation."""

from __future__ import annotations

from docspace_destination.desired import DesiredNode
from docspace_destination.ledger import APPLIED, ORPHANED, LedgerEntry
from docspace_destination.plan import Observed, plan


def room(key="asana:project:1", title="Alpha", archived=False):
    return DesiredNode(key, key, "room", None, title, archived, False, 0, key.rsplit(":", 1)[1])


def folder(key, parent, title, entity=None, orphaned=False, depth=1):
    return DesiredNode(
        key, entity or key.split("@")[0], "folder", parent, title, False, orphaned, depth, key
    )


def entry(node, did, parent_id=None, title=None, archived=False, status=APPLIED, key=None):
    return LedgerEntry(
        key or node.key,
        "asana",
        node.entity,
        node.kind,
        node.parent_key,
        did,
        parent_id,
        title or node.title,
        archived,
        status,
    )


def ops(p):
    return sorted((a.op, a.key) for a in p.actions)


def test_everything_is_created_on_an_empty_ledger_rooms_first():
    r = room()
    f = folder("asana:task:9@1", r.key, "Design")
    p = plan("asana", [r, f], {})
    assert [(a.op, a.kind) for a in p.ordered()] == [("create", "room"), ("create", "folder")]


def test_nothing_to_do_when_the_ledger_matches():
    r = room()
    f = folder("asana:task:9@1", r.key, "Design")
    p = plan("asana", [r, f], {r.key: entry(r, 10), f.key: entry(f, 11, 10)})
    assert not p.has_changes


def test_a_changed_title_is_a_rename():
    r = room(title="Alpha v2")
    p = plan("asana", [r], {r.key: entry(r, 10, title="Alpha")})
    assert ops(p) == [("rename", r.key)]


def test_an_archived_project_archives_its_room_and_back_again_unarchives():
    r = room(archived=True)
    assert ops(plan("asana", [r], {r.key: entry(r, 10)})) == [("archive", r.key)]
    r2 = room(archived=False)
    assert ops(plan("asana", [r2], {r2.key: entry(r2, 10, archived=True)})) == [
        ("unarchive", r2.key)
    ]


def test_an_archived_project_never_synced_is_created_then_archived():
    r = room(archived=True)
    assert [a.op for a in plan("asana", [r], {}).ordered()] == ["create", "archive"]


def test_a_task_that_changed_project_moves_its_folder():
    a, b = room("asana:project:1", "A"), room("asana:project:2", "B")
    old = folder("asana:task:9@1", a.key, "Design")
    new = folder("asana:task:9@2", b.key, "Design")
    ledger = {a.key: entry(a, 10), b.key: entry(b, 20), old.key: entry(old, 11, 10)}
    p = plan("asana", [a, b, new], ledger)
    moves = [x for x in p.actions if x.op == "move"]
    assert len(moves) == 1 and moves[0].from_key == old.key and moves[0].docspace_id == 11
    assert not [x for x in p.actions if x.op in ("create", "orphan")]


def test_a_card_moved_to_another_list_moves_its_folder():
    r = room("trello:board:b", "Board")
    l1 = folder("trello:list:1", r.key, "Todo")
    l2 = folder("trello:list:2", r.key, "Done")
    card = folder("trello:card:c", l2.key, "Card", depth=2)
    ledger = {n.key: entry(n, i) for i, n in enumerate([r, l1, l2], start=10)}
    ledger[card.key] = entry(folder("trello:card:c", l1.key, "Card", depth=2), 30, 11)
    changes = [(a.op, a.key) for a in plan("trello", [r, l1, l2, card], ledger).changes]
    assert changes == [("move", card.key)]


def test_a_deleted_task_orphans_its_folder_without_touching_docspace():
    r = room()
    f = folder("asana:task:9@1", r.key, "Design", orphaned=True)
    p = plan(
        "asana", [r, f], {r.key: entry(r, 10), f.key: entry(folder(f.key, r.key, "Design"), 11, 10)}
    )
    assert ops(p) == [("noop", r.key), ("orphan", f.key)]
    assert p.writes == 0


def test_a_record_that_vanished_from_the_source_is_orphaned():
    r = room()
    gone = folder("asana:task:9@1", r.key, "Design")
    p = plan("asana", [r], {r.key: entry(r, 10), gone.key: entry(gone, 11, 10)})
    assert ("orphan", gone.key) in ops(p)


def test_an_orphan_that_comes_back_is_restored():
    r = room()
    f = folder("asana:task:9@1", r.key, "Design")
    p = plan("asana", [r, f], {r.key: entry(r, 10), f.key: entry(f, 11, 10, status=ORPHANED)})
    assert ("restore", f.key) in ops(p)


def test_folders_in_a_room_that_stays_archived_wait():
    r = room(archived=True)
    f = folder("asana:task:9@1", r.key, "New task")
    p = plan("asana", [r, f], {r.key: entry(r, 10, archived=True)})
    assert not p.has_changes


def test_a_pending_entry_from_a_crash_is_planned_as_create_so_apply_looks_first():
    r = room()
    p = plan("asana", [r], {r.key: entry(r, None, status="pending")})
    assert ops(p) == [("create", r.key)]


def test_refresh_sees_a_room_renamed_by_hand_and_renames_it_back():
    r = room(title="Alpha")
    p = plan(
        "asana", [r], {r.key: entry(r, 10)}, observed={10: Observed("Hand edited", None, False)}
    )
    assert ops(p) == [("rename", r.key)]


def test_refresh_recreates_a_room_deleted_by_hand():
    r = room()
    p = plan("asana", [r], {r.key: entry(r, 10)}, observed={10: None})
    assert ops(p) == [("create", r.key)]


def test_refresh_of_folders_never_touches_a_file_numbered_like_a_folder():
    # DocSpace numbers files apart from folders: file 10 is not room 10
    r = room()
    f = DesiredNode(
        "asana:file:5@asana:task:9@1", "asana:file:5", "file", r.key, "a.pdf", False, False, 1, "5"
    )
    ledger = {r.key: entry(r, 10), f.key: entry(f, 10, parent_id=11)}
    p = plan("asana", [r, f], ledger, observed={10: None})
    assert ops(p) == [("create", r.key), ("noop", f.key)]


def test_a_folder_whose_parent_is_missing_is_blocked_with_a_reason():
    f = folder("asana:task:9@1", "asana:project:404", "Lost")
    p = plan("asana", [f], {})
    assert p.actions[0].op == "blocked" and "asana:project:404" in p.actions[0].reason
