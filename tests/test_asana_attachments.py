"""Asana attachments: staged by the source (asana_source.attachments) and downloaded by the
destination's helper (asana_source.attachment_download), against the sandbox over HTTP."""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any

import pytest

from asana_source.attachment_download import AsanaAttachmentDownloader
from pm_runtime.download import DownloadError
from sandbox.asana_sample import populate_asana
from sandbox.attachment_sample import LARGE
from tests.asana_world import AsanaWorld


@pytest.fixture
def world(workspace: Path, asana_service: Any, monkeypatch: pytest.MonkeyPatch) -> AsanaWorld:
    sample = populate_asana(
        asana_service.emulator, projects=3, tasks_per_project=8, attachments=True
    )
    monkeypatch.setenv("SOURCES__ASANA__ATTACHMENTS", "true")
    return AsanaWorld(asana_service, sample, monkeypatch)


@pytest.fixture
def loaded(world: AsanaWorld) -> AsanaWorld:
    world.run()
    world.service.log.clear()
    return world


def attachment_listings(world: AsanaWorld) -> int:
    """Attachment listings Asana served (each batch action counts, as in Asana's rate limit)."""
    return world.service.log.count("GET", "/attachments")


def test_attachments_land_with_exact_counts_per_host(world: AsanaWorld) -> None:
    world.run()
    roles = world.sample.attachments
    uploads = len(roles["uploads"]) + len(roles["large"])
    assert world.scalar("SELECT count(*) FROM attachments WHERE host = 'asana'") == uploads
    assert world.sql("SELECT host, view_url FROM attachments WHERE host <> 'asana' ORDER BY 1") == [
        ("external", "https://status.example.com"),
        ("gdrive", "https://docs.google.com/document/d/1sAmPlE/edit"),
    ]
    assert world.scalar("SELECT size FROM attachments WHERE gid = ?", roles["large"][0]) == LARGE
    assert world.scalar("SELECT count(*) FROM attachments WHERE is_deleted") == 0


def test_same_named_attachments_on_one_task_are_two_rows(world: AsanaWorld) -> None:
    world.run()
    rows = world.sql(
        "SELECT parent_gid, count(*) FROM attachments WHERE name = 'Minutes.pdf' GROUP BY 1"
    )
    assert rows == [(world.sample.tasks[world.sample.projects[0]][1], 2)]


def test_no_download_url_is_stored_anywhere_in_the_database(world: AsanaWorld) -> None:
    world.run()
    columns = world.sql(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'asana_data' AND data_type = 'VARCHAR'"
    )
    for table, column in columns:
        leaked = world.scalar(
            f'SELECT count(*) FROM "{table}" WHERE "{column}" LIKE \'%X-Amz-Signature%\' '
            f"OR \"{column}\" LIKE '%/s3/asana-attachments/%'"
        )
        assert leaked == 0, f"{table}.{column}"
    assert "download_url" not in {c for _, c in columns}


def test_first_run_lists_every_task_ten_per_batch_request(world: AsanaWorld) -> None:
    world.run()
    tasks = len(world.sample.all_tasks)
    assert attachment_listings(world) == tasks
    # ten tasks to a batch; tasks arrive per project (and subtasks per parent), so a project's
    # last batch may be partly filled
    batches = world.service.log.count("POST", "/batch")
    assert math.ceil(tasks / 10) <= batches <= math.ceil(tasks / 10) + len(world.sample.projects)


def test_a_run_without_changes_lists_no_attachments(loaded: AsanaWorld) -> None:
    loaded.run()
    assert attachment_listings(loaded) == 0
    assert loaded.service.log.count("POST", "/batch") == 0


def test_an_attachment_added_to_one_task_lists_only_that_task(loaded: AsanaWorld) -> None:
    task = loaded.sample.tasks[loaded.sample.projects[1]][2]
    gid = loaded.service.emulator.add_file_attachment(task, "New.pdf", 1_000)
    loaded.run()
    assert attachment_listings(loaded) == 1
    assert loaded.scalar("SELECT parent_gid FROM attachments WHERE gid = ?", gid) == task


def test_a_removed_attachment_is_kept_and_marked_deleted(loaded: AsanaWorld) -> None:
    gone = loaded.sample.attachments["uploads"][0]
    loaded.service.emulator.remove_attachment(gone)
    loaded.run()
    assert loaded.sql(
        "SELECT is_deleted, deleted_at IS NOT NULL FROM attachments WHERE gid = ?", gone
    ) == [(True, True)]
    assert loaded.scalar("SELECT count(*) FROM attachments WHERE is_deleted") == 1


