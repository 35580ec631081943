"""The watch loop's share of an API quota: spent over a sliding window, never in a burst."""

from __future__ import annotations

from pipelines.watch.budget import RequestBudget


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_half_of_asanas_quota_allows_750_requests_a_minute() -> None:
    budget = RequestBudget("asana", 1500, 60.0, share=0.5, clock=Clock())
    budget.spend(750)
    assert budget.delay(0) == 0
    assert budget.delay(1) > 0


def test_spent_requests_leave_the_window_after_it_passes() -> None:
    clock = Clock()
    budget = RequestBudget("trello", 100, 10.0, share=0.5, clock=clock)
    budget.spend(50)
    clock.now = 4.0
    assert budget.delay(1) == 6.0
    clock.now = 10.0
    assert budget.delay(50) == 0 and budget.used() == 0


def test_a_poll_of_101_requests_needs_a_cycle_of_8_seconds_at_half_of_asanas_quota() -> None:
    budget = RequestBudget("asana", 1500, 60.0, share=0.5)
    assert round(budget.min_interval(101), 2) == 8.08
