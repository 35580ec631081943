"""What an apply did: its outcomes counted, its failures with their reasons, and whether a
write budget (ours or DocSpace's daily limit) stopped it. Written by the apply's threads."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from docspace_destination.operations import Action


@dataclass
class ApplyReport:
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # key, title, reason
    budget_exhausted: bool = False
    # DocSpace's daily write limit was hit: nothing more is sent, the rest waits for this time
    write_limit_resets_at: datetime | None = None
    seconds: float = (
        0.0  # time spent applying (inside the destination), without planning or dlt's steps
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.counts[outcome] += n

    def fail(self, action: Action, reason: str) -> None:
        with self._lock:
            self.counts["failed"] += 1
            self.failures.append((action.key, action.title, reason))
