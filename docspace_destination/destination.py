"""The `docspace` dlt destination: plan rows in, DocSpace changes out.

dlt delivers batches at least once (a crashed load replays its unfinished batch);
the applier skips what the ledger shows as done, so every action lands once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from itertools import islice
from typing import Any

import dlt
from dlt.common.configuration import configspec
from dlt.common.destination.client import DestinationClientDwhConfiguration
from dlt.common.destination.exceptions import DestinationTerminalException
from dlt.destinations.impl.destination.configuration import CustomDestinationClientConfiguration

from docspace_destination.apply import Applier
from docspace_destination.plan import Action
from pm_runtime.errors import UserFacingError

ACTIONS_TABLE = "actions"
BATCH_SIZE = 5000
CHUNK_ROWS = 10_000  # plan rows per Arrow table handed to dlt's extract
_ACTION_FIELDS = [f.name for f in fields(Action)]


@functools.cache
def action_schema() -> Any:
    """The plan rows' Arrow schema (pyarrow is loaded only when a run has actions to deliver)."""
    import pyarrow as pa

    text = pa.string()
    typed = {"depth": pa.int64(), "docspace_id": pa.int64(), "template_id": pa.int64()}
    typed["size"] = pa.int64()
    typed["archived"] = pa.bool_()
    return pa.schema(
        [("seq", pa.int64())] + [(f.name, typed.get(f.name, text)) for f in fields(Action)]
    )


def action_table(actions: Sequence[Action], first_seq: int = 0) -> Any:
    """Plan rows as Arrow (dlt passes Arrow through without normalising row by row), built
    column by column: a dict per row costs ~1 KB, 200 MB for a plan of 200,000 folders."""
    import pyarrow as pa

    columns: dict[str, Any] = {"seq": range(first_seq, first_seq + len(actions))}
    for name in _ACTION_FIELDS:
        columns[name] = [getattr(a, name) for a in actions]
    return pa.Table.from_pydict(columns, schema=action_schema())


def action_tables(actions: Iterable[Action]) -> Iterator[Any]:
    """The plan rows in `CHUNK_ROWS` tables, in order, as the plan makes them: only one chunk
    is ever in memory (as actions, then as Arrow) while dlt writes them to its load package."""
    pending, seq = iter(actions), 0
    while chunk := list(islice(pending, CHUNK_ROWS)):
        yield action_table(chunk, seq)
        seq += len(chunk)


def _action(row: dict[str, Any]) -> Action:
    values = {name: row.get(name) for name in _ACTION_FIELDS}
    values["reason"] = values["reason"] or ""
    values["archived"] = bool(values["archived"])
    return Action(**values)


@configspec
class DocSpaceDestinationConfiguration(
    CustomDestinationClientConfiguration, DestinationClientDwhConfiguration
):
    """The destination's configuration as `dlt pipeline <name>_docspace trace` shows it: the
    portal and the dataset the plan was made from (dlt prints `str()` of it), never the key."""

    portal_url: str | None = None
    source_dataset: str | None = None

    def __str__(self) -> str:
        if not self.portal_url:
            return "DocSpace"
        dataset = f"planned from {self.source_dataset}, " if self.source_dataset else ""
        return f"{self.portal_url} (DocSpace portal; {dataset}ledger docspace_state.ledger)"


def docspace_destination(applier: Applier | None) -> Any:
    """A dlt destination bound to this run's applier (client, ledger, budget); call the result
    with `portal_url=`/`source_dataset=` to name them in dlt's trace."""

    @dlt.destination(
        name="docspace",
        spec=DocSpaceDestinationConfiguration,
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


def actions_resource(actions: Iterable[Action]) -> Any:
    return dlt.resource(action_tables(actions), name=ACTIONS_TABLE, write_disposition="append")


# `dlt pipeline asana_docspace info` / `trace` attach to the pipeline outside a run; dlt then imports
# the factory class its state names, which the decorator adds to this module when first called
docspace_destination(None)
