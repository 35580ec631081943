"""The DocSpace destination: make ONLYOFFICE DocSpace match what a source staged in DuckDB.

Data flow of one run (`Sync(spec).run()`, see `sync`):

1. desired — the source's mapping SQL (its `SourceSpec`, e.g. `<source>/docspace_mapping/`)
   turns the staged tables into the tree DocSpace should hold: a room per project, a folder
   per task (`desired`, `source_sql`);
2. plan — that tree against the ledger of what earlier runs made (and, with --refresh, what
   DocSpace holds now) gives actions: create, adopt, move, rename, archive... (`plan`,
   `adoption`, `templates`, `titles`); `--plan` stops here;
3. apply — the actions travel as rows through the `docspace` dlt destination
   (`destination`), whose `Applier` (`apply`, `client`) makes each change once, resumably:
   an intent is written to the ledger before a write and settled after (`inflight`);
4. ledger and run log — `docspace_state.ledger` (one row per mirrored record) and
   `docspace_state.runs` (one row per run) in the staging database (`ledger`);
5. opt-in steps after an apply: write-back of room/folder links to the source (`writeback`,
   through the source's link writer) and room members from the source's people (`members`).

Settings are declared in `config` (dlt configspecs, keys under [destination.docspace]) and made
into the engine's types in `settings`. The destination knows no source by name: everything
source-specific comes in through the `SourceSpec`.

The public names below are imported on first use, so importing one module of the package
(e.g. from the command line's `--help`) does not load them all. Modules are reached as
attributes too: `docspace_destination.plan.plan(...)` makes a plan (a function named like its
module is not re-exported here: the module would shadow it once imported).
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "Sync": "docspace_destination.sync",
    "SyncResult": "docspace_destination.sync",
    "Plan": "docspace_destination.plan",
    "Action": "docspace_destination.plan",
    "Applier": "docspace_destination.apply",
    "ApplySettings": "docspace_destination.apply",
    "ApplyReport": "docspace_destination.apply",
    "actions_resource": "docspace_destination.destination",
    "DocSpaceClient": "docspace_destination.client",
    "DocSpaceError": "docspace_destination.client",
    "DocSpaceSettings": "docspace_destination.settings",
    "load_settings": "docspace_destination.settings",
    "Ledger": "docspace_destination.ledger",
    "NothingStaged": "docspace_destination.desired",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    try:  # a module of the package, e.g. `docspace_destination.plan`
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
