"""The ledger: what has been applied to DocSpace, per source key, in DuckDB (schema docspace_state).

Write-ahead: a create is marked `pending` (synchronously) before the request goes
out; results are recorded right after each call (buffered; made durable while the
next apply step runs, and at the end of each batch). A crash therefore leaves at worst
`pending` rows, which the next run resolves by looking in DocSpace before creating anything.

Moves, archive and unarchive are asynchronous file operations on the server:
before one is sent, its `intent` (`move:<destination id>`, `archive`,
`unarchive`) is written synchronously; it is cleared when the result is
recorded. A row whose intent is still set means "something may be on its way":
the next run waits for the portal's running operations and reads where the
object really is before it plans or sends anything for it (docspace_destination.inflight).

Every read and write is its own short transaction (`open_staging`): the database is
closed between them, so other processes can read the staged data during a long apply.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Collection, Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from docspace_destination.operations import OUTCOMES
from pm_runtime.staging import open_staging
from pm_runtime.staging_database import upsert_statement

SCHEMA = "docspace_state"
# docspace_state.runs has a count column per outcome an operation can have (operations.OUTCOMES);
# (a run log made before an outcome existed gets its column at the first write)
_RUN_COUNTS = "\n".join(f"    {outcome} INTEGER," for outcome in OUTCOMES)
# (its columns read off an empty result: DuckDB's information_schema.columns takes ~20 ms,
# paid before an apply's first request)
_RUN_COLUMNS = f"SELECT * FROM {SCHEMA}.runs LIMIT 0"

PENDING, APPLIED, FAILED, ORPHANED = "pending", "applied", "failed", "orphaned"
FETCH_ROWS = 10_000  # ledger rows read at a time
KEYS_PER_READ = 10_000  # keys looked up per query

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.ledger (
    key VARCHAR PRIMARY KEY,
    source VARCHAR,
    entity VARCHAR,
    kind VARCHAR,
    parent_key VARCHAR,
    docspace_id BIGINT,
    parent_id BIGINT,
    title VARCHAR,
    archived BOOLEAN,
    status VARCHAR,
    last_error VARCHAR,
    attempts INTEGER,
    updated_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.runs (
    run_id VARCHAR,
    source VARCHAR,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    seconds DOUBLE,
{_RUN_COUNTS}
    reads INTEGER,
    writes INTEGER,
    outcome VARCHAR,
    steps JSON  -- counts of the opt-in steps (write-back, members), by step
);
ALTER TABLE {SCHEMA}.ledger ADD COLUMN IF NOT EXISTS intent VARCHAR;
"""
_PRESENT = (
    "SELECT count(*) FROM information_schema.tables "
    f"WHERE table_schema = '{SCHEMA}' AND table_name = 'ledger'"
)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    key: str
    source: str
    entity: str
    kind: str
    parent_key: str | None
    docspace_id: int | None
    parent_id: int | None
    title: str | None
    archived: bool
    status: str
    last_error: str | None = None
    attempts: int = 0
    updated_at: datetime | None = None
    intent: str | None = None  # a file operation sent and not yet confirmed (see module doc)

    def evolve(self, **changes: Any) -> LedgerEntry:
        return replace(self, updated_at=datetime.now(UTC), **changes)


_COLUMNS = [f.name for f in fields(LedgerEntry)]
# On DuckDB `updated_at` is read as microseconds since the epoch: DuckDB hands a TIMESTAMPTZ to
# Python through pytz, whose first lookup of the session's zone (`Etc/UTC`) scans ~600 zone
# files, 40 ms of every plan (most of a no-op `--plan` beyond dlt's import). PostgreSQL's driver
# returns a datetime with a fixed offset, without pytz.
_EPOCH_MICROS = ", ".join("epoch_us(updated_at)" if c == "updated_at" else c for c in _COLUMNS)
_ALL = ", ".join(_COLUMNS)
_UPDATED_AT = _COLUMNS.index("updated_at")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _entry(row: tuple[Any, ...]) -> LedgerEntry:
    values = list(row)
    micros = values[_UPDATED_AT]
    if isinstance(micros, int):
        values[_UPDATED_AT] = _EPOCH + timedelta(microseconds=micros)
    return LedgerEntry(*values)


