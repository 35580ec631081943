"""A source the destination has never heard of is mirrored into DocSpace through its spec alone.

The source is a DuckDB table and two SQL files in `tests/third_source/`; nothing in
`docspace_destination` names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from pm_runtime.link_writer import Attachment
from pm_runtime.source_spec import MappingQuery, SourceSpec

MAPPING = Path(__file__).parent / "third_source"


class NotebookLinks:
    """The test source's own write-back client: links kept on its notebooks, in memory."""

    def __init__(self) -> None:
        self.links: dict[str, list[Attachment]] = {}
        self.calls = 0

    def list(self, parent: str) -> list[Attachment]:
        self.calls += 1
        return list(self.links.get(parent, []))

    def add(self, parent: str, name: str, url: str) -> Attachment:
        self.calls += 1
        made = Attachment(f"{parent}-{len(self.links.get(parent, []))}", name, frozenset({url}))
        self.links.setdefault(parent, []).append(made)
        return made

    def delete(self, parent: str, attachment_id: str) -> None:
        self.calls += 1
        self.links[parent] = [a for a in self.links.get(parent, []) if a.id != attachment_id]

    def close(self) -> None:
        pass


WRITER = NotebookLinks()
NOTES = SourceSpec(
    name="notes",
    dataset="notes_data",
    desired_tree=MappingQuery(MAPPING / "desired_tree.sql", requires={"books": ()}),
    people=(MappingQuery(MAPPING / "people.sql"),),
    links=MappingQuery(MAPPING / "links.sql"),
    link_writer=lambda: WRITER,
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


def test_a_third_source_gets_links_back_through_its_own_writer(
    staged_notes: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docspace_destination.sync import Sync

    monkeypatch.setenv("DESTINATION__DOCSPACE__WRITE_BACK", "true")
    WRITER.links.clear()
    result = Sync(NOTES).run()
    rooms = {r.title: r.id for r in staged_notes.emulator.rooms()}
    assert result.writeback is not None and result.writeback.counts["added"] == 2
    assert {
        book: [(a.name, len(a.urls)) for a in links] for book, links in WRITER.links.items()
    } == {
        "1": [("DocSpace room", 1)],
        "2": [("DocSpace room", 1)],
    }
    (url,) = WRITER.links["1"][0].urls
    assert url.endswith(
        f"/rooms/shared/{rooms['Field notes']}/filter?folder={rooms['Field notes']}"
    )
    WRITER.calls = 0
    Sync(NOTES).run()
    assert WRITER.calls == 0  # links unchanged: the source is not asked at all
