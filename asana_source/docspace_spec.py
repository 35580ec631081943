"""Asana as the command line, `--watch` and the DocSpace destination know it: its one `SourceSpec`
(with the attachments copied as documents and their download helper)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pm_runtime.changes import ChangeDetector
from pm_runtime.link_writer import LinkWriter
from pm_runtime.source_spec import ApiQuota, AttachmentOpener, MappingQuery, SourceSpec

MAPPING = Path(__file__).parent / "docspace_mapping"


def _link_writer() -> LinkWriter:
    from asana_source.link_writer import asana_link_writer

    return asana_link_writer()


def _dlt_source(**args: Any) -> Any:
    from asana_source import asana_source

    return asana_source(**args)


def _change_detector() -> ChangeDetector:
    from asana_source.changes import asana_change_detector

    return asana_change_detector()


def _attachment_download() -> AttachmentOpener:
    from asana_source.attachment_download import asana_attachment_opener

    return asana_attachment_opener()


DOCSPACE_SPEC = SourceSpec(
    name="asana",
    dataset="asana_data",
    desired_tree=MappingQuery(
        MAPPING / "desired_tree.sql",
        requires={"projects": ()},
        optional_tables={
            "projects__custom_fields": "_dlt_parent_id VARCHAR, name VARCHAR, display_value VARCHAR, enum_value__name VARCHAR",
            "sections": "gid VARCHAR, name VARCHAR, project__gid VARCHAR, is_deleted BOOLEAN",
            "tasks": "gid VARCHAR, name VARCHAR, parent__gid VARCHAR, is_deleted BOOLEAN, _dlt_id VARCHAR",
            "tasks__memberships": "_dlt_parent_id VARCHAR, project__gid VARCHAR, section__gid VARCHAR",
        },
        optional_columns={
            "projects": ("archived", "completed", "is_deleted", "team__name"),
            "sections": ("is_deleted",),
            "tasks": ("is_deleted", "parent__gid"),
            "tasks__memberships": ("section__gid",),
            "projects__custom_fields": ("display_value", "enum_value__name"),
        },
    ),
    people=(
        MappingQuery(
            MAPPING / "people_owners.sql",
            requires={"projects": ("owner__gid", "owner__email")},
            optional_columns={"projects": ("owner__name",)},
        ),
        MappingQuery(
            MAPPING / "people_members.sql",
            requires={"projects__members": ("email",)},
            optional_columns={"projects__members": ("name",)},
        ),
    ),
    links=MappingQuery(
        MAPPING / "links.sql",
        optional_tables={"projects": "gid VARCHAR, is_deleted BOOLEAN"},
        optional_columns={"projects": ("is_deleted",)},
    ),
    link_writer=_link_writer,
    title="Asana",
    # developers.asana.com/docs/rate-limits (paid plans; the free plan: 150/min)
    quota=ApiQuota(1500, 60.0, "requests/min"),
    credentials_hint="SOURCES__ASANA__ACCESS_TOKEN (or access_token under [sources.asana] in .dlt/secrets.toml)",
    dlt_source=_dlt_source,
    change_detector=_change_detector,
    reconcile_key="reconcile_every_hours",  # sources.asana.reconcile_every_hours
    attachments=MappingQuery(
        MAPPING / "attachments.sql",
        requires={"attachments": ("gid", "parent_gid")},
        optional_columns={"attachments": ("host", "resource_subtype", "size", "is_deleted")},
    ),
    attachment_download=_attachment_download,
)
