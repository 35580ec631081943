"""The staging DuckDB every pipeline shares (data/pm.duckdb unless configured), and how to open it.

DuckDB admits one writing process or many reading ones, so nobody may sit on the
file: the sync opens it for short transactions only (`open_staging`: a load, the
plan's reads, a ledger flush) and closes it in between, so `python -m
pm_runtime.query` and `dlt pipeline <name> show` get in between. Every opener —
ours and dlt's own loads (`staging_pipeline`) — waits for a locked file as
`pm_runtime.staging_lock` says. This module is the one place that opens the
staging database.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import dlt
import duckdb
from dlt.common.configuration import configspec
from dlt.destinations.impl.duckdb.configuration import (
    DuckDbClientConfiguration,
    DuckDbConnectionPool,
    DuckDbCredentials,
)

from pm_runtime.staging_config import duckdb_file_setting, staging_config
from pm_runtime.staging_database import (
    configured_destination,
    open_warehouse,
    warehouse_destination,
)
from pm_runtime.staging_lock import wait_while_locked

DEFAULT_DUCKDB_PATH = Path("data") / "pm.duckdb"

StagingOpener = Callable[..., AbstractContextManager[duckdb.DuckDBPyConnection]]


def staging_database_path() -> str:
    """`DESTINATION__DUCKDB__CREDENTIALS` (a path or duckdb:/// URL) when set, else data/pm.duckdb.

    A relative path is taken from the working directory, as dlt does (its `local_dir`).
    """
    configured = duckdb_file_setting()
    path = Path(str(configured).removeprefix("duckdb:///")) if configured else DEFAULT_DUCKDB_PATH
    path = path if path.is_absolute() else Path.cwd() / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


# -- our own connections ---------------------------------------------------------------------

# One staging connection at a time per process: DuckDB refuses a second in-process connection
# with another configuration (read-only vs read-write), and the holds are short anyway.
_process_hold = threading.RLock()
_open_here = threading.local()


def _connect(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only and not os.path.exists(path):
        read_only = False  # nothing staged yet: an empty database, not an error
    try:
        return duckdb.connect(path, read_only=read_only)
    except duckdb.ConnectionException as exc:
        # this process already has the file open read-write (dlt, a test): reading through that works
        if read_only and "different configuration" in str(exc):
            return duckdb.connect(path, read_only=False)
        raise


@contextlib.contextmanager
def open_staging(
    read_only: bool = False, *, timeout: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the staging database for one short transaction; closed on exit.

    Waits while another process holds the file (`[staging] lock_timeout`). Nested use in one
    thread reuses the outer connection, so a caller can read a consistent snapshot across
    helpers that open the database themselves.
    """
    with _process_hold:
        outer = getattr(_open_here, "con", None)
        if outer is not None:
            yield outer
            return
        staging = staging_config()  # once per transaction: dlt resolves it in ~1 ms
        warehouse = staging.destination
        if warehouse != "duckdb":
            # a server: no file lock to wait for; concurrent readers and writers are its job
            with open_warehouse(warehouse) as sql:
                _open_here.con = sql
                try:
                    yield sql  # type: ignore[misc]
                finally:
                    _open_here.con = None
            return
        path = staging_database_path()
        wait = staging.lock_timeout if timeout is None else timeout
        con = wait_while_locked(lambda: _connect(path, read_only), path, wait)
        _open_here.con = con
        try:
            yield con
        finally:
            _open_here.con = None
            con.close()


# -- dlt's connections -----------------------------------------------------------------------


class _WaitingConnectionPool(DuckDbConnectionPool):
    """dlt's DuckDB connection pool, waiting like `open_staging` when the file is locked."""

    def borrow_conn(
        self,
        global_config: dict[str, Any] | None = None,
        local_config: dict[str, Any] | None = None,
        pragmas: list[str] | None = None,
    ) -> duckdb.DuckDBPyConnection:
        borrow = super().borrow_conn  # raises before counting a borrow, so a retry is clean
        return wait_while_locked(
            lambda: borrow(global_config, local_config, pragmas),  # type: ignore[arg-type]
            str(self.credentials.database),
        )


# DuckDB takes 80% of the machine's memory and a buffer set per core by default, and fills
# what it is given with cached blocks: the load of 200,000 Asana tasks peaked at ~730 MB
# in-process. With one thread and 128 MB, and merges that deduplicate in memory DuckDB can
# spill (pm_runtime.duckdb_merge), that load peaks at ~310 MB in its own process
# (pm_runtime.load_phases) and takes no longer (the merge is I/O-bound); 96 MB still loads it.
# `[staging] duckdb_memory_limit` / `STAGING__DUCKDB_MEMORY_LIMIT` raises it (e.g. "1GB";
# default in `pm_runtime.staging_config`).


@configspec(init=False)
class StagingDuckDbCredentials(DuckDbCredentials):
    def on_resolved(self) -> None:
        super().on_resolved()
        limit = staging_config().duckdb_memory_limit
        self.pragmas = [*(self.pragmas or []), f"memory_limit={_quoted(limit)}", "threads=1"]
        self.conn_pool = _WaitingConnectionPool(self)


@configspec(init=False)
class StagingDuckDbConfiguration(DuckDbClientConfiguration):
    credentials: StagingDuckDbCredentials = None  # type: ignore[assignment]


class staging_duckdb(dlt.destinations.duckdb):  # noqa: N801 - dlt names destination factories in lower case
    """dlt's duckdb destination whose connections wait for a locked file."""

    spec = StagingDuckDbConfiguration  # type: ignore[assignment]

    @property
    def client_class(self) -> type[Any]:
        # merges that fit the memory limit (pm_runtime.duckdb_merge); imported when dlt loads
        from pm_runtime.duckdb_merge import StagingDuckDbClient

        return StagingDuckDbClient

    @property
    def destination_type(self) -> str:
        # recorded in the pipeline state: `dlt pipeline <name> show` attaches with plain duckdb
        return "dlt.destinations.duckdb"


def staging_pipeline(
    pipeline_name: str, dataset_name: str, progress: str | None = None
) -> dlt.Pipeline:
    """The source → staging pipeline (`asana` → `asana_data`, `trello` → `trello_data`), into
    DuckDB or the warehouse `[staging] destination` names."""
    warehouse = configured_destination()
    destination = (
        staging_duckdb(credentials=staging_database_path())
        if warehouse == "duckdb"
        else warehouse_destination(warehouse)
    )
    from pm_runtime.dlt_state import pipelines_dir

    return dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=destination,
        dataset_name=dataset_name,
        progress=progress,
        pipelines_dir=pipelines_dir(),  # with the staging it describes (pm_runtime.dlt_state)
    )


