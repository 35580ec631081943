"""The Trello source: boards, lists, cards, checklists, labels, members, custom fields, actions.

Complete past the 1000-item cap (paged by `before=<oldest id>`), incremental (actions by
`since`; per-board reloads only when `dateLastActivity` moved), deletions kept as
tombstones (`is_deleted = true`), and paced under Trello's per-token rate limit.

    pipeline = pm_runtime.staging.staging_pipeline("trello", "trello_data")
    pipeline.run(trello_source())

The package imports nothing itself, so `trello_source.docspace_spec` (all the command line's
`--help` and the destination read) loads without dlt; the names below load on first use
(PEP 562), the dlt source from `trello_source.source`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trello_source.docspace_spec import DOCSPACE_SPEC
    from trello_source.source import trello_source

_LAZY = {
    "trello_source": "trello_source.source",
    "DOCSPACE_SPEC": "trello_source.docspace_spec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:  # also how `from trello_source import <submodule>` falls back to the import
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module("pm_runtime")  # first: dlt starts lean (pm_runtime.lean_start)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["DOCSPACE_SPEC", "trello_source"]
