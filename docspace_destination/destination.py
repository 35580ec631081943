"""The `docspace` dlt destination: plan rows in, DocSpace changes out.

dlt delivers batches at least once (a crashed load replays its unfinished batch);
the applier skips what the ledger shows as done, so every action lands once.
"""

from __future__ import annotations

import functools
from dataclasses import fields
from typing import Any

import dlt
from dlt.common.destination.exceptions import DestinationTerminalException

from docspace_destination.apply import Applier
from docspace_destination.plan import Action
from pm_runtime.errors import UserFacingError

ACTIONS_TABLE = "actions"
BATCH_SIZE = 5000
_ACTION_FIELDS = [f.name for f in fields(Action)]


@functools.cache
def action_schema() -> Any:
    """The plan rows' Arrow schema (pyarrow is loaded only when a run has actions to deliver)."""
    import pyarrow as pa

    text = pa.string()
    typed = {"depth": pa.int64(), "docspace_id": pa.int64(), "template_id": pa.int64()}
    typed["archived"] = pa.bool_()
    return pa.schema(
        [("seq", pa.int64())] + [(f.name, typed.get(f.name, text)) for f in fields(Action)]
    )


def action_table(actions: list[Action]) -> Any:
    """Plan rows as Arrow: dlt passes Arrow through without normalising row by row."""
    import pyarrow as pa

    rows = [{"seq": seq, **a.as_row()} for seq, a in enumerate(actions)]
    return pa.Table.from_pylist(rows, schema=action_schema())


def _action(row: dict[str, Any]) -> Action:
    values = {name: row.get(name) for name in _ACTION_FIELDS}
    values["reason"] = values["reason"] or ""
    values["archived"] = bool(values["archived"])
    return Action(**values)


def docspace_destination(applier: Applier | None) -> Any:
    """A dlt destination bound to this run's applier (client, ledger, budget)."""

    @dlt.destination(
        name="docspace",
        batch_size=BATCH_SIZE,
        loader_file_format="parquet",
        max_table_nesting=0,
        loader_parallelism_strategy="table-sequential",
        max_parallel_load_jobs=1,
    )
    def docspace(items: Any, table: dict[str, Any]) -> None:
        if table["name"] != ACTIONS_TABLE:
            return
        if applier is None:
            raise DestinationTerminalException(
                "the docspace destination applies only inside a sync: run pipelines/<source>_to_docspace.py"
            )
        rows = items.to_pylist() if hasattr(items, "to_pylist") else list(items)
        ordered = sorted(rows, key=lambda r: r["seq"])
        try:
            applier.run([_action(r) for r in ordered])
        except UserFacingError as exc:
            # bad credentials: retrying the batch cannot help
            raise DestinationTerminalException(str(exc)) from exc

    return docspace


def actions_resource(actions: list[Action]) -> Any:
    return dlt.resource(action_table(actions), name=ACTIONS_TABLE, write_disposition="append")


# `dlt pipeline asana_docspace info` / `trace` attach to the pipeline outside a run; dlt then imports
# the factory class its state names, which the decorator adds to this module when first called
docspace_destination(None)
