"""Moves and archives through the applier, against the emulator's asynchronous file operations.

A move is never sent twice for a folder that is already (or about to be) in its
destination, never merges a folder into one with the same title, and what a
killed run left on its way is read back before anything is planned.
"""

from __future__ import annotations

import duckdb
import pytest
import requests

from docspace_destination.apply import Applier
from docspace_destination.apply_settings import ApplySettings
from docspace_destination.client import DocSpaceClient
from docspace_destination.inflight import resolve_intents
from docspace_destination.ledger import APPLIED, Ledger, LedgerEntry
from docspace_destination.plan import ARCHIVE, MOVE, Action

SOURCE = "asana"
ROOM_A, ROOM_B, TASK = "asana:project:1", "asana:project:2", "asana:task:7@1"
MOVED_TASK = "asana:task:7@2"  # the task's key once it belongs to project 2
MOVES = "PUT /files/fileops/move"


class Portal:
    """Two rooms and a task folder holding a document, mirrored in a ledger."""

    def __init__(self, service) -> None:
        self.emulator = service.emulator
        self.emulator.fileop_seconds = 0.3
        self.client = DocSpaceClient(service.root_url, service.credentials["api_key"])
        self.ledger = Ledger(duckdb.connect())
        self.a = self.emulator.add_room("Alpha", tags=[ROOM_A])
        self.b = self.emulator.add_room("Beta", tags=[ROOM_B])
        self.task = self.emulator.add_folder(self.a, "Task")
        self.doc = self.emulator.add_file(self.task, "Spec.docx")
        self.ledger.write(
            [
                self.entry(ROOM_A, "room", None, self.a.id, None, "Alpha"),
                self.entry(ROOM_B, "room", None, self.b.id, None, "Beta"),
                self.entry(TASK, "folder", ROOM_A, self.task.id, self.a.id, "Task"),
            ]
        )
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {service.credentials['api_key']}"
        self.base = service.base_url

    @staticmethod
    def entry(key, kind, parent_key, did, parent_id, title, **extra) -> LedgerEntry:
        entity = key.split("@")[0]
        return LedgerEntry(
            key, SOURCE, entity, kind, parent_key, did, parent_id, title, False, APPLIED, **extra
        ).evolve()

    def apply(self, *actions: Action) -> Applier:
        applier = Applier(
            self.client, self.ledger, SOURCE, ApplySettings(concurrency=2, max_writes=9000)
        )
        applier.run(list(actions))
        self.ledger.flush()
        return applier

    def moves_sent(self) -> int:
        return self.emulator.log.count("PUT", route="/files/fileops/move")

    def send_move_as_a_killed_run_did(self, dest_id: int) -> None:
        """What a run killed right after sending a move leaves: the request out, the intent noted."""
        entries = self.ledger.load(SOURCE)
        self.ledger.write([entries[TASK].evolve(intent=f"move:{dest_id}")])
        body = {"folderIds": [self.task.id], "destFolderId": dest_id, "conflictResolveType": 0}
        assert self.http.put(self.base + "/files/fileops/move", json=body).status_code == 200


def move_task(title: str = "Task", key: str = MOVED_TASK) -> Action:
    return Action(
        op=MOVE,
        key=key,
        entity="asana:task:7",
        kind="folder",
        depth=1,
        title=title,
        parent_key=ROOM_B,
        archived=False,
        from_key=TASK,
        rename_to=title if title != "Task" else None,
    )


@pytest.fixture
def portal(docspace_service) -> Portal:
    return Portal(docspace_service)


def test_a_move_waits_for_its_operation_and_keeps_the_folder_and_its_documents(portal):
    applier = portal.apply(move_task())
    assert applier.report.counts["moved"] == 1
    assert portal.emulator.folder(portal.task.id).parent_id == portal.b.id  # done on return
    assert [f.id for f in portal.emulator.files(portal.task.id)] == [portal.doc.id]
    row = portal.ledger.load(SOURCE)[MOVED_TASK]
    assert (row.parent_id, row.parent_key, row.intent) == (portal.b.id, ROOM_B, None)
    assert TASK not in portal.ledger.load(SOURCE)


def test_a_move_whose_reply_was_lost_is_not_sent_again_once_the_folder_is_there(portal):
    portal.emulator.faults.lose_responses(1.0, route=MOVES)
    portal.apply(move_task())
    assert portal.moves_sent() == 1
    assert [(f.id, f.title) for f in portal.emulator.folders(portal.b.id)] == [
        (portal.task.id, "Task")
    ]
    assert portal.emulator.files(portal.task.id)[0].id == portal.doc.id


