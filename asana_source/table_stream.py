"""One extract run shared by the source's resources, each pulling its own table's rows.

The run yields `(table, rows)` as its worker threads finish; dlt pulls its resources round
robin. A resource whose table has nothing buffered advances the run by one step and, if
that step brought rows for other tables only, yields None (dlt's "nothing yet") so the
others drain theirs: at any moment only a step or two of rows waits in memory.

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

    def rows(self, table: str) -> Callable[[], Iterator[list[Row] | None]]:
        """The resource function of `table`."""

        def pull() -> Iterator[list[Row] | None]:
            buffer = self._buffers[table]
            while True:
                if buffer:
                    yield buffer.popleft()
                elif self._done:
                    return
                else:
                    self._advance()
                    if not buffer and not self._done:
                        yield None  # the step fed other tables: let them drain first

        pull.__name__ = table
        return pull
