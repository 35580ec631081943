"""The ledger keeps each row exactly as written, on both staging databases: what the next run
plans from is what the last one recorded (titles of any shape, big ids, the microsecond)."""

from __future__ import annotations

from datetime import UTC, datetime

from docspace_destination.ledger import Ledger, LedgerEntry

ODD = "Q3 'plan' \"v2\" — ünï\n\\ 🚀 %s ? $1"


def _row(**fields) -> LedgerEntry:
    base = dict(
        key="asana:task:1@2",
        source="asana",
        entity="task",
        kind="folder",
        parent_key="asana:project:2",
        docspace_id=2**40 + 1,
        parent_id=7,
        title=ODD,
        archived=True,
        status="failed",
        last_error="409 Conflict: 'x'",
        attempts=3,
        updated_at=datetime(2026, 12, 3, 14, 0, 0, 123456, tzinfo=UTC),
        intent='{"op": "move", "to": 9}',
    )
    return LedgerEntry(**{**base, **fields})


def test_a_written_row_reads_back_exactly(workspace, staging):
    row = _row()
    Ledger().write([row])
    assert Ledger().load_keys("asana", [row.key]) == {row.key: row}


def test_a_row_written_again_replaces_the_first_and_empty_fields_stay_empty(workspace, staging):
    Ledger().write([_row()])
    again = _row(docspace_id=None, parent_id=None, title=None, last_error=None, intent=None)
    other = _row(key="asana:task:3@2", archived=False, attempts=0)
    Ledger().write([again, other])
    assert Ledger().load_keys("asana", [again.key, other.key]) == {
        again.key: again,
        other.key: other,
    }


def test_a_run_log_from_before_an_outcome_existed_gets_its_column(workspace, staging):
    from tests.staged import staged_execute, staged_rows

    Ledger().write([_row()])  # the tables, as a run makes them
    staged_execute("ALTER TABLE docspace_state.runs DROP COLUMN uploaded")
    Ledger().log_run({"run_id": "r1", "source": "asana", "uploaded": 2})
    assert staged_rows("SELECT run_id, uploaded FROM docspace_state.runs") == [("r1", 2)]