def test_attachments_of_a_deleted_task_are_marked_deleted(loaded: AsanaWorld) -> None:
    task = loaded.sample.tasks[loaded.sample.projects[0]][1]  # the same-named pair and a link
    loaded.service.emulator.delete_task(task)
    loaded.run()
    deleted = loaded.scalar(
        "SELECT count(*) FROM attachments WHERE parent_gid = ? AND is_deleted", task
    )
    assert deleted == 3


def test_attachments_are_off_by_default(world: AsanaWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCES__ASANA__ATTACHMENTS")
    world.run()
    assert attachment_listings(world) == 0
    assert "attachments" not in world.pipeline.default_schema.data_table_names()


def test_turning_attachments_on_later_lists_every_task_once(
    world: AsanaWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCES__ASANA__ATTACHMENTS", "false")
    world.run()
    monkeypatch.setenv("SOURCES__ASANA__ATTACHMENTS", "true")
    world.service.log.clear()
    world.run()
    assert attachment_listings(world) == len(world.sample.all_tasks)
    world.service.log.clear()
    world.run()
    assert attachment_listings(world) == 0


# -- the download helper ---------------------------------------------------------------------


@pytest.fixture
def downloader(world: AsanaWorld) -> Any:
    d = AsanaAttachmentDownloader(world.service.token, world.service.base_url)
    yield d
    d.close()


def test_download_streams_the_large_file_with_the_sources_sha256(
    world: AsanaWorld, downloader: AsanaAttachmentDownloader
) -> None:
    gid = world.sample.attachments["large"][0]
    digest = hashlib.sha256()
    with downloader.open_attachment(gid) as download:
        assert download.size == LARGE
        for chunk in download.chunks():
            digest.update(chunk)
    assert digest.hexdigest() == world.service.emulator.attachment_sha256(gid)


def test_download_fetches_a_fresh_url_each_time(
    world: AsanaWorld, downloader: AsanaAttachmentDownloader
) -> None:
    gid = world.sample.attachments["uploads"][0]
    for _ in range(2):
        b"".join(downloader.open_attachment(gid).chunks())
        world.service.emulator.advance_clock(600)  # any URL handed out so far has expired
    assert world.service.log.count("GET", "/attachments/{gid}") == 2


def test_download_that_breaks_off_is_an_error_naming_the_attachment(
    world: AsanaWorld, downloader: AsanaAttachmentDownloader
) -> None:
    gid = world.sample.attachments["large"][0]
    world.service.emulator.files.cut_at = 3 * 1024 * 1024
    with pytest.raises(DownloadError, match=f"Asana attachment {gid} 'Recording.mp4'.*broke off"):
        for _ in downloader.open_attachment(gid).chunks():
            pass


def test_body_shorter_than_the_reported_size_is_an_error(
    world: AsanaWorld, downloader: AsanaAttachmentDownloader
) -> None:
    gid = world.sample.attachments["uploads"][0]
    world.service.emulator.files.files[gid].size -= 1  # the bucket holds one byte less
    with pytest.raises(DownloadError, match=f"attachment {gid}.*announced 48212 bytes.*48213"):
        downloader.open_attachment(gid)


def test_an_expired_url_answer_is_an_error_not_a_file_and_shows_no_url(
    world: AsanaWorld, downloader: AsanaAttachmentDownloader
) -> None:
    gid = world.sample.attachments["uploads"][0]
    world.service.emulator.download_url_ttl = -1  # every URL is born expired
    with pytest.raises(DownloadError) as caught:
        downloader.open_attachment(gid)
    assert str(caught.value) == (
        f"Asana attachment {gid} 'Brief.docx': download answered 403 (application/xml)"
    )


def test_an_external_link_is_not_downloaded(
    world: AsanaWorld, downloader: AsanaAttachmentDownloader
) -> None:
    gid = world.sample.attachments["links"][0]
    with pytest.raises(DownloadError, match="hosted by gdrive, not an uploaded file"):
        downloader.open_attachment(gid)


def test_debug_logs_never_show_a_download_urls_signature(
    world: AsanaWorld, downloader: AsanaAttachmentDownloader, caplog: pytest.LogCaptureFixture
) -> None:
    gid = world.sample.attachments["uploads"][0]
    with caplog.at_level("DEBUG", logger="urllib3.connectionpool"):
        b"".join(downloader.open_attachment(gid).chunks())
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "X-Amz-Signature=***" in logged
    assert world.service.token not in logged
    assert not re.search(r"X-Amz-Signature=[0-9a-f]", logged)
