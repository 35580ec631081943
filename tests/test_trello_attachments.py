"""Trello card attachments: staged inline with the cards (trello_source.attachments) and
downloaded by the destination's helper (trello_source.attachment_download), over HTTP."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import dlt
import pytest

from pm_runtime.download import DownloadError
from pm_runtime.staging import staging_pipeline
from sandbox import TRELLO_KEY, TRELLO_TOKEN, Service
from sandbox.attachment_sample import LARGE
from sandbox.trello_sample import populate_trello
from trello_source.attachment_download import TrelloAttachmentDownloader


@pytest.fixture
def trello(workspace: Path, trello_service: Service, monkeypatch: pytest.MonkeyPatch) -> Service:
    trello_service.created = populate_trello(  # type: ignore[attr-defined]
        trello_service.emulator, boards=3, cards_per_board=8, attachments=True
    )
    monkeypatch.setenv("SOURCES__TRELLO__API_KEY", TRELLO_KEY)
    monkeypatch.setenv("SOURCES__TRELLO__TOKEN", TRELLO_TOKEN)
    monkeypatch.setenv("SOURCES__TRELLO__BASE_URL", trello_service.base_url)
    monkeypatch.setenv("SOURCES__TRELLO__ATTACHMENTS", "true")
    return trello_service


def run() -> dlt.Pipeline:
    from trello_source import trello_source

    pipeline = staging_pipeline("trello", "trello_data")
    pipeline.run(trello_source())
    return pipeline


def sql(pipeline: dlt.Pipeline, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with pipeline.sql_client() as client:
        return [tuple(r) for r in client.execute_sql(query, *args) or []]


def ids(trello: Service, role: str) -> list[str]:
    return trello.created[f"attachment:{role}"]  # type: ignore[attr-defined,no-any-return]


def test_attachments_land_with_exact_counts(trello: Service) -> None:
    p = run()
    uploads = len(ids(trello, "uploads")) + len(ids(trello, "large"))
    assert sql(p, "SELECT is_upload, count(*) FROM attachments GROUP BY 1 ORDER BY 1") == [
        (False, len(ids(trello, "links"))),
        (True, uploads),
    ]
    large = ids(trello, "large")[0]
    assert sql(p, "SELECT bytes, mime_type FROM attachments WHERE id = %s", large) == [
        (LARGE, "video/mp4")
    ]


def test_attachments_come_with_the_cards_listing_and_no_request_per_card(
    trello: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    run()
    with_attachments = trello.log.counts()
    assert trello.log.count(route="/cards/*") == 0
    listing = next(trello.log.select(route="/boards/{id}/cards/{filter}"))
    assert "attachments=true" in listing.query
    monkeypatch.setenv("SOURCES__TRELLO__ATTACHMENTS", "false")
    monkeypatch.setenv("DLT_DATA_DIR", str(Path.cwd() / "other-dlt"))
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", str(Path.cwd() / "other.duckdb"))
    trello.log.clear()
    run()
    assert trello.log.counts() == with_attachments


def test_an_uploads_url_is_not_staged_a_links_is(trello: Service) -> None:
    p = run()
    assert sql(p, "SELECT count(*) FROM attachments WHERE is_upload AND url IS NOT NULL") == [(0,)]
    assert sql(p, "SELECT name, url FROM attachments WHERE NOT is_upload") == [
        ("Design doc", "https://docs.google.com/document/d/1sAmPlE/edit")
    ]


def test_same_named_uploads_on_one_card_are_two_rows(trello: Service) -> None:
    p = run()
    assert sql(
        p,
        "SELECT count(DISTINCT id), count(DISTINCT id_card) FROM attachments "
        "WHERE name = 'Minutes.pdf'",
    ) == [(2, 1)]


def test_a_removed_attachment_is_kept_and_marked_deleted(trello: Service) -> None:
    run()
    gone = ids(trello, "uploads")[0]
    card = trello.created["cards"][0]  # type: ignore[attr-defined]
    assert trello.emulator.delete_attachment(card, gone)
    p = run()
    assert sql(p, "SELECT id FROM attachments WHERE is_deleted") == [(gone,)]


def test_attachments_of_a_deleted_card_are_marked_deleted(trello: Service) -> None:
    run()
    card = trello.created["cards"][1]  # type: ignore[attr-defined]
    trello.emulator.delete_card(card)
    p = run()
    assert sql(p, "SELECT count(*) FROM attachments WHERE id_card = %s AND is_deleted", card) == [
        (3,)
    ]


def test_turning_attachments_on_later_reads_every_boards_cards_once(
    trello: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__TRELLO__ATTACHMENTS", "false")
    run()
    monkeypatch.setenv("SOURCES__TRELLO__ATTACHMENTS", "true")
    p = run()
    assert sql(p, "SELECT count(*) FROM attachments") == [(6 + 1,)]
    trello.log.clear()
    run()
    assert trello.log.count(route="/boards/{id}/cards/{filter}") == 0


# -- the download helper ---------------------------------------------------------------------


@pytest.fixture
def downloader(trello: Service) -> Any:
    d = TrelloAttachmentDownloader(TRELLO_KEY, TRELLO_TOKEN, trello.base_url)
    yield d
    d.close()


def test_download_streams_the_large_file_with_the_sources_sha256(
    trello: Service, downloader: TrelloAttachmentDownloader
) -> None:
    att, card = ids(trello, "large")[0], trello.created["cards"][2]  # type: ignore[attr-defined]
    digest = hashlib.sha256()
    with downloader.open_attachment(card, att) as download:
        for chunk in download.chunks():
            digest.update(chunk)
    assert digest.hexdigest() == trello.emulator.attachment_sha256(att)


def test_download_sends_the_token_in_the_oauth_header_never_in_the_query(
    trello: Service, downloader: TrelloAttachmentDownloader
) -> None:
    att, card = ids(trello, "uploads")[0], trello.created["cards"][0]  # type: ignore[attr-defined]
    b"".join(downloader.open_attachment(card, att).chunks())
    download = next(trello.log.select(route="/cards/{id}/attachments/{idAttachment}/download/*"))
    hosted = next(trello.log.select(route="/s3/*"))
    assert (download.status, hosted.status) == (302, 200)
    assert TRELLO_TOKEN not in download.query and TRELLO_KEY not in download.query


def test_download_that_breaks_off_is_an_error_naming_the_attachment(
    trello: Service, downloader: TrelloAttachmentDownloader
) -> None:
    att, card = ids(trello, "large")[0], trello.created["cards"][2]  # type: ignore[attr-defined]
    trello.emulator.files.cut_at = 1024 * 1024
    with pytest.raises(DownloadError, match=f"Trello attachment {att} 'Recording.mp4'.*broke off"):
        for _ in downloader.open_attachment(card, att).chunks():
            pass


def test_a_link_is_not_downloaded(trello: Service, downloader: TrelloAttachmentDownloader) -> None:
    att, card = ids(trello, "links")[0], trello.created["cards"][1]  # type: ignore[attr-defined]
    with pytest.raises(DownloadError, match="a link, not an uploaded file"):
        downloader.open_attachment(card, att)
