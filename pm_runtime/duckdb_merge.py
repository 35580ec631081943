"""dlt's merge into the staging DuckDB, deduplicating in memory DuckDB can spill.

dlt's `delete-insert` merge picks one staged row per key with
`ROW_NUMBER() OVER (PARTITION BY key ...)` over *every* column of the table, for the root
table and for each nested table (guarding against a staged file loaded twice). DuckDB's
window operator keeps its partitions in memory it cannot spill: the merge of 200,000 Asana
tasks (2 million `tasks__custom_fields` rows) needs ~250 MB pinned, and fails with "Out of
Memory Error" under a 128 MB `memory_limit`; with a bigger limit DuckDB fills it, so the
load's peak grew with the account.

Here the same choice is made on the key and DuckDB's `rowid` only — `rowid IN (SELECT
min(rowid) … GROUP BY key)`, a hash aggregate that spills — and the rows are then read in
one streaming pass. Same rows, same "arbitrary unless `dedup_sort`" choice (with
`dedup_sort`, the row with the highest/lowest value; a key whose values are all NULL keeps
one row, as the window did). The 200,000-task merge then fits in 96 MB.
"""

from __future__ import annotations

from collections.abc import Sequence

from dlt.common.destination.client import FollowupJobRequest, PreparedTableSchema
from dlt.common.schema.typing import TSortOrder
from dlt.destinations.impl.duckdb.duck import DuckDbClient
from dlt.destinations.sql_jobs import SqlMergeFollowupJob


class SpillableDedupMergeJob(SqlMergeFollowupJob):
    """dlt's merge SQL with the deduplicating SELECT keyed on `rowid` instead of a window."""

    @classmethod
    def gen_select_from_dedup_sql(
        cls,
        table_name: str,
        primary_keys: Sequence[str],
        columns: Sequence[str],
        dedup_sort: tuple[str, TSortOrder] | None = None,
        condition: str | None = None,
        condition_columns: Sequence[str] | None = None,
        skip_dedup: bool = False,
    ) -> str:
        if skip_dedup or '"rowid"' in columns or not primary_keys:
            # a column named rowid would shadow DuckDB's pseudo-column: keep dlt's window
            return super().gen_select_from_dedup_sql(
                table_name,
                primary_keys,
                columns,
                dedup_sort,  # type: ignore[arg-type]
                condition,  # type: ignore[arg-type]
                condition_columns,  # type: ignore[arg-type]
                skip_dedup,
            )
        pick = "min(rowid)"
        if dedup_sort is not None:
            by, order = dedup_sort
            best = "arg_max" if order.lower() == "desc" else "arg_min"
            pick = f"coalesce({best}(rowid, {by}), min(rowid))"  # all-NULL keys keep a row
        keys = ", ".join(primary_keys)
        return (
            f"SELECT {', '.join(columns)} FROM {table_name}"
            f" WHERE rowid IN (SELECT {pick} FROM {table_name} GROUP BY {keys})"
            f" AND ({condition or '1 = 1'})"
        )


class StagingDuckDbClient(DuckDbClient):
    """dlt's DuckDB job client whose merges deduplicate with `SpillableDedupMergeJob`."""

    def _create_merge_followup_jobs(
        self, table_chain: Sequence[PreparedTableSchema]
    ) -> list[FollowupJobRequest]:
        return [SpillableDedupMergeJob.from_table_chain(table_chain, self.sql_client)]
