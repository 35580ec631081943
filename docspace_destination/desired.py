"""Desired state: the DocSpace tree the staged data asks for.

Each source differs only in the SQL of `mappings/<source>.sql`; titles, fallbacks
and sibling de-duplication are shared.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from docspace_destination.titles import (
    FOLDER_TITLE_MAX,
    ROOM_TITLE_MAX,
    distinct_titles,
    fit_title,
    render_title,
)
from pm_runtime.errors import ConfigurationError

MAPPINGS = Path(__file__).parent / "mappings"
DATASETS = {"asana": "asana_data", "trello": "trello_data"}
REQUIRED_TABLES = {
    "asana": ["projects"],
    "trello": ["boards"],
}
# tables a mapping joins but a small or fresh account may not have yet (created empty when absent)
OPTIONAL_TABLES: dict[str, dict[str, str]] = {
    "asana": {
        "projects__custom_fields": "_dlt_parent_id VARCHAR, name VARCHAR, display_value VARCHAR, enum_value__name VARCHAR",
        "sections": "gid VARCHAR, name VARCHAR, project__gid VARCHAR, is_deleted BOOLEAN",
        "tasks": "gid VARCHAR, name VARCHAR, parent__gid VARCHAR, is_deleted BOOLEAN, _dlt_id VARCHAR",
        "tasks__memberships": "_dlt_parent_id VARCHAR, project__gid VARCHAR, section__gid VARCHAR",
    },
    "trello": {
        "labels": "id VARCHAR, id_board VARCHAR, name VARCHAR",
        "lists": "id VARCHAR, id_board VARCHAR, name VARCHAR",
        "cards": "id VARCHAR, id_board VARCHAR, id_list VARCHAR, name VARCHAR, is_deleted BOOLEAN",
    },
}
# columns the sources add over time; a missing one reads as NULL
OPTIONAL_COLUMNS: dict[str, dict[str, list[str]]] = {
    "asana": {
        "projects": ["archived", "completed", "is_deleted", "team__name"],
        "sections": ["is_deleted"],
        "tasks": ["is_deleted", "parent__gid"],
        "tasks__memberships": ["section__gid"],
        "projects__custom_fields": ["display_value", "enum_value__name"],
    },
    "trello": {"boards": ["closed", "is_deleted"], "cards": ["is_deleted"]},
}
LAYOUTS = ("flat", "grouped")
SUBTASK_MODES = ("nested", "skip")


class NothingStaged(Exception):
    """The source's dataset is not in DuckDB yet."""


@dataclass(frozen=True)
class MappingOptions:
    layout: str = "flat"
    subtasks: str = "nested"
    room_title: str = "{name}"
    folder_title: str = "{name}"

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise ConfigurationError(
                f"destination.docspace.layout must be one of {LAYOUTS}, got {self.layout!r}"
            )
        if self.subtasks not in SUBTASK_MODES:
            raise ConfigurationError(
                f"destination.docspace.subtasks must be one of {SUBTASK_MODES}, got {self.subtasks!r}"
            )


@dataclass(frozen=True, slots=True)
class DesiredNode:
    key: str  # asana:task:<gid>@<project gid>, trello:card:<id>, ...
    entity: str  # the source record; a task placed elsewhere keeps its folder (a move)
    kind: str  # room | folder
    parent_key: str | None
    title: str  # as DocSpace will store it, distinct among siblings
    archived: bool
    orphaned: bool
    depth: int
    source_id: str
    attributes: str | None = None  # JSON of what room-template rules match on (rooms only)

    def attribute_map(self) -> dict[str, Any]:
        return json.loads(self.attributes) if self.attributes else {}


def _existing_tables(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, set[str]]:
    rows = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ?",
        [schema],
    ).fetchall()
    tables: dict[str, set[str]] = defaultdict(set)
    for table, column in rows:
        tables[table].add(column)
    return tables


def _prepare_sql(source: str, con: duckdb.DuckDBPyConnection) -> str:
    """The mapping SQL with absent optional tables/columns replaced by empty stand-ins."""
    dataset = DATASETS[source]
    tables = _existing_tables(con, dataset)
    missing = [t for t in REQUIRED_TABLES[source] if t not in tables]
    if missing:
        raise NothingStaged(f"nothing staged for {source} yet (no {dataset}.{missing[0]} table)")
    sql = (MAPPINGS / f"{source}.sql").read_text()
    for table, columns in OPTIONAL_TABLES[source].items():
        if table not in tables:
            cols = ", ".join(f"NULL::{c.split()[1]} AS {c.split()[0]}" for c in columns.split(", "))
            sql = sql.replace(f"{dataset}.{table} ", f"(SELECT {cols} WHERE false) ")
    for table, columns in OPTIONAL_COLUMNS[source].items():
        absent = [c for c in columns if table in tables and c not in tables[table]]
        if absent:
            extra = ", ".join(f"NULL AS {c}" for c in absent)
            sql = sql.replace(f"{dataset}.{table} ", f"(SELECT *, {extra} FROM {dataset}.{table}) ")
    return sql


def _parameters(sql: str, options: MappingOptions) -> dict[str, Any]:
    code = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    available = {
        "grouped": options.layout == "grouped",
        "nested_subtasks": options.subtasks == "nested",
    }
    return {name: available[name] for name in set(re.findall(r"\$(\w+)", code))}


def desired_tree(
    con: duckdb.DuckDBPyConnection, source: str, options: MappingOptions | None = None
) -> list[DesiredNode]:
    """Every room and folder the staged `source` data asks for, parents before children."""
    options = options or MappingOptions()
    sql = _prepare_sql(source, con)
    rows = con.execute(sql, _parameters(sql, options)).fetchall()

    raw: list[tuple] = []
    by_parent: dict[str | None, list[tuple[str, str, str]]] = defaultdict(list)
    limits: dict[str | None, int] = {}  # a parent's children are all rooms or all folders
    for (
        key,
        entity,
        kind,
        parent_key,
        name,
        source_id,
        archived,
        orphaned,
        depth,
        attributes,
    ) in rows:
        template = options.room_title if kind == "room" else options.folder_title
        extra = json.loads(attributes) if attributes else {}
        fields = {"name": name, "id": source_id, "gid": source_id, "team": extra.get("team")}
        # cut to what the API accepts (rooms 170, folders 165 UTF-16 units) so desired == stored
        limit = ROOM_TITLE_MAX if kind == "room" else FOLDER_TITLE_MAX
        title = fit_title(render_title(template, fields, source_id), limit)
        by_parent[parent_key].append((key, source_id, title))
        limits[parent_key] = min(limit, limits.get(parent_key, limit))
        raw.append(
            (key, entity, kind, parent_key, source_id, archived, orphaned, depth, attributes)
        )

    titles: dict[str, str] = {}
    for parent_key, siblings in by_parent.items():
        titles.update(distinct_titles(siblings, limits[parent_key]))

    nodes = [
        DesiredNode(
            key=key,
            entity=entity,
            kind=kind,
            parent_key=parent_key,
            title=titles[key],
            archived=bool(archived),
            orphaned=bool(orphaned),
            depth=int(depth),
            source_id=str(source_id),
            attributes=attributes,
        )
        for key, entity, kind, parent_key, source_id, archived, orphaned, depth, attributes in raw
    ]
    nodes.sort(key=lambda n: (n.depth, n.key))
    return nodes
