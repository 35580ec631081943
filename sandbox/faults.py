"""What a service enforces (Limits) and what a test injects (Faults), per route glob."""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Limits:
    """What the real service enforces. None switches a limit off."""

    max_concurrent_reads: int | None = None
    max_concurrent_writes: int | None = None
    requests_per_window: int | None = None
    window_seconds: float = 60.0
    writes_per_day: int | None = None
    # a fixed window (DocSpace: RedisFixedWindowRateLimiter, Window = TimeSpan.FromDays(1)),
    # opened by the first counted write; tests shorten it or call Emulator.reset_limits()
    daily_window_seconds: float = 86_400.0
    # what the daily budget counts: DocSpace's BaseStartup counts POST and PUT only
    # (partition `fw_post_put_{userId}`; DELETE and GET get the no-limiter partition)
    daily_methods: frozenset[str] = frozenset({"POST", "PUT"})


@dataclass
class FaultRule:
    """Faults for requests whose `METHOD /template` matches `route` (a glob)."""

    route: str = "*"
    latency: float = 0.0
    jitter: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500,)
    lost_response_rate: float = 0.0

    def matches(self, route_name: str) -> bool:
        return fnmatch.fnmatchcase(route_name, self.route)


class Faults:
    """Injected misbehaviour, deterministic for a given seed."""

    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._burst: list[
            tuple[str, int, float | None]
        ] = []  # (route glob, remaining, retry_after)

    def add(self, rule: FaultRule | None = None, **kwargs: Any) -> FaultRule:
        rule = rule or FaultRule(**kwargs)
        self.rules.append(rule)
        return rule

    def latency(self, seconds: float, jitter: float = 0.0, route: str = "*") -> FaultRule:
        return self.add(route=route, latency=seconds, jitter=jitter)

    def errors(
        self, rate: float, statuses: tuple[int, ...] = (500, 502, 503), route: str = "*"
    ) -> FaultRule:
        return self.add(route=route, error_rate=rate, error_statuses=statuses)

    def lose_responses(self, rate: float, route: str = "*") -> FaultRule:
        """Apply matching writes, then drop the connection before replying."""
        return self.add(route=route, lost_response_rate=rate)

    def burst_429(self, count: int, retry_after: float | None = 1, route: str = "*") -> None:
        """The next `count` matching requests are rejected with 429."""
        with self._lock:
            self._burst.append((route, count, retry_after))

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self._burst.clear()

    def roll(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self._lock:
            return self._random.random() < probability

    def choice(self, options: tuple[int, ...]) -> int:
        with self._lock:
            return self._random.choice(options)

    def uniform(self, hi: float) -> float:
        with self._lock:
            return self._random.uniform(0, hi)

    def take_burst(self, route_name: str) -> tuple[bool, float | None]:
        with self._lock:
            for i, (glob, remaining, retry_after) in enumerate(self._burst):
                if remaining > 0 and fnmatch.fnmatchcase(route_name, glob):
                    self._burst[i] = (glob, remaining - 1, retry_after)
                    return True, retry_after
            return False, None

    def for_route(self, route_name: str) -> list[FaultRule]:
        return [r for r in self.rules if r.matches(route_name)]
