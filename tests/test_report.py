"""What the command line prints about a plan and a sync, from made-up results (no run needed)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from docspace_destination.apply_report import ApplyReport
from docspace_destination.opt_in_steps import StepReport
from docspace_destination.plan import Action, Plan
from docspace_destination.sync import SyncResult
from pipelines.flags import limits_flag_problem
from pipelines.report import format_plan, format_summary
from sandbox.demo import format_next_steps


def folder(n: int, op: str = "create") -> Action:
    return Action(op, f"asana:task:{n}", "task", "folder", 1, f"Task {n}", "asana:project:1", False)


def test_a_plan_lists_ten_actions_per_kind_and_counts_the_rest() -> None:
    text = format_plan(Plan("asana", [folder(n) for n in range(12)]), verbose=0)
    assert text.splitlines()[1] == "Plan for asana: 12 change(s), 12 DocSpace write(s)"
    assert "  create                   12" in text
    assert "      folder 'Task 9'  [asana:task:9]" in text
    assert "Task 10" not in text
    assert text.endswith("      … and 2 more (-v lists all)")


def test_a_plan_that_keeps_only_what_it_lists_prints_the_same() -> None:
    """A run's plan is counted as it streams to the apply; it keeps the first ten of each kind."""
    kept = Plan("asana", listed=10)
    for n in range(12):
        kept.record(folder(n))
    kept.record(folder(12, op="noop"))
    assert len(kept.actions) == 10
    assert kept.change_count == 12 and kept.counts()["noop"] == 1
    every = Plan("asana", [folder(n) for n in range(12)] + [folder(12, op="noop")])
    assert format_plan(kept, verbose=0) == format_plan(every, verbose=0)


def test_a_verbose_plan_lists_every_action() -> None:
    text = format_plan(Plan("asana", [folder(n) for n in range(12)]), verbose=1)
    assert "Task 11" in text and "more (-v lists all)" not in text


def test_a_room_from_a_template_names_the_template() -> None:
    room = Action("create", "asana:project:1", "project", "room", 0, "Site", None, False)
    room = Action(**{**room.as_row(), "template": "Marketing room"})
    text = format_plan(Plan("asana", [room]), verbose=0)
    assert "  create from template      1" in text
    assert "room   'Site'  [asana:project:1] from template 'Marketing room'" in text


def result(report: ApplyReport, **steps: StepReport) -> SyncResult:
    return SyncResult("asana", Plan("asana"), report, 1.25, reads=3, writes=2, **steps)


def test_a_summary_counts_outcomes_requests_and_failures() -> None:
    report = ApplyReport(counts=Counter(created=2, failed=1))
    report.failures.append(("asana:task:1", "Task 1", "HTTP 403"))
    text = format_summary(result(report))
    assert text.splitlines()[1] == "DocSpace sync summary (asana, 1.2s)"
    assert "  created          2" in text
    assert "  unchanged        0" in text
    assert "  requests         5  (2 writes)" in text
    assert "  FAILED asana:task:1 'Task 1': HTTP 403" in text


def test_a_summary_says_when_the_daily_write_limit_resets() -> None:
    report = ApplyReport(write_limit_resets_at=datetime(2026, 1, 2, 3, 4, 5))
    assert "it resets at 2026-01-02 03:04:05 UTC" in format_summary(result(report))


def test_a_summary_lists_the_opt_in_steps_and_unknown_people() -> None:
    members = StepReport("members", counts=Counter(invited=2), unknown_people=["ann@example.com"])
    text = format_summary(result(ApplyReport(), members=members))
    assert "  members     invited 2" in text
    assert "  people with no DocSpace account (1, not invited):\n    ann@example.com" in text


def test_next_steps_of_a_sandbox_run_name_its_data_directories() -> None:
    env = {
        "DLT_DATA_DIR": "data/sandbox/dlt",
        "DESTINATION__DUCKDB__CREDENTIALS": "data/sandbox/pm.duckdb",
    }
    text = format_next_steps("asana", env, ".venv/bin/python")
    assert (
        "DESTINATION__DUCKDB__CREDENTIALS=data/sandbox/pm.duckdb .venv/bin/python -m pm_runtime.query "
        '"SELECT name, archived FROM asana_data.projects"'
    ) in text
    assert "make show PIPELINE=asana DEMO=1" in text


def test_the_limits_of_the_command_line_are_checked_with_the_flags_names() -> None:
    assert limits_flag_problem(16, None) == (
        "--concurrency must be between 1 and 15 (DocSpace rejects more than 15 concurrent writes)"
    )
    assert limits_flag_problem(None, -1) == "--max-writes must be 0 or more"
    assert limits_flag_problem(None, None) is None
