"""The request log every emulator keeps: what tests and benchmarks count."""

from __future__ import annotations

import fnmatch
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class LogEntry:
    at: float
    service: str
    method: str
    route: str  # the route template, or "?" for an unknown route
    path: str
    status: int  # 0 when the response was deliberately lost
    outcome: str  # ok | error | limited | fault | lost | unknown | unauthorized
    token: str | None = None
    query: str = ""  # the raw query string (tests check which parameters a client sends)


class RequestLog:
    """Every request a service saw, in order. Thread-safe."""

    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def add(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    @property
    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def count(
        self,
        method: str | None = None,
        route: str | None = None,
        outcome: str | None = None,
        status: int | None = None,
    ) -> int:
        """Requests matching all given filters; `route` is a glob over the template."""
        return sum(1 for e in self.select(method, route, outcome, status))

    def select(
        self,
        method: str | None = None,
        route: str | None = None,
        outcome: str | None = None,
        status: int | None = None,
    ) -> Iterator[LogEntry]:
        for e in self.entries:
            if method and e.method != method.upper():
                continue
            if route and not fnmatch.fnmatchcase(e.route, route):
                continue
            if outcome and e.outcome != outcome:
                continue
            if status is not None and e.status != status:
                continue
            yield e

    def writes(self) -> int:
        """Write requests that reached the service's state (applied, even if the reply was lost)."""
        return sum(
            1 for e in self.entries if e.method in WRITE_METHODS and e.outcome in ("ok", "lost")
        )

    def counts(self) -> Counter[str]:
        """Requests per `METHOD /route/template`."""
        return Counter(f"{e.method} {e.route}" for e in self.entries)

    def unknown_routes(self) -> list[LogEntry]:
        return [e for e in self.entries if e.outcome == "unknown"]

    def max_in_window(self, seconds: float, token: str | None = None) -> int:
        """The most requests seen in any window of `seconds` (optionally for one token)."""
        times = [e.at for e in self.entries if token is None or e.token == token]
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while times[lo] <= t - seconds:
                lo += 1
            best = max(best, hi - lo + 1)
        return best
