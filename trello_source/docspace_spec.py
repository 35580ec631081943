"""What the DocSpace destination needs from Trello: the mapping SQL, the link writer and the
attachments (documents) with their download helper."""

from __future__ import annotations

from pathlib import Path

from pm_runtime.link_writer import LinkWriter
from pm_runtime.source_spec import AttachmentOpener, MappingQuery, SourceSpec

MAPPING = Path(__file__).parent / "docspace_mapping"


def _link_writer() -> LinkWriter:
    from trello_source.link_writer import trello_link_writer

    return trello_link_writer()


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
    attachments=MappingQuery(
        MAPPING / "attachments.sql",
        requires={"attachments": ("id", "id_card")},
        optional_columns={"attachments": ("is_upload", "bytes", "is_deleted")},
    ),
    attachment_download=_attachment_download,
)
