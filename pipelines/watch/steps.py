"""The two steps of a watch cycle that change something: the extract and the sync.

Both are the very ones a one-off run uses (the source's dlt pipeline,
`docspace_destination.sync.Sync`); here they are kept across cycles and made interruptible.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from pm_runtime.source_spec import SourceSpec


class ExtractStep:
    """The source → DuckDB load of a one-off run, with the detector's arguments (one pipeline object)."""

    def __init__(self, source: SourceSpec) -> None:
        assert source.dlt_source is not None, f"{source.name} states no dlt source"
        self.source, self.dataset = source.name, source.dataset
        self.make_source = source.dlt_source
        self.pipeline: Any = None

    def __call__(self, args: dict[str, Any]) -> dict[str, int]:
        from pm_runtime.load_phases import run_pipeline
        from pm_runtime.staging import fit_file_formats, staging_pipeline

        if self.pipeline is None:
            self.pipeline = staging_pipeline(self.source, self.dataset)
        from docspace_destination.settings import source_options  # attachments when copied

        options = {**source_options(self.source), **args}
        # a big first load runs in a process of its own, as a one-off run's does
        run_pipeline(self.pipeline, fit_file_formats(self.pipeline, self.make_source(**options)))
        trace = self.pipeline.last_trace
        info = trace.last_normalize_info if trace else None
        counts = info.row_counts if info else {}
        # root tables only: child tables (tasks__memberships...) just repeat their parents' story
        return {t: n for t, n in counts.items() if "__" not in t and not t.startswith("_dlt") and n}


class SyncStep:
    """`Sync(...).run()`, interruptible: `stop()` lets the writes in flight finish and defers the rest.

    After each sync the finished load packages of both pipelines are pruned to the newest
    `keep_packages` (see `pipelines.watch.load_packages`)."""

    def __init__(self, source: SourceSpec, concurrency: int | None, keep_packages: int) -> None:
        self.spec, self.source, self.concurrency = source, source.name, concurrency
        self.keep_packages = keep_packages
        self._lock = threading.Lock()
        self._current: Any = None
        self._stopped = False

    def __call__(self, max_writes: int | None) -> Any:
        from docspace_destination.sync import Sync

        # listed=0: the plan is counted, not held (a watch prints its counts, never the actions)
        sync = Sync(self.spec, concurrency=self.concurrency, max_writes=max_writes, listed=0)
        with self._lock:
            self._current = sync
            if self._stopped:
                sync.settings.apply.max_writes = 0
        try:
            return sync.run()
        finally:
            with self._lock:
                self._current = None
            self._prune()

    def _prune(self) -> None:
        from pipelines.watch.load_packages import prune_loaded_packages
        from pm_runtime.dlt_state import pipelines_dir

        for name in (self.source, f"{self.source}_docspace"):
            prune_loaded_packages(Path(pipelines_dir()) / name, self.keep_packages)

    def stop(self) -> None:
        # the applier checks the write budget before every write: a zero budget defers what
        # has not started (reported "deferred", resumed by the next run) — the --max-writes path
        with self._lock:
            self._stopped = True
            if self._current is not None:
                self._current.settings.apply.max_writes = 0
