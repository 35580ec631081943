"""`--watch`: DocSpace follows Asana and Trello within a few cycles, unattended.

The watcher is the real entry point in a subprocess (so signals, the pid lock and exit codes
are real); the emulators run in the test process over real HTTP.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import Sandbox
from tests.sync_world import AsanaWorld
from tests.watch_world import Watcher, folder_titles, load_packages, run_rows, watch_env

FAST = ("--interval", "0.3")


@pytest.fixture
def world(workspace: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> AsanaWorld:
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(workspace / "pm.duckdb"))
    return AsanaWorld(sandbox).build()


@pytest.fixture
def start(workspace: Path, sandbox: Sandbox) -> Iterator[Any]:
    started: list[Watcher] = []

    def run(*args: str, source: str = "asana", **env: str) -> Watcher:
        w = Watcher(workspace, watch_env(workspace, sandbox.environment(), **env), source, *args)
        started.append(w)
        return w

    yield run
    for w in started:
        w.kill()


def caught_up(w: Watcher, world: AsanaWorld) -> None:
    w.wait_for(lambda: {"Design", "Ship"} <= folder_titles(world.docspace), what="catch-up")


def test_a_new_task_gets_its_folder_within_a_few_cycles(world: AsanaWorld, start: Any) -> None:
    w = start(*FAST)
    caught_up(w, world)
    world.asana.add_task("Fresh idea", [(world.ids["alpha"], world.ids["todo"])])
    w.wait_for(lambda: "Fresh idea" in folder_titles(world.docspace), 20, "the new folder")
    assert "project 'Alpha': 1 event(s)" in w.wait_for_line("event(s)")


def test_a_renamed_task_and_an_archived_project_follow(world: AsanaWorld, start: Any) -> None:
    w = start(*FAST)
    caught_up(w, world)
    world.asana.rename_task(world.ids["ship"], "Ship it")
    world.asana.archive_project(world.ids["beta"])
    w.wait_for(lambda: "Beta [archived]" in world.tree(), 20, "the archived room")
    assert "Ship it" in folder_titles(world.docspace)


def test_idle_cycles_send_only_the_detection_requests_and_load_nothing(
    world: AsanaWorld, start: Any, workspace: Path
) -> None:
    w = start(*FAST, "-v")
    caught_up(w, world)
    w.wait_for_line("no changes")
    packages = load_packages(workspace, "asana"), load_packages(workspace, "asana_docspace")
    world.sb.asana.log.clear()
    world.sb.docspace.log.clear()
    idle_before = sum("no changes" in x for x in w.lines)
    time.sleep(2.0)
    idle = sum("no changes" in x for x in w.lines) - idle_before
    assert idle >= 3  # looks keep coming at the interval: the budget is not overspent
    w.signal()
    assert w.exit_code() == 0
    routes = set(world.sb.asana.log.counts())
    assert routes <= {"GET /events", "GET /workspaces/{gid}/projects"}, routes
    # one events call per project and one project listing per cycle (give or take the cycle in flight)
    assert world.sb.asana.log.count(route="/events") <= 2 * (idle + 1)
    assert len(world.sb.docspace.log) == 0
    assert (
        load_packages(workspace, "asana"),
        load_packages(workspace, "asana_docspace"),
    ) == packages
    assert run_rows(workspace) == 1  # the catch-up only


def test_sigterm_exits_0_within_seconds(world: AsanaWorld, start: Any) -> None:
    w = start(*FAST)
    caught_up(w, world)
    t0 = time.monotonic()
    w.signal(signal.SIGTERM)
    assert w.exit_code(timeout=10) == 0
    assert time.monotonic() - t0 < 10
    assert w.lines[-1].endswith("asana watcher stopped (SIGTERM)")


def test_sigterm_during_a_long_apply_finishes_the_writes_in_flight_and_exits_0(
    world: AsanaWorld, start: Any, workspace: Path
) -> None:
    for i in range(150):
        world.asana.add_task(f"Bulk {i:03}", [(world.ids["beta"], world.ids["beta_s"])])
    world.sb.docspace.faults.latency(0.05, route="POST *")
    w = start(*FAST, "--concurrency", "2")
    w.wait_for(lambda: len(folder_titles(world.docspace)) >= 10, 60, "some folders")
    t0 = time.monotonic()
    w.signal(signal.SIGINT)
    assert w.exit_code(timeout=10) == 0
    assert time.monotonic() - t0 < 10
    made = folder_titles(world.docspace)
    assert len([t for t in made if t.startswith("Bulk")]) < 150  # stopped early
    # what was deferred stays written-ahead ("pending"): the next run looks before it creates
    world.sb.docspace.faults.clear()
    again = start(*FAST)
    again.wait_for(
        lambda: sum(t.startswith("Bulk") for t in folder_titles(world.docspace)) == 150,
        90,
        "the rest of the folders",
    )
    from tests.sync_world import duplicates

    assert duplicates(world.docspace) == []


def test_a_second_watcher_refuses_naming_the_first_ones_pid(world: AsanaWorld, start: Any) -> None:
    first = start(*FAST)
    caught_up(first, world)
    second = start(*FAST)
    assert second.exit_code(timeout=30) == 1
    assert f"already running (PID {first.proc.pid}" in second.output
    assert len([x for x in second.lines if x.startswith("error:")]) == 1
    assert first.proc.poll() is None


def test_a_burst_of_5xx_is_backed_off_and_survived(world: AsanaWorld, start: Any) -> None:
    w = start(*FAST)
    caught_up(w, world)
    rule = world.sb.asana.faults.errors(1.0, statuses=(503,), route="GET /events")
    w.wait_for_line("cycle failed", 30)
    world.sb.asana.faults.rules.remove(rule)
    world.asana.add_task("After the storm", [(world.ids["alpha"], world.ids["todo"])])
    w.wait_for(lambda: "After the storm" in folder_titles(world.docspace), 30, "recovery")
    assert w.proc.poll() is None


def test_a_revoked_token_stops_the_watcher_with_one_line(world: AsanaWorld, start: Any) -> None:
    w = start(*FAST)
    caught_up(w, world)
    world.asana.token = "revoked"
    assert w.exit_code(timeout=20) == 1
    assert w.lines[-1] == "error: Asana rejected the access token (401)"
    assert "Traceback" not in w.output


def test_edited_credentials_stop_the_watcher_for_a_restart(
    world: AsanaWorld, start: Any, workspace: Path
) -> None:
    secrets = workspace / ".dlt" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('[sources.asana]\naccess_token = "sandbox-asana-pat"\n')
    w = start(*FAST)
    caught_up(w, world)
    time.sleep(0.05)
    secrets.write_text('[sources.asana]\naccess_token = "a-new-token"\n')
    assert w.exit_code(timeout=20) == 3
    assert "credentials in" in w.lines[-1] and "a-new-token" not in w.output


def test_the_interval_is_stretched_once_when_projects_are_too_many(
    world: AsanaWorld, start: Any
) -> None:
    for i in range(8):
        world.asana.add_project(f"Extra {i}", world.ids["ws"])
    # a 60-requests/min quota at half share: 10 projects + 1 listing = 11 requests per look → 22 s
    w = start(*FAST, WATCH__ASANA_QUOTA="60")
    line = w.wait_for_line("the interval is", 60)
    assert "one look costs 11 requests" in line and "every 22.0s" in line
    time.sleep(1.0)
    assert sum("the interval is" in x for x in w.lines) == 1


def test_a_new_trello_card_gets_its_folder(sandbox: Sandbox, start: Any, workspace: Path) -> None:
    em: Any = sandbox.trello.emulator
    board = em.add_board("Roadmap")
    todo = em.add_list(board, "To do")
    em.add_card("First card", todo)
    w = start(*FAST, source="trello")
    w.wait_for(lambda: "First card" in folder_titles(sandbox.docspace.emulator), 60, "catch-up")
    em.tick(1.0)
    em.add_card("Second card", todo)
    w.wait_for(lambda: "Second card" in folder_titles(sandbox.docspace.emulator), 20, "the card")
    assert "DocSpace created 1" in w.wait_for_line("board 'Roadmap' changed")


def test_watch_cannot_be_combined_with_plan(capsys: pytest.CaptureFixture[str]) -> None:
    from pipelines.command import main

    assert main("asana", ["--watch", "--plan"]) == 1
    assert "--watch cannot be combined with --plan" in capsys.readouterr().out


def test_a_duckdb_file_locked_by_another_process_is_waited_out(
    world: AsanaWorld, start: Any, workspace: Path
) -> None:
    import duckdb

    # a cycle waits this long for the file, then fails and is retried after a back-off
    w = start(*FAST, STAGING__LOCK_TIMEOUT="1")
    caught_up(w, world)
    w.wait_for(lambda: run_rows(workspace) == 1, 10, "the catch-up's run row")
    holder = duckdb.connect(str(workspace / "pm.duckdb"))  # this process now holds the write lock
    try:
        world.asana.add_task("While locked", [(world.ids["alpha"], world.ids["todo"])])
        w.wait_for_line("cycle failed", 30)
    finally:
        holder.close()
    w.wait_for(lambda: "While locked" in folder_titles(world.docspace), 30, "the folder")
    assert w.proc.poll() is None


def test_an_idle_trello_watcher_sends_one_board_listing_per_look(
    sandbox: Sandbox, start: Any
) -> None:
    em: Any = sandbox.trello.emulator
    em.add_card("Only card", em.add_list(em.add_board("Roadmap"), "To do"))
    w = start(*FAST, "-v", source="trello")
    w.wait_for_line("no changes", 60)
    sandbox.trello.log.clear()
    time.sleep(1.5)
    w.signal()
    assert w.exit_code() == 0
    assert set(sandbox.trello.log.counts()) == {"GET /members/me/boards"}


def test_the_sandbox_demo_changes_the_sample_and_the_watcher_follows(workspace: Path) -> None:
    env = watch_env(workspace, {})
    del env["DESTINATION__DUCKDB__CREDENTIALS"], env["DLT_DATA_DIR"]  # the demo sets its own
    w = Watcher(workspace, env, "asana", "--sandbox", "--interval", "0.5")
    try:
        w.wait_for_line("catch-up", 90)
        change = w.wait_for_line("sandbox: Asana:", 30)
        w.wait_for(
            lambda: any("event(s)" in x for x in w.lines[w.lines.index(change) :]), 30, "a cycle"
        )
        w.signal()
        assert w.exit_code() == 0
    finally:
        w.kill()


def test_only_the_newest_load_packages_are_kept_while_changes_flow(
    world: AsanaWorld, start: Any, workspace: Path
) -> None:
    w = start(*FAST, WATCH__KEEP_LOAD_PACKAGES="2")
    caught_up(w, world)
    for i in range(4):
        world.asana.add_task(f"Change {i}", [(world.ids["alpha"], world.ids["todo"])])
        w.wait_for(lambda i=i: f"Change {i}" in folder_titles(world.docspace), 20, f"change {i}")
    w.wait_for(lambda: sum("event(s)" in x for x in w.lines) >= 4, 20, "the cycles' lines")
    w.signal()
    assert w.exit_code() == 0
    assert load_packages(workspace, "asana") == 2
    assert load_packages(workspace, "asana_docspace") == 2


def test_sigterm_during_a_stuck_extract_exits_0_within_10_seconds(
    world: AsanaWorld, start: Any
) -> None:
    w = start(*FAST)
    caught_up(w, world)
    world.sb.asana.faults.errors(1.0, statuses=(503,), route="GET /tasks")  # the extract retries
    world.asana.add_task("Never staged", [(world.ids["alpha"], world.ids["todo"])])
    w.wait_for(lambda: world.sb.asana.log.count(route="/tasks", status=503) > 0, 20, "the extract")
    t0 = time.monotonic()
    w.signal(signal.SIGTERM)
    assert w.exit_code(timeout=12) == 0
    assert time.monotonic() - t0 < 10
    assert "stopped while extracting: the next start repeats it" in w.output


HOLD_THE_RUN_LOCK = (
    "import time; from pm_runtime.sync_lock import sync_lock\n"
    "with sync_lock('asana'):\n"
    "    print('held', flush=True); time.sleep(60)\n"
)


def test_a_cycle_meeting_a_run_under_way_backs_off_and_then_applies(
    world: AsanaWorld, start: Any, workspace: Path
) -> None:
    import os
    import subprocess
    import sys

    w = start(*FAST, STAGING__LOCK_TIMEOUT="0.5")
    caught_up(w, world)
    root = Path(__file__).resolve().parents[1]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_RUN_LOCK],
        cwd=workspace,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        world.asana.add_task("While busy", [(world.ids["alpha"], world.ids["todo"])])
        line = w.wait_for_line("cycle failed", 30)
        assert f"another run of the asana pipeline is still running (PID {holder.pid}" in line
    finally:
        holder.kill()
        holder.wait()
    w.wait_for(lambda: "While busy" in folder_titles(world.docspace), 30, "the retried cycle")
    assert w.proc.poll() is None