class Ledger:
    """Thread-safe access to docspace_state.ledger and .runs in the staging database.

    Each call opens the staging database for one short transaction, unless the ledger was
    given a connection (a caller that holds one for a snapshot, e.g. a benchmark).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self._given = con
        self._lock = threading.Lock()  # the buffer; never held while the database is opened
        # a given connection serves one thread at a time (re-entered by `reading`'s reads)
        self._given_lock = threading.RLock()
        self._buffer: dict[str, LedgerEntry] = {}
        # the tables are made by the first write: reading (a plan, a report) needs no write lock
        self._created = False
        if con is not None:
            with self._open() as db:
                self._create(db)

    @contextlib.contextmanager
    def _open(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._given is not None:
            with self._given_lock:
                yield self._given
        else:
            with open_staging(read_only=read_only) as db:
                if not read_only:
                    self._create(db)
                yield db

    def _create(self, db: duckdb.DuckDBPyConnection) -> None:
        if not self._created:
            db.execute(_DDL)
            present = {str(column[0]) for column in db.execute(_RUN_COLUMNS).description}
            for outcome in OUTCOMES:
                if outcome not in present:
                    db.execute(f"ALTER TABLE {SCHEMA}.runs ADD COLUMN {outcome} INTEGER")
            self._created = True

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Several reads over one connection: opening the staging file costs ~25 ms a time."""
        with self._open(read_only=True):
            yield

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Reads and writes over one connection (one open of the staging file, not one each)."""
        with self._open():
            yield

    def load(self, source: str | None = None) -> dict[str, LedgerEntry]:
        """Every row (of `source`): for what needs them all at once (--refresh, the apply)."""
        where, params = ("source = ?", [source]) if source else ("true", [])
        return {entry.key: entry for entry in self.rows(where, params)}

    def load_keys(self, source: str, keys: Collection[str]) -> dict[str, LedgerEntry]:
        """The rows of these keys, those there are (a part of the plan reads only its own)."""
        found: dict[str, LedgerEntry] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), KEYS_PER_READ):
            batch = wanted[start : start + KEYS_PER_READ]
            where = "source = ? AND key = ANY(?)"
            found.update((e.key, e) for e in self.rows(where, [source, batch]))
        return found

    def _select(
        self, columns: str | None, where: str, params: list[Any]
    ) -> Iterator[tuple[Any, ...]]:
        """`SELECT columns (None: a whole row) FROM ledger WHERE where`, `FETCH_ROWS` at a time;
        nothing when the ledger was never written."""
        with self._open(read_only=True) as db:
            (present,) = db.execute(_PRESENT).fetchone() or (0,)
            if not present:
                return
            if columns is None:
                columns = _EPOCH_MICROS if isinstance(db, duckdb.DuckDBPyConnection) else _ALL
            sql = f"SELECT {columns} FROM {SCHEMA}.ledger WHERE {where}"
            cursor = db.execute(*_bound(db, sql, params))
            while batch := cursor.fetchmany(FETCH_ROWS):
                yield from batch

    def rows(self, where: str = "true", params: list[Any] | None = None) -> Iterator[LedgerEntry]:
        """The rows matching `where`, read `FETCH_ROWS` at a time (never all in memory at once)."""
        return (_entry(row) for row in self._select(None, where, params or []))

    def rows_of(self, source: str, kinds: Collection[str]) -> Iterator[LedgerEntry]:
        """Every row of `source` of these kinds, read `FETCH_ROWS` at a time."""
        return self.rows("source = ? AND kind = ANY(?)", [source, list(kinds)])

    def keys(self, source: str, kinds: Collection[str]) -> Iterator[str]:
        """Every key of `source`'s rows of these kinds, read `FETCH_ROWS` at a time."""
        where = "source = ? AND kind = ANY(?)"
        return (key for (key,) in self._select("key", where, [source, list(kinds)]))

    def claimed_ids(
        self, source: str, parent_keys: Collection[str], parent_ids: Collection[int]
    ) -> set[int]:
        """The DocSpace ids of `source`'s rooms, and of its folders under these parents (by key,
        or by id: a folder a person moved there, seen by --refresh)."""
        under, params = ["kind = 'room'"], [source]
        # (an empty list is left out: PostgreSQL cannot type an empty array parameter)
        for column, values in (("parent_key", parent_keys), ("parent_id", parent_ids)):
            if values:
                under.append(f"{column} = ANY(?)")
                params.append(list(values))
        where = (
            f"source = ? AND kind <> 'file' AND docspace_id IS NOT NULL AND ({' OR '.join(under)})"
        )
        return {int(i) for (i,) in self._select("docspace_id", where, params)}

    def subtree(self, source: str, key: str) -> list[LedgerEntry]:
        """The rows of `key` and of everything below it, at any depth."""
        found = list(self.rows("source = ? AND key = ?", [source, key]))
        seen, level = {key}, [key]
        while level:
            where = "source = ? AND parent_key = ANY(?)"
            below = [e for e in self.rows(where, [source, level]) if e.key not in seen]
            found += below
            seen.update(e.key for e in below)
            level = [e.key for e in below]
        return found

    def files_in(self, source: str, folder_key: str | None) -> list[LedgerEntry]:
        """The file rows under the folder of `folder_key`."""
        return list(
            self.rows("source = ? AND kind = 'file' AND parent_key = ?", [source, folder_key])
        )

    def write(self, entries: list[LedgerEntry]) -> None:
        """Upsert now (used for write-ahead `pending` rows)."""
        if not entries:
            return
        import pyarrow as pa  # here, not at the top: a run with nothing to write never loads it

        # column by column: dataclasses.asdict deep-copies every value (a third of an apply's CPU)
        table = pa.Table.from_pydict(
            {c: [getattr(e, c) for e in entries] for c in _COLUMNS}, schema=_arrow_schema()
        )
        with self._open() as db:
            db.register("ledger_batch", table)
            try:
                db.execute(
                    upsert_statement(
                        f"{SCHEMA}.ledger",
                        _COLUMNS,
                        ["key"],
                        f"SELECT {', '.join(_COLUMNS)} FROM ledger_batch",
                    )
                )
            finally:
                db.unregister("ledger_batch")

    def record(self, entry: LedgerEntry) -> None:
        """Note the outcome of a call; durable at the next flush."""
        with self._lock:
            self._buffer[entry.key] = entry

    def flush(self, also: Collection[LedgerEntry] = ()) -> None:
        """Write the noted outcomes, and `also` (write-ahead rows: newer than a noted row of
        their key), in one transaction.

        The rows are taken from the buffer once the database is open: flushes from several
        threads (a step's workers, the ledger's own thread) then write in the order they took
        their rows, so an older row of a key never lands over a newer one."""
        if not (self._buffer or also):
            return
        with self._open():
            with self._lock:
                batch, self._buffer = self._buffer, {}
            batch.update((e.key, e) for e in also)
            self.write(list(batch.values()))

    def forget(self, keys: list[str]) -> None:
        if not keys:
            return
        with self._open() as db:
            db.execute(*_bound(db, f"DELETE FROM {SCHEMA}.ledger WHERE key = ANY(?)", [keys]))

    def log_run(self, row: dict[str, Any]) -> None:
        cols = list(row)
        with self._open() as db:
            db.execute(
                f"INSERT INTO {SCHEMA}.runs ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                [row[c] for c in cols],
            )


