"""A share of an API's request quota, spent over a sliding window.

The watch mode runs beside people using the same tokens (their browser, other
integrations), so it keeps to a share of each quota rather than to the quota itself,
and it spreads that share over the window instead of spending it in bursts.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RequestBudget:
    """At most `share × quota` requests in any `window` seconds (thread-safe).

    `spend` records requests already sent (or about to be); `delay` says how long to wait
    before `n` more fit. Nothing here sleeps: the caller waits on its own stop event.
    """

    def __init__(
        self,
        name: str,
        quota: float,
        window: float,
        share: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        self.name = name
        self.quota = quota
        self.window = window
        self.share = share
        self.clock = clock
        self._spent: deque[tuple[float, int]] = deque()
        self._total = 0
        self._lock = threading.Lock()

    @property
    def allowed(self) -> float:
        """Requests allowed per window."""
        return self.quota * self.share

    @property
    def per_second(self) -> float:
        return self.allowed / self.window

    def _expire(self, now: float) -> None:
        while self._spent and self._spent[0][0] <= now - self.window:
            self._total -= self._spent.popleft()[1]

    def spend(self, n: int) -> None:
        if n <= 0:
            return
        with self._lock:
            now = self.clock()
            self._expire(now)
            self._spent.append((now, n))
            self._total += n

    def used(self) -> int:
        with self._lock:
            self._expire(self.clock())
            return self._total

    def delay(self, n: int) -> float:
        """Seconds until `n` more requests fit in the window (0: now)."""
        with self._lock:
            now = self.clock()
            self._expire(now)
            if self._total + n <= self.allowed or not self._spent:
                return 0.0
            # wait until enough of the oldest spending has left the window
            excess = self._total + n - self.allowed
            freed = 0
            for at, count in self._spent:
                freed += count
                if freed >= excess:
                    return max(0.0, at + self.window - now)
            return self.window

    def min_interval(self, per_cycle: int) -> float:
        """The shortest cycle that spends `per_cycle` requests within the share."""
        return per_cycle / self.per_second if per_cycle > 0 else 0.0