def test_a_move_left_running_by_a_killed_run_is_waited_for_and_not_sent_again(portal):
    portal.send_move_as_a_killed_run_did(portal.b.id)
    portal.apply(move_task())
    assert portal.moves_sent() == 1
    assert portal.emulator.folder(portal.task.id).parent_id == portal.b.id
    assert portal.ledger.load(SOURCE)[MOVED_TASK].intent is None


def test_a_replayed_move_already_recorded_under_its_new_key_sends_nothing(portal):
    portal.apply(move_task())
    before = portal.emulator.log.writes()
    applier = portal.apply(move_task())  # dlt delivers the same batch again
    assert portal.emulator.log.writes() == before
    assert applier.report.counts["unchanged"] == 1


def test_a_move_next_to_a_same_titled_folder_made_by_hand_keeps_both_whole(portal):
    theirs = portal.emulator.add_folder(portal.b, "Task")
    their_doc = portal.emulator.add_file(theirs, "Minutes.docx")
    portal.apply(move_task())
    assert {f.id for f in portal.emulator.folders(portal.b.id)} == {theirs.id, portal.task.id}
    assert [f.id for f in portal.emulator.files(portal.task.id)] == [portal.doc.id]
    assert [f.id for f in portal.emulator.files(theirs.id)] == [their_doc.id]


def test_a_move_that_also_renames_renames_first_so_it_never_merges(portal):
    old_namesake = portal.emulator.add_folder(portal.b, "Task")
    portal.apply(move_task(title="Task v2"))
    moved = portal.emulator.folder(portal.task.id)
    assert (moved.parent_id, moved.title) == (portal.b.id, "Task v2")
    assert portal.emulator.folder(old_namesake.id).title == "Task"
    assert [f.id for f in portal.emulator.files(portal.task.id)] == [portal.doc.id]


def test_before_planning_a_killed_runs_move_is_read_back_into_the_ledger(portal):
    portal.send_move_as_a_killed_run_did(portal.b.id)
    assert resolve_intents(portal.client, portal.ledger, SOURCE) == 1
    row = portal.ledger.load(SOURCE)[TASK]
    assert (row.parent_id, row.parent_key, row.intent) == (portal.b.id, ROOM_B, None)
    assert portal.moves_sent() == 1


def test_an_archive_returns_only_once_the_room_is_in_the_archive(portal):
    archive = Action(ARCHIVE, ROOM_B, ROOM_B, "room", 0, "Beta", None, True)
    portal.apply(archive)
    assert [r.id for r in portal.emulator.rooms("archive")] == [portal.b.id]
    row = portal.ledger.load(SOURCE)[ROOM_B]
    assert (row.archived, row.intent) == (True, None)


def test_an_archive_of_a_room_a_killed_run_already_archived_sends_nothing(portal):
    portal.ledger.write([portal.ledger.load(SOURCE)[ROOM_B].evolve(intent="archive")])
    portal.emulator.archive(portal.b.id)
    portal.apply(Action(ARCHIVE, ROOM_B, ROOM_B, "room", 0, "Beta", None, True))
    assert portal.emulator.log.count("PUT", route="/files/rooms/*/archive") == 0
    assert portal.ledger.load(SOURCE)[ROOM_B].archived is True


def test_a_move_that_failed_is_planned_as_a_move_again_not_as_a_new_folder(portal):
    from docspace_destination.plan import plan
    from tests.test_docspace_plan import folder, room

    portal.emulator.deny(portal.b.id)
    applier = portal.apply(move_task())
    assert applier.report.counts["failed"] == 1
    rows = portal.ledger.load(SOURCE)
    assert MOVED_TASK not in rows and rows[TASK].last_error
    desired = [room(ROOM_A, "Alpha"), room(ROOM_B, "Beta"), folder(MOVED_TASK, ROOM_B, "Task")]
    again = plan(SOURCE, desired, rows)
    assert [(a.op, a.from_key) for a in again.actions if a.key == MOVED_TASK] == [(MOVE, TASK)]


def test_an_archive_whose_replies_get_lost_is_resent_harmlessly_and_ends_archived(portal):
    from sandbox.faults import Faults

    portal.emulator.faults = Faults(seed=1)  # its dice: the first reply is lost, the next is not
    portal.emulator.faults.lose_responses(0.5, route="PUT /files/rooms/*/archive")
    portal.apply(Action(ARCHIVE, ROOM_B, ROOM_B, "room", 0, "Beta", None, True))
    assert portal.emulator.log.count("PUT", route="/files/rooms/*/archive", outcome="lost") == 1
    assert [r.id for r in portal.emulator.rooms("archive")] == [portal.b.id]
    assert portal.ledger.load(SOURCE)[ROOM_B].archived is True
