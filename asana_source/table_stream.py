"""One extract run shared by the source's resources, each pulling its own table's rows.

The run yields `(table, rows)` as its worker threads finish; dlt pulls its resources round
robin. A resource whose table has nothing buffered advances the run by one step only when
no table has anything buffered; otherwise, or if that step brought rows for other tables
only, it yields None (dlt's "nothing yet") so the others drain theirs: at any moment at
most one step of rows waits in memory. (Advancing whenever one's own buffer is empty let
the resources whose tables were finished early — users, tags, … — advance the run on every
round while the tasks resource drained one step per round: the whole account piled up in
the buffers, ~2 KB per task.)

The run starts on the first pull, inside dlt's extract, and asks dlt which resources were
selected (`source.with_resources("tasks")`), so it fetches only what those need.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dlt

Row = dict[str, Any]
Steps = Iterator[tuple[str, list[Row]]]


class TableStream:
    def __init__(self, start: Callable[[frozenset[str]], Steps], tables: Iterable[str]) -> None:
        self._start = start
        self.tables = list(tables)
        self._steps: Steps | None = None
        self._pulling: set[str] = set()  # tables whose resource dlt has started
        self._done = False
        self._buffers: dict[str, deque[list[Row]]] = {t: deque() for t in self.tables}

    def _selected(self) -> frozenset[str]:
        try:
            selected = set(dlt.current.source().selected_resources)
        except Exception:  # no source in context: everything
            selected = set(self.tables)
        return frozenset(t for t in self.tables if t in selected)

    def _advance(self) -> None:
        if self._steps is None:
            self._steps = self._start(self._selected())
        try:
            table, rows = next(self._steps)
        except StopIteration:
            self._done = True
            return
        self._buffers[table].append(rows)

    def _waiting(self) -> bool:
        """Rows are buffered for a resource dlt is pulling: it drains them first. (A table
        whose resource dlt never started cannot make the others wait forever.)"""
        return any(self._buffers[t] for t in self._pulling)

    def rows(self, table: str) -> Callable[[], Iterator[list[Row] | None]]:
        """The resource function of `table`."""

        def pull() -> Iterator[list[Row] | None]:
            buffer = self._buffers[table]
            self._pulling.add(table)
            while True:
                if buffer:
                    yield buffer.popleft()
                elif self._done:
                    return
                else:
                    if not self._waiting():
                        self._advance()
                    if not buffer and not self._done:
                        yield None  # the step fed other tables: let them drain first

        pull.__name__ = table
        return pull