def _bound(db: Any, sql: str, params: list[Any]) -> tuple[str, list[Any]]:
    """`sql` and `params` as `db` takes them, each list parameter written `= ANY(?)`.

    DuckDB binds a list parameter element by element and tries to import pandas for each
    (to check for a DataFrame); a lean start hides pandas, so each element costs a failed
    import, ~25 µs: 12 s of a re-sync of 200,000 folders. DuckDB gets a list as one JSON text
    it reads itself instead; PostgreSQL's driver sends a list as an array.
    """
    if not isinstance(db, duckdb.DuckDBPyConnection):
        return sql, params
    pieces = sql.split("ANY(?)")
    lists = [p for p in params if isinstance(p, list)]
    if len(lists) != len(pieces) - 1:
        raise ValueError(f"each list parameter must be written `= ANY(?)`: {sql}")
    typed = []
    for values in lists:
        element = "BIGINT" if values and isinstance(values[0], int) else "VARCHAR"
        typed.append(f"""ANY(from_json(?, '["{element}"]'))""")
    sql = pieces[0] + "".join(t + rest for t, rest in zip(typed, pieces[1:], strict=True))
    return sql, [json.dumps(p) if isinstance(p, list) else p for p in params]


@functools.cache
def _arrow_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("key", pa.string()),
            ("source", pa.string()),
            ("entity", pa.string()),
            ("kind", pa.string()),
            ("parent_key", pa.string()),
            ("docspace_id", pa.int64()),
            ("parent_id", pa.int64()),
            ("title", pa.string()),
            ("archived", pa.bool_()),
            ("status", pa.string()),
            ("last_error", pa.string()),
            ("attempts", pa.int32()),
            ("updated_at", pa.timestamp("us", tz="UTC")),
            ("intent", pa.string()),
        ]
    )
