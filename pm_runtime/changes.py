"""What a source's change detector hands the watch loop: did anything move, and what to extract.

A detector polls the source's cheapest change signal. It never touches DuckDB or dlt: an
idle cycle costs only its own requests. Its cursors advance only when the loop commits
the changes after they were extracted and applied, so a failed cycle sees them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Changes:
    """One poll's findings."""

    what: list[str] = field(default_factory=list)  # human-readable, for the cycle's log line
    source_args: dict[str, Any] = field(default_factory=dict)  # arguments for the extract
    requests: int = 0  # requests this poll sent
    extract_cost: int = 0  # requests the extract is expected to send (for the budget)
    commit: Callable[[], None] = lambda: None  # advance the cursors: the changes are applied

    @property
    def any(self) -> bool:
        return bool(self.what)


class ChangeDetector(Protocol):
    """Implemented by `asana_source.changes` and `trello_source.changes`."""

    def poll(self) -> Changes:
        """Look once; the first poll only takes a baseline (and reports nothing)."""
        ...

    def requests_per_poll(self) -> int:
        """What one idle poll costs, as of the last poll (for stretching the interval)."""
        ...

    def is_credentials_error(self, exc: BaseException) -> bool:
        """True when `exc` (from a poll or an extract) means the credentials are rejected."""
        ...

    def close(self) -> None: ...
