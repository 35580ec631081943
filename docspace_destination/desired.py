"""Desired state: the DocSpace tree the staged data asks for.

Each source differs only in its desired-tree SQL (named by its `SourceSpec`); titles,
fallbacks and sibling de-duplication are shared.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import duckdb

from docspace_destination.choices import LAYOUTS, SUBTASK_MODES
from docspace_destination.source_sql import (
    existing_tables,
    missing_requirement,
    parameter_names,
    parameters,
    prepared_sql,
)
from docspace_destination.titles import (
    FOLDER_TITLE_MAX,
    ROOM_TITLE_MAX,
    distinct_titles,
    fit_title,
    render_title,
)
from pm_runtime.errors import ConfigurationError
from pm_runtime.setting_checks import choice_problem
from pm_runtime.source_spec import SourceSpec, spec_for

FETCH_ROWS = 10_000  # rows of the desired-tree query read at a time
# A big account's tree is read, planned and applied in parts of about this many records (tasks,
# cards), a part being whole rooms: the query's joins, the nodes and the plan's actions are then
# those of one part at a time, so a sync's memory does not grow with the account (issue 21).
# Measured on a re-sync of 202,000 folders: 20,000 a part peaked at 199 MB, 10,000 at 171, 5,000
# at 157 MB, each part costing a scan of the staged tables (10,000: ~1.3× the time of 20,000).
PART_ROWS = 10_000


class NothingStaged(Exception):
    """The source's dataset is not in DuckDB yet."""


@dataclass(frozen=True)
class MappingOptions:
    layout: str = "flat"
    subtasks: str = "nested"
    room_title: str = "{name}"
    folder_title: str = "{name}"

    def __post_init__(self) -> None:
        problem = choice_problem("destination.docspace.layout", self.layout, LAYOUTS)
        problem = problem or choice_problem(
            "destination.docspace.subtasks", self.subtasks, SUBTASK_MODES
        )
        if problem:
            raise ConfigurationError(problem)


@dataclass(frozen=True, slots=True)
class DesiredNode:
    key: str  # <source>:<kind>:<id>, unique per placement (a record in two rooms has two)
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


def _prepare_sql(spec: SourceSpec, con: duckdb.DuckDBPyConnection) -> str:
    """The mapping SQL with absent optional tables/columns replaced by empty stand-ins."""
    tables = existing_tables(con, spec.dataset)
    missing = missing_requirement(spec.desired_tree, tables, spec.dataset)
    if missing:
        raise NothingStaged(f"nothing staged for {spec.name} yet (no {missing} table)")
    return prepared_sql(spec.desired_tree, spec.dataset, tables)


def _parameters(sql: str, options: MappingOptions, part: int, parts: int) -> dict[str, Any]:
    available = {
        "grouped": options.layout == "grouped",
        "nested_subtasks": options.subtasks == "nested",
        "parts": parts,
        "part": part,
    }
    return parameters(sql, available)


def _query(
    con: duckdb.DuckDBPyConnection,
    source: str | SourceSpec,
    options: MappingOptions,
    part: int,
    parts: int,
) -> Any:
    """The desired-tree query of `source`, running, for one part."""
    sql = _prepare_sql(spec_for(source), con)
    return con.execute(sql, _parameters(sql, options, part, parts))


def part_count(con: duckdb.DuckDBPyConnection, source: str | SourceSpec) -> int:
    """In how many parts the staged tree is read: one per `PART_ROWS` rows of the biggest table
    the mapping reads (a source whose SQL takes no `$part` is read whole)."""
    spec = spec_for(source)
    if "part" not in parameter_names(spec.desired_tree.path.read_text()):
        return 1
    tables = existing_tables(con, spec.dataset)
    read = [
        t for t in (*spec.desired_tree.requires, *spec.desired_tree.optional_tables) if t in tables
    ]
    rows = (
        max(
            (con.execute(f"SELECT count(*) FROM {spec.dataset}.{t}").fetchone() or (0,))[0]
            for t in read
        )
        if read
        else 0
    )
    return max(1, -(-int(rows) // PART_ROWS))


def desired_tree(
    con: duckdb.DuckDBPyConnection,
    source: str | SourceSpec,
    options: MappingOptions | None = None,
    part: int = 0,
    parts: int = 1,
    rooms: bool = True,
) -> list[DesiredNode]:
    """Every room and folder the staged `source` data asks for, parents before children; with
    `parts` > 1, every room (unless `rooms` is false: a later part's caller has them from the
    first) and the folders of the rooms in `part` (see `part_count`)."""
    options = options or MappingOptions()
    cursor = _query(con, source, options, part, parts)

    # 200,000 tasks make 200,000 nodes: rows are read a batch at a time and become nodes at
    # once (no list of every row beside them), and what many nodes repeat (their kind, their
    # parent's key) is one string, not one per node
    nodes: list[DesiredNode] = []
    by_parent: dict[str | None, list[int]] = defaultdict(list)  # indexes into `nodes`
    limits: dict[str | None, int] = {}  # a parent's children are all rooms or all folders
    while rows := cursor.fetchmany(FETCH_ROWS):
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
            if kind == "room" and not rooms:
                continue
            template = options.room_title if kind == "room" else options.folder_title
            extra = json.loads(attributes) if attributes else {}
            fields = {
                "name": name,
                "id": source_id,
                "gid": source_id,
                "team": extra.get("team"),
            }  # TITLE_FIELDS
            # cut to what the API accepts (rooms 170, folders 165 UTF-16 units) so desired == stored
            limit = ROOM_TITLE_MAX if kind == "room" else FOLDER_TITLE_MAX
            title = fit_title(render_title(template, fields, source_id), limit)
            parent_key = None if parent_key is None else sys.intern(parent_key)
            by_parent[parent_key].append(len(nodes))
            limits[parent_key] = min(limit, limits.get(parent_key, limit))
            nodes.append(
                DesiredNode(
                    key=key,
                    entity=entity,
                    kind=sys.intern(kind),
                    parent_key=parent_key,
                    title=title,
                    archived=bool(archived),
                    orphaned=bool(orphaned),
                    depth=int(depth),
                    source_id=str(source_id),
                    attributes=attributes,
                )
            )

    for parent_key, children in by_parent.items():
        siblings = [(nodes[i].key, nodes[i].source_id, nodes[i].title) for i in children]
        titles = distinct_titles(siblings, limits[parent_key])
        for i in children:
            if titles[nodes[i].key] != nodes[i].title:  # a sibling has its title: suffixed
                nodes[i] = replace(nodes[i], title=titles[nodes[i].key])
    nodes.sort(key=lambda n: (n.depth, n.key))
    return nodes


def desired_keys(
    con: duckdb.DuckDBPyConnection,
    source: str | SourceSpec,
    options: MappingOptions | None = None,
    part: int = 0,
    parts: int = 1,
) -> Iterator[str]:
    """The keys of `desired_tree(...)`, without building its nodes (titles are not needed to
    tell which ledger rows a part wants)."""
    cursor = _query(con, source, options or MappingOptions(), part, parts)
    while rows := cursor.fetchmany(FETCH_ROWS):
        yield from (row[0] for row in rows)
