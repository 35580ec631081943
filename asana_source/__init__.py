"""dlt source for Asana: workspaces, users, teams, tags, custom fields, projects, sections,
tasks (subtasks at any depth in the same table) and optionally stories.

Incremental and deletion-aware (see `asana_source.extract_run`): tasks merge on `gid`; deleted
projects, sections and tasks keep their rows with `is_deleted = true` and `deleted_at`.
Configuration resolves under `sources.asana` (`SOURCES__ASANA__ACCESS_TOKEN`,
`SOURCES__ASANA__BASE_URL`, ...).

The package imports nothing itself, so `asana_source.docspace_spec` (all the command line's
`--help` and the destination read) loads without dlt; the names below load on first use
(PEP 562), the dlt source from `asana_source.source`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asana_source.docspace_spec import DOCSPACE_SPEC
    from asana_source.source import DELETION_COLUMNS, TABLES, asana_source

_LAZY = {
    "asana_source": "asana_source.source",
    "TABLES": "asana_source.source",
    "DELETION_COLUMNS": "asana_source.source",
    "DOCSPACE_SPEC": "asana_source.docspace_spec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:  # also how `from asana_source import <submodule>` falls back to the import
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module("pm_runtime")  # first: dlt starts lean (pm_runtime.lean_start)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["DOCSPACE_SPEC", "asana_source", "TABLES", "DELETION_COLUMNS"]
