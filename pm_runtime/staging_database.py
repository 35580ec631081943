"""The staging database as any dlt SQL destination: DuckDB by default, PostgreSQL (or MotherDuck) by config.

The sources load into it through dlt; the reverse-ETL side (desired-state SQL, ledger, run log) reads
and writes it through dlt's own SQL client, so one configuration names where everything lives:

    [staging]
    destination = "postgres"      # duckdb (default) | postgres | motherduck
    # credentials: dlt's own keys, e.g. DESTINATION__POSTGRES__CREDENTIALS=postgresql://user:pw@host:5432/db

Every `session()` is a short transaction-sized hold: DuckDB lets a single process open a file at a
time, so holding it only while a statement batch runs lets readers (the dashboard, BI tools) in between.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dlt

from pm_runtime.errors import ConfigurationError

DESTINATIONS = ("duckdb", "postgres", "motherduck")
DESTINATION_ENV = "STAGING__DESTINATION"
DIALECTS = {"duckdb": "duckdb", "motherduck": "duckdb", "postgres": "postgres"}


def configured_destination() -> str:
    """`[staging] destination` (or STAGING__DESTINATION); duckdb when unset."""
    value = os.environ.get(DESTINATION_ENV)
    if value is None:
        try:
            value = dlt.config.get("staging.destination")
        except Exception:
            value = None
    name = str(value or "duckdb").strip().lower()
    if name not in DESTINATIONS:
        raise ConfigurationError(
            f"staging.destination must be one of {', '.join(DESTINATIONS)}, got {value!r}"
        )
    return name


@dataclass
class Session:
    """Statements on one open connection; `%s` placeholders on every backend."""

    client: Any  # dlt SqlClientBase
    dialect: str

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in (self.client.execute_sql(sql, *params) or [])]

    def execute(self, sql: str, *params: Any) -> None:
        self.client.execute_sql(sql, *params)

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Append rows (batched in one statement)."""
        if not rows:
            return
        if self.dialect == "postgres":
            from psycopg2.extras import execute_values

            with self.client.native_connection.cursor() as cur:
                execute_values(
                    cur,
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES %s",
                    [tuple(r) for r in rows],
                    page_size=1000,
                )
            return
        marks = ", ".join("?" for _ in columns)
        self.client.native_connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", [list(r) for r in rows]
        )

    def upsert(
        self, table: str, columns: Sequence[str], key: str, rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert rows, replacing those whose `key` exists (one statement per batch)."""
        if not rows:
            return
        cols = ", ".join(columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != key)
        if self.dialect == "postgres":
            from psycopg2.extras import execute_values

            with self.client.native_connection.cursor() as cur:
                execute_values(
                    cur,
                    f"INSERT INTO {table} ({cols}) VALUES %s "
                    f"ON CONFLICT ({key}) DO UPDATE SET {updates}",
                    [tuple(r) for r in rows],
                    page_size=1000,
                )
            return
        import pyarrow as pa

        con = self.client.native_connection
        batch = pa.Table.from_pylist([dict(zip(columns, r, strict=True)) for r in rows])
        con.register("pm_upsert_batch", batch)
        try:
            con.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM pm_upsert_batch "
                f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
            )
        finally:
            con.unregister("pm_upsert_batch")

    def columns(self, schema: str) -> dict[str, set[str]]:
        """Tables of a schema (dataset) and their columns, from information_schema."""
        tables: dict[str, set[str]] = {}
        for table, column in self.query(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = %s",
            schema,
        ):
            tables.setdefault(str(table), set()).add(str(column))
        return tables


class StagingDatabase:
    """Where the staged data, the ledger and the run log live; opened per short session."""

    def __init__(self, destination_name: str | None = None, credentials: Any = None) -> None:
        self.name = destination_name or configured_destination()
        self.dialect = DIALECTS[self.name]
        self._credentials = credentials

    def destination(self) -> Any:
        """The dlt destination the source pipelines load into."""
        if self.name == "duckdb":
            from pm_runtime.staging import staging_database_path

            return dlt.destinations.duckdb(credentials=self._credentials or staging_database_path())
        factory = getattr(dlt.destinations, self.name)
        return factory(credentials=self._credentials) if self._credentials else factory()

    @contextlib.contextmanager
    def session(self, dataset: str = "docspace_state") -> Iterator[Session]:
        """An open connection for a few statements, closed on exit (a short hold)."""
        client = dlt.dataset(self.destination(), dataset).sql_client
        with client:
            yield Session(client, self.dialect)

    def transpile(self, sql: str) -> str:
        """SQL written for DuckDB, in this database's dialect (see `transpile`)."""
        return transpile(sql, self.dialect)


def _postgres_json(node: Any) -> Any:
    """DuckDB's JSON builders, which sqlglot leaves untranslated for PostgreSQL 15."""
    from sqlglot import exp

    if isinstance(node, exp.JSONObject):
        args: list[Any] = []
        for pair in node.expressions:
            args.extend([pair.this, pair.expression])
        return exp.Anonymous(this="json_build_object", expressions=args)
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "json_group_object":
        return exp.Anonymous(this="json_object_agg", expressions=node.expressions)
    return node


def transpile(sql: str, dialect: str) -> str:
    """The mapping and state SQL is written once, in DuckDB's dialect; other backends get it through
    sqlglot (the version dlt already depends on), plus the few JSON functions sqlglot does not map."""
    if dialect == "duckdb":
        return sql
    import sqlglot

    statements = sqlglot.parse(sql, read="duckdb")
    if dialect == "postgres":
        statements = [s.transform(_postgres_json) for s in statements if s is not None]
    return ";\n".join(s.sql(dialect=dialect) for s in statements if s is not None)
