"""How hard the DocSpace client pushes: requests counted, and requests in flight learnt from 429s."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class RequestStats:
    reads: int = 0
    writes: int = 0
    retries: int = 0
    throttled: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, method: str) -> None:
        with self._lock:
            if method == "GET":
                self.reads += 1
            else:
                self.writes += 1

    def note(self, attr: str) -> None:
        with self._lock:
            setattr(self, attr, getattr(self, attr) + 1)

    @property
    def total(self) -> int:
        return self.reads + self.writes


class Pacer:
    """How many requests of a kind (reads, writes) a client keeps in flight, learnt from 429s.

    DocSpace gives nothing to pace on before it refuses: successful replies carry no
    ``X-RateLimit-*`` headers (the server only *documents* them, in
    common/ASC.Api.Core/Extensions/RateLimitOperationFilter.cs; at run time they are set only by
    RedisRateLimiting.AspNetCore's ``RateLimitMetadata.OnRejected``, i.e. on a 429), and the
    concurrency and per-minute 429s carry no ``Retry-After``. So the pacer reads no headers: a
    429 halves the number of requests of that kind allowed in flight (at most once per
    `calm` seconds, so one burst of refusals counts once) and each success lets it grow by
    about one per round trip again (additive increase, multiplicative decrease) — other
    clients of the same user share DocSpace's 15 concurrent writes. Each refused request
    also waits its own jittered, growing backoff (`pm_runtime.http_policy`) before it is
    sent again.
    """

    def __init__(self, max_in_flight: int = 64, calm: float = 0.1) -> None:
        self.max_in_flight = max_in_flight
        self.calm = calm
        self._cond = threading.Condition()
        self._in_flight = {"read": 0, "write": 0}
        self._limit = {"read": float(max_in_flight), "write": float(max_in_flight)}
        self._cut_at = {"read": 0.0, "write": 0.0}

    def limit(self, kind: str) -> int:
        with self._cond:
            return int(self._limit[kind])

    def acquire(self, kind: str) -> None:
        with self._cond:
            while self._in_flight[kind] >= int(self._limit[kind]):
                self._cond.wait()
            self._in_flight[kind] += 1

    def release(self, kind: str, throttled: bool) -> None:
        with self._cond:
            self._in_flight[kind] -= 1
            limit = self._limit[kind]
            now = time.monotonic()
            if throttled:
                if now - self._cut_at[kind] >= self.calm:
                    self._limit[kind] = max(1.0, limit / 2)
                    self._cut_at[kind] = now
            else:
                self._limit[kind] = min(float(self.max_in_flight), limit + 1 / limit)
            self._cond.notify_all()
