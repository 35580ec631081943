"""The client against the server's limits as DocSpace v3.7.2's code sets them (issue 9):
title lengths, rate-limit replies, the daily write limit, template job status, a deleted parent,
empty tag lists, case-insensitive markers and no `sortBy`."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from docspace_destination.client import DocSpaceClient, WriteLimitReached
from docspace_destination.template_jobs import TemplateJobFailed, TemplateJobs
from docspace_destination.titles import utf16_length
from tests.sync_world import EXPECTED_FLAT, AsanaWorld, duplicates


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    return AsanaWorld(sandbox).build()


@pytest.fixture
def client(docspace_service: Any) -> DocSpaceClient:
    c = DocSpaceClient(
        docspace_service.base_url, docspace_service.credentials["api_key"], backoff=0.01
    )
    yield c
    c.close()


def stored_folders(world: AsanaWorld, room_title: str) -> list[str]:
    room = world.docspace.find_room(room_title)
    return [f.title for f in world.docspace.folders(room.id)]


# -- 1. titles are validated (400), not cut: the client cuts first ---------------------------


@pytest.mark.parametrize("units", [150, 165, 166, 170, 171, 200, 400])
def test_every_long_task_name_gets_a_folder_cut_to_165_units(world, units):
    world.asana.add_task("L" * units, [(world.ids["alpha"], world.ids["todo"])])
    run = world.run()
    assert run.code == 0, run.output
    expected = "L" * min(units, 165)
    assert expected in stored_folders(world, "Alpha")
    assert "400" not in run.output
    before = world.writes()
    assert world.run().code == 0 and world.writes() == before  # desired == stored: no renames


def test_an_emoji_at_the_cut_point_is_stored_as_predicted(world):
    # 164 units + an emoji (2 units) straddles the 165 cut: its first half becomes `_`
    world.asana.add_task("a" * 164 + "🚀 tail", [(world.ids["alpha"], world.ids["todo"])])
    world.asana.add_task("b" * 163 + "🚀 tail", [(world.ids["alpha"], world.ids["todo"])])
    assert world.run().code == 0
    titles = stored_folders(world, "Alpha")
    assert "a" * 164 + "_" in titles and "b" * 163 + "__" in titles
    before = world.writes()
    assert world.run().code == 0 and world.writes() == before


def test_names_that_collide_only_after_the_cut_get_distinct_titles_that_fit(world):
    stem = "Quarterly planning " * 10  # 190 characters
    first = world.asana.add_task(stem + "one", [(world.ids["alpha"], world.ids["todo"])])
    second = world.asana.add_task(stem + "two", [(world.ids["alpha"], world.ids["todo"])])
    assert world.run().code == 0
    titles = [t for t in stored_folders(world, "Alpha") if t.startswith("Quarterly")]
    assert len(titles) == 2 and len(set(titles)) == 2
    assert all(utf16_length(t) <= 165 for t in titles)
    later = max(first, second, key=lambda g: (len(g), g))
    assert any(t.endswith(f" ({later[-6:]})") for t in titles)
    assert duplicates(world.docspace) == []


def test_a_long_project_name_gets_a_room_cut_to_170_units(world):
    world.asana.add_project("P" * 300, world.ids["ws"])
    run = world.run()
    assert run.code == 0, run.output
    assert world.docspace.find_room("P" * 170)
    before = world.writes()
    assert world.run().code == 0 and world.writes() == before


def test_the_client_cuts_titles_before_sending(client, docspace_service):
    room = client.create_room("R" * 300, 2)
    assert room["title"] == "R" * 170
    folder = client.create_folder(room["id"], "F" * 300 + ".docx")
    assert folder["title"] == "F" * 160 + ".docx"  # the extension kept, as the server's cut does
    renamed = client.rename_folder(folder["id"], " " + "G" * 200)
    assert renamed["title"] == "G" * 165
    statuses = [e.status for e in docspace_service.log.entries if e.method != "GET"]
    assert statuses and set(statuses) == {200}


# -- 3. rate-limit replies as the server sends them ------------------------------------------


def test_429s_without_retry_after_or_body_are_backed_off_on_the_clients_own(
    client, docspace_service
):
    docspace_service.faults.burst_429(4, retry_after=None, route="GET /files/rooms")
    assert client.list_rooms() == []
    assert client.stats.throttled == 4 and client.stats.reads == 5


def test_concurrency_429s_slow_the_apply_down_without_failing_records(world):
    for i in range(16):
        world.asana.add_task(f"Extra {i:02}", [(world.ids["alpha"], world.ids["todo"])])
    world.docspace.limits.max_concurrent_writes = 2  # 8 threads against a cap of 2
    world.sb.docspace.faults.latency(0.2, route="POST /files/folder/*")
    run = world.run("--concurrency", "8")
    assert run.code == 0, run.output
    assert len(world.tree()["Alpha"]) == 3 + 16 and world.tree()["Beta"] == EXPECTED_FLAT["Beta"]
    assert world.sb.docspace.log.count("POST", outcome="limited") > 0  # empty-body 429s met


def test_the_daily_limit_stops_the_client_at_once_with_the_reset_time(client, docspace_service):
    docspace_service.emulator.limits.writes_per_day = 1
    client.create_room("First", 2)
    started = time.monotonic()
    with pytest.raises(WriteLimitReached) as caught:
        client.create_room("Second", 2)
    assert time.monotonic() - started < 2
    expected = datetime.now(UTC) + timedelta(days=1)
    assert abs((caught.value.resets_at - expected).total_seconds()) < 10
    assert docspace_service.log.count("POST", outcome="limited") == 1  # asked once, not 6 times


def test_a_run_at_the_daily_limit_stops_within_seconds_and_the_next_run_finishes(world):
    world.docspace.limits.writes_per_day = 3
    started = time.monotonic()
    run = world.run()
    assert time.monotonic() - started < 15
    assert run.code == 3, run.output
    assert "daily write limit reached; it resets at" in run.output
    reset_day = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")
    assert reset_day in run.output
    assert world.sb.docspace.log.count(outcome="limited") <= 8  # no retries, nothing after
    done = world.ledger("status = 'applied'")
    assert len(done) == 3  # the ledger keeps what was done
    world.docspace.reset_limits()  # the window ends: 3 more writes today
    again = world.run()
    assert again.code == 3 and len(world.ledger("status = 'applied'")) == 6
    world.docspace.reset_limits()
    last = world.run()
    assert last.code == 0, last.output
    assert world.tree() == EXPECTED_FLAT
    assert duplicates(world.docspace) == []


# -- 4. smaller server facts -------------------------------------------------------------------


def test_a_template_status_that_vanished_before_it_was_read_is_resolved_by_marker(
    client, docspace_service
):
    emulator = docspace_service.emulator
    template = emulator.add_template("Kickoff", folders=["Brief"])
    emulator.template_job_seconds = 0.05
    emulator.template_status_linger_seconds = 0.0  # gone the moment it completes
    jobs = TemplateJobs(client)
    room = jobs.create_room(template.id, "From template", tags=["asana:project:7"], private=False)
    assert room is not None and room["title"] == "From template"
    assert [f.title for f in emulator.folders(room["id"])] == ["Brief"]


def test_a_failed_template_job_never_yields_a_room(client, docspace_service):
    emulator = docspace_service.emulator
    template = emulator.add_template("Kickoff")
    emulator.template_job_seconds = 0.05
    emulator.fail_next_template_job("Room quota exceeded")
    jobs = TemplateJobs(client)
    with pytest.raises(TemplateJobFailed, match="Room quota exceeded"):
        jobs.create_room(template.id, "Doomed", tags=["asana:project:8"], private=False)
    assert emulator.rooms("any") == []


def test_an_empty_tag_list_is_never_sent(client, docspace_service):
    docspace_service.emulator.add_room("Someone else's room")
    assert client.list_rooms(tags=[]) == []
    assert client.list_rooms(tags=[""]) == []
    assert docspace_service.log.count("GET") == 0


def test_a_marker_in_another_case_is_adopted_not_duplicated(world):
    alpha = world.ids["alpha"]
    world.docspace.add_room("Alpha (by hand)", tags=[f"ASANA:PROJECT:{alpha}"])
    run = world.run()
    assert run.code == 0, run.output
    assert sorted(r.title for r in world.docspace.rooms("any")) == ["Alpha (by hand)", "Beta"]
    assert world.tree()["Alpha (by hand)"] == EXPECTED_FLAT["Alpha"]  # adopted, not made anew


def test_a_deleted_parent_is_reported_and_its_subtree_re_planned(world):
    world.run()
    beta = world.docspace.find_room("Beta")
    world.docspace.delete(beta.id)
    world.asana.add_task("Late", [(world.ids["beta"], world.ids["beta_s"])])
    run = world.run()
    assert run.code == 1
    assert "no longer exists in DocSpace" in run.output
    assert "permission" not in run.output.lower()
    pending = [k for k, status, _ in world.ledger() if status == "pending"]
    assert f"asana:project:{world.ids['beta']}" in pending
    again = world.run()
    assert again.code == 0, again.output
    assert set(world.tree()["Beta"]) == {"Shared", "Ship", "Late"}


def test_a_folder_create_under_a_parent_deleted_meanwhile_answers_403_and_is_parent_gone(world):
    from docspace_destination.sync import Sync

    assert world.run("--extract-only").code == 0

    def delete_beta_once_created(action: Any, outcome: str) -> None:
        if action.kind == "room" and action.title == "Beta" and outcome == "created":
            world.docspace.delete(world.docspace.find_room("Beta").id)

    result = Sync("asana", on_progress=delete_beta_once_created).run()
    reasons = [reason for _, _, reason in result.report.failures]
    assert reasons and all("no longer exists in DocSpace" in r for r in reasons), reasons
    refused = world.sb.docspace.log.count("POST", route="/files/folder/{folderId}", status=403)
    assert refused, "the create itself met the missing parent"
    final = world.run()
    assert final.code == 0, final.output
    assert world.tree() == EXPECTED_FLAT


def test_no_request_carries_sort_by(world):
    world.run()
    world.asana.rename_task(world.ids["build"], "Build v2")
    world.run("--refresh")
    queries = [e.query for e in world.sb.docspace.log.entries]
    assert queries and not [q for q in queries if "sortby" in q.lower()]


def test_a_429_halves_the_requests_in_flight_and_successes_grow_them_back():
    from docspace_destination.client import Pacer

    pacer = Pacer(max_in_flight=16, calm=0.0)
    pacer.acquire("write")
    pacer.release("write", throttled=True)
    assert pacer.limit("write") == 8 and pacer.limit("read") == 16  # reads are paced apart
    for _ in range(9):
        pacer.acquire("write")
        pacer.release("write", throttled=False)
    assert pacer.limit("write") == 9  # about one more per round trip's worth of successes
