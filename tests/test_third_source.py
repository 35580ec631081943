"""A source the destination has never heard of is mirrored into DocSpace through its spec alone.

The source is a DuckDB table and two SQL files in `tests/third_source/`; nothing in
`docspace_destination` names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from pm_runtime.source_spec import MappingQuery, SourceSpec

MAPPING = Path(__file__).parent / "third_source"
NOTES = SourceSpec(
    name="notes",
    dataset="notes_data",
    desired_tree=MappingQuery(MAPPING / "desired_tree.sql", requires={"books": ()}),
    people=(MappingQuery(MAPPING / "people.sql"),),
)


@pytest.fixture
def staged_notes(workspace: Path, docspace_service: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from pm_runtime.staging import staging_database_path

    monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", docspace_service.server.root_url)
    monkeypatch.setenv("DESTINATION__DOCSPACE__API_KEY", docspace_service.credentials["api_key"])
    con = duckdb.connect(staging_database_path())
    con.execute("CREATE SCHEMA notes_data")
    con.execute(
        "CREATE TABLE notes_data.books (id VARCHAR, title VARCHAR, closed BOOLEAN, owner_email VARCHAR)"
    )
    con.execute("CREATE TABLE notes_data.pages (id VARCHAR, book_id VARCHAR, title VARCHAR)")
    con.execute(
        "INSERT INTO notes_data.books VALUES ('1', 'Field notes', false, 'ada@example.com'), "
        "('2', 'Recipes', false, 'grace@example.com')"
    )
    con.execute(
        "INSERT INTO notes_data.pages VALUES ('10', '1', 'Day one'), ('11', '1', 'Day two'), "
        "('20', '2', 'Bread')"
    )
    con.close()
    return docspace_service


def rooms_and_folders(docspace: Any) -> dict[str, list[str]]:
    em = docspace.emulator
    return {r.title: sorted(f.title for f in em.folders(r.id)) for r in em.rooms()}


def test_a_third_source_is_mirrored_room_per_book_folder_per_page(staged_notes: Any) -> None:
    from docspace_destination.sync import Sync

    result = Sync(NOTES).run()
    assert result.failed == 0
    assert rooms_and_folders(staged_notes) == {
        "Field notes": ["Day one", "Day two"],
        "Recipes": ["Bread"],
    }


def test_a_third_source_rerun_writes_nothing(staged_notes: Any) -> None:
    from docspace_destination.sync import Sync

    Sync(NOTES).run()
    again = Sync(NOTES).run()
    assert again.writes == 0
    assert not again.plan.has_changes


def test_a_third_source_people_come_from_its_own_sql(staged_notes: Any) -> None:
    from docspace_destination.members import project_people
    from pm_runtime.staging import staging_database_path

    con = duckdb.connect(staging_database_path())
    try:
        people = project_people(con, NOTES)
    finally:
        con.close()
    assert {k: [p.email for p in v] for k, v in people.items()} == {
        "notes:book:1": ["ada@example.com"],
        "notes:book:2": ["grace@example.com"],
    }