def fit_file_formats(pipeline: dlt.Pipeline, source: Any) -> Any:
    """Each resource's file format as the staging destination loads it best.

    Into DuckDB, parquet for every resource that names no format: dlt's default there,
    `insert_values`, hands DuckDB multi-megabyte INSERT statements whose parsing is outside
    its memory limit (the Trello load of 4,000 cards peaked at ~390 MB, of which ~200 MB
    parsing; through parquet it merges faster too). A hint the destination cannot load is
    dropped: the Asana source asks for parquet, which PostgreSQL takes only through ADBC;
    without it PostgreSQL gets dlt's preferred format instead of a warning for every table on
    every run."""
    caps = pipeline.destination.capabilities()
    supported = set(caps.supported_loader_file_formats or [])
    if pipeline.destination.destination_name == "postgres" and not _has_module(
        "adbc_driver_manager"
    ):
        supported.discard("parquet")  # dlt loads parquet into PostgreSQL only through ADBC
    unnamed = "parquet" if configured_destination() == "duckdb" else None
    for resource in source.resources.values():
        wanted = resource.compute_table_schema().get("file_format")
        if wanted and wanted not in supported:
            resource.apply_hints(file_format=caps.preferred_loader_file_format)
        elif not wanted and unnamed in supported:
            resource.apply_hints(file_format=unnamed)
    return source


def staging_label() -> str:
    """What the staging database is, for messages: DuckDB, PostgreSQL, MotherDuck."""
    return {"duckdb": "DuckDB", "postgres": "PostgreSQL", "motherduck": "MotherDuck"}[
        configured_destination()
    ]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
