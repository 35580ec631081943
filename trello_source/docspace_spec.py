"""Trello as the command line, `--watch` and the DocSpace destination know it: its one `SourceSpec`
(with the attachments copied as documents and their download helper)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pm_runtime.changes import ChangeDetector
from pm_runtime.link_writer import LinkWriter
from pm_runtime.source_spec import ApiQuota, AttachmentOpener, MappingQuery, Nouns, SourceSpec

MAPPING = Path(__file__).parent / "docspace_mapping"


def _link_writer() -> LinkWriter:
    from trello_source.link_writer import trello_link_writer

    return trello_link_writer()


def _dlt_source(**args: Any) -> Any:
    from trello_source import trello_source

    return trello_source(**args)


def _change_detector() -> ChangeDetector:
    from trello_source.changes import trello_change_detector

    return trello_change_detector()


def _attachment_download() -> AttachmentOpener:
    from trello_source.attachment_download import trello_attachment_opener

    return trello_attachment_opener()


DOCSPACE_SPEC = SourceSpec(
    name="trello",
    dataset="trello_data",
    desired_tree=MappingQuery(
        MAPPING / "desired_tree.sql",
        requires={"boards": ()},
        optional_tables={
            "labels": "id VARCHAR, id_board VARCHAR, name VARCHAR",
            "lists": "id VARCHAR, id_board VARCHAR, name VARCHAR",
            "cards": "id VARCHAR, id_board VARCHAR, id_list VARCHAR, name VARCHAR, is_deleted BOOLEAN",
        },
        optional_columns={"boards": ("closed", "is_deleted"), "cards": ("is_deleted",)},
    ),
    people=(
        MappingQuery(
            MAPPING / "people.sql",
            requires={"boards__memberships": (), "members": ("email",)},
            optional_columns={
                "boards__memberships": ("deactivated",),
                "members": ("full_name", "username"),
            },
        ),
    ),
    links=MappingQuery(MAPPING / "links.sql"),
    link_writer=_link_writer,
    title="Trello",
    nouns=Nouns(room="board", folder="card", rooms_table="boards"),
    # developer.atlassian.com/cloud/trello/guides/rest-api/rate-limits
    quota=ApiQuota(100, 10.0, "requests/10 s per token"),
    credentials_hint="SOURCES__TRELLO__API_KEY and SOURCES__TRELLO__TOKEN "
    "(or api_key/token under [sources.trello] in .dlt/secrets.toml)",
    dlt_source=_dlt_source,
    change_detector=_change_detector,
    attachments=MappingQuery(
        MAPPING / "attachments.sql",
        requires={"attachments": ("id", "id_card")},
        optional_columns={"attachments": ("is_upload", "bytes", "is_deleted")},
    ),
    attachment_download=_attachment_download,
)
