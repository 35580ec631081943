"""The staging database as a dlt SQL destination other than the DuckDB file: PostgreSQL (or MotherDuck).

    [staging]
    destination = "postgres"      # duckdb (default) | postgres | motherduck
    # credentials are dlt's own: DESTINATION__POSTGRES__CREDENTIALS=postgresql://user:pw@host:5432/db

The sources load there through dlt. The reverse-ETL side (desired-state SQL, the ledger, the run
log, write-back and member records) reaches it through dlt's own SQL client: `open_staging` in
`pm_runtime.staging` hands out a `SqlConnection`, which speaks the small part of DuckDB's
connection API the destination uses (`execute`, `executemany`, `register`), so one body of SQL
serves every backend.

That SQL is written once, in DuckDB's dialect, and transpiled by sqlglot (the version dlt itself
depends on) — plus the two JSON builders sqlglot leaves untranslated for PostgreSQL 15.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator, Sequence
from typing import Any

import dlt

from pm_runtime.errors import UserFacingError

DIALECTS = {"duckdb": "duckdb", "motherduck": "duckdb", "postgres": "postgres"}
DESTINATIONS = tuple(DIALECTS)  # as [staging] destination offers them (`staging_config`)


def configured_destination() -> str:
    """`[staging] destination` (or STAGING__DESTINATION); duckdb when unset."""
    from pm_runtime.staging_config import staging_config

    return staging_config().destination


def warehouse_destination(name: str) -> Any:
    """dlt's destination factory for a warehouse; credentials come from dlt's own config keys."""
    return getattr(dlt.destinations, name)()


# -- SQL written for DuckDB, run elsewhere --------------------------------------------------------


def _postgres_json(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.JSONObject):
        args: list[Any] = []
        for pair in node.expressions:
            args.extend([pair.this, pair.expression])
        return exp.Anonymous(this="json_build_object", expressions=args)
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "json_group_object":
        return exp.Anonymous(this="json_object_agg", expressions=node.expressions)
    return node


def _group_by_all(node: Any) -> Any:
    """DuckDB's `GROUP BY ALL` (group by every selected column that aggregates nothing), which
    PostgreSQL lacks, as the positions of those columns (`GROUP BY 1`)."""
    from sqlglot import exp

    if isinstance(node, exp.Select):
        group = node.args.get("group")
        if isinstance(group, exp.Group) and group.args.get("all"):
            plain = [
                exp.Literal.number(i)
                for i, e in enumerate(node.expressions, start=1)
                if not e.find(exp.AggFunc)
            ]
            node.set("group", exp.Group(expressions=plain) if plain else None)
    return node


@functools.lru_cache(maxsize=512)
def transpile(sql: str, dialect: str) -> str:
    """`sql` (DuckDB's dialect, `?` placeholders) in `dialect`, one statement per `;`."""
    if dialect == "duckdb":
        return sql
    import sqlglot

    statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    if dialect == "postgres":
        statements = [s.transform(_postgres_json).transform(_group_by_all) for s in statements]
    return ";\n".join(s.sql(dialect=dialect) for s in statements)


def upsert_statement(
    table: str, columns: Sequence[str], keys: Sequence[str], select: str | None = None
) -> str:
    """Insert rows (`?` values, or `select`), replacing those whose `keys` exist. DuckDB's
    `INSERT OR REPLACE` has no PostgreSQL form; `ON CONFLICT … DO UPDATE` is the same on both."""
    cols = ", ".join(columns)
    rows = select or f"VALUES ({', '.join('?' for _ in columns)})"
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    return (
        f"INSERT INTO {table} ({cols}) {rows} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


_NAMED = re.compile(r"\$(\w+)")


def _inline_named(sql: str, params: dict[str, Any]) -> str:
    """DuckDB's `$name` parameters (the mapping SQL's layout switches) as literals."""

    def literal(m: re.Match[str]) -> str:
        if m.group(1) not in params:  # a comment naming a parameter the query does not use
            return m.group(0)
        value = params[m.group(1)]
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    return _NAMED.sub(literal, sql)


class _Rows:
    """The result of `execute`, read like DuckDB's: `fetchall`, `fetchone`, `fetchmany`."""

    def __init__(self, rows: list[tuple[Any, ...]], columns: list[str] | None = None) -> None:
        self._rows = rows
        self.columns = columns or []
        self._read = 0  # rows fetchmany has handed out

    @property
    def description(self) -> list[tuple[str]]:
        """The result's columns, as DB-API cursors name them (first item: the name)."""
        return [(name,) for name in self.columns]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        """The next `size` rows ([] once all were read), as DuckDB's cursor pages."""
        taken = self._rows[self._read : self._read + size]
        self._read += len(taken)
        return taken


class SqlConnection:
    """One open dlt SQL client, used through the DuckDB connection calls the destination makes."""

    def __init__(self, client: Any, dialect: str) -> None:
        self.client = client
        self.dialect = dialect
        self._registered: set[str] = set()

    def _native(self, sql: str) -> str:
        return transpile(sql, self.dialect)

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> _Rows:
        if isinstance(params, dict):
            sql, params = _inline_named(sql, params), None
        con = self.client.native_connection
        rows: list[tuple[Any, ...]] = []
        columns: list[str] = []
        with con.cursor() as cur:
            for statement in self._native(sql).split(";\n"):
                cur.execute(statement, list(params) if params else None)
                if cur.description is not None:
                    rows = [tuple(r) for r in cur.fetchall()]
                    columns = [d[0] for d in cur.description]
        return _Rows(rows, columns)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        from psycopg2.extras import execute_batch

        with self.client.native_connection.cursor() as cur:
            execute_batch(cur, self._native(sql), [list(r) for r in rows], page_size=500)

    def register(self, name: str, table: Any) -> None:
        """An Arrow table as a relation `name` for the session (a temporary table here)."""
        import pyarrow as pa

        types = {
            pa.string(): "TEXT",
            pa.int64(): "BIGINT",
            pa.int32(): "INTEGER",
            pa.bool_(): "BOOLEAN",
            pa.float64(): "DOUBLE PRECISION",
        }
        columns = ", ".join(
            f'"{f.name}" {types.get(f.type, "TIMESTAMPTZ" if pa.types.is_timestamp(f.type) else "TEXT")}'
            for f in table.schema
        )
        con = self.client.native_connection
        with con.cursor() as cur:
            cur.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
            cur.execute(f'CREATE TEMPORARY TABLE "{name}" ({columns})')
        if table.num_rows:
            self.insert_rows(
                f'"{name}"',
                [f'"{c}"' for c in table.column_names],
                [tuple(r.values()) for r in table.to_pylist()],
            )
        self._registered.add(name)

    def insert_rows(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Append rows in a few multi-row statements (psycopg2's execute_values)."""
        from psycopg2.extras import execute_values

        with self.client.native_connection.cursor() as cur:
            execute_values(
                cur,
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES %s",
                [tuple(r) for r in rows],
                page_size=1000,
            )

    def unregister(self, name: str) -> None:
        with self.client.native_connection.cursor() as cur:
            cur.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
        self._registered.discard(name)

    def close(self) -> None:
        for name in list(self._registered):
            self.unregister(name)


@contextlib.contextmanager
def open_warehouse(name: str) -> Iterator[SqlConnection]:
    """A short session on the warehouse through dlt's SQL client (autocommit, like DuckDB's)."""
    client = dlt.dataset(warehouse_destination(name), "docspace_state").sql_client
    try:
        client.open_connection()
    except Exception as exc:
        raise UserFacingError(
            f"cannot reach the {name} staging database ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'no detail'}); check its credentials "
            f"(DESTINATION__{name.upper()}__CREDENTIALS) and that the server is up"
        ) from None
    connection = SqlConnection(client, DIALECTS[name])
    try:
        yield connection
    finally:
        try:
            connection.close()
        finally:
            client.close_connection()
