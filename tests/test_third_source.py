"""A source the product has never heard of is mirrored into DocSpace through its spec alone.

The source is the package `tests/third_source/` (SQL files, a dlt source, a change detector, a
link writer, its `DOCSPACE_SPEC`); nothing in `docspace_destination` or `pipelines` names it,
and `--watch` runs it with its own change detector.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pm_runtime.source_spec import missing_fields
from tests.third_source import DOCSPACE_SPEC
from tests.third_source.changes import MADE
from tests.third_source.link_writer import WRITER

NOTES = DOCSPACE_SPEC


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


def test_a_third_source_is_watched_with_its_own_change_detector_and_dlt_source(
    workspace: Path,
    docspace_service: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pipelines.watch.process import watch

    monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", docspace_service.server.root_url)
    monkeypatch.setenv("DESTINATION__DOCSPACE__API_KEY", docspace_service.credentials["api_key"])
    args = argparse.Namespace(
        interval=0.1, api_share=None, concurrency=None, verbose=0, max_writes=None
    )
    code: list[int] = []
    # in a thread of its own: the watcher installs signal handlers only in the main thread
    watcher = threading.Thread(target=lambda: code.append(watch(NOTES, args)))
    watcher.start()
    watcher.join(120)
    out = capsys.readouterr().out
    assert code == [1]  # stopped by its own detector's verdict on the credentials
    assert "Watching Notebooks every 0.1s (within 50% of Notebooks's 600 requests/min)" in out
    assert "error: the notes token was revoked" in out
    assert [(d.polls, d.closed) for d in MADE] == [(2, True)]
    assert rooms_and_folders(docspace_service) == {"Field notes": ["Day one"], "Recipes": ["Bread"]}


def test_a_third_source_is_told_by_its_own_title_and_nouns() -> None:
    from pipelines.flags import build_parser

    assert "a room per notebook, a folder per page" in build_parser(NOTES).description


def test_a_source_without_a_change_detector_is_not_watched_with_another_ones(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dataclasses import replace

    from pipelines.watch.process import watch

    args = argparse.Namespace(
        interval=None, api_share=None, concurrency=None, verbose=0, max_writes=None
    )
    assert watch(replace(NOTES, change_detector=None), args) == 1
    assert (
        capsys.readouterr().out == "error: notes states no change detector: it cannot be watched\n"
    )


def test_the_third_sources_spec_is_as_complete_as_a_registered_ones() -> None:
    assert missing_fields(NOTES) == []
