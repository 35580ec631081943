"""The test source as the product knows it: its one `SourceSpec`, complete."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pm_runtime.changes import ChangeDetector
from pm_runtime.link_writer import LinkWriter
from pm_runtime.source_spec import ApiQuota, MappingQuery, Nouns, SourceSpec

MAPPING = Path(__file__).parent


def _link_writer() -> LinkWriter:
    from tests.third_source.link_writer import WRITER

    return WRITER


def _dlt_source(**args: Any) -> Any:
    from tests.third_source.source import notes_source

    return notes_source()


def _change_detector() -> ChangeDetector:
    from tests.third_source.changes import notebook_changes

    return notebook_changes()


DOCSPACE_SPEC = SourceSpec(
    name="notes",
    dataset="notes_data",
    desired_tree=MappingQuery(MAPPING / "desired_tree.sql", requires={"books": ()}),
    people=(MappingQuery(MAPPING / "people.sql"),),
    links=MappingQuery(MAPPING / "links.sql"),
    link_writer=_link_writer,
    title="Notebooks",
    nouns=Nouns(room="notebook", folder="page", rooms_table="books"),
    quota=ApiQuota(600, 60.0, "requests/min"),
    credentials_hint="SOURCES__NOTES__TOKEN (or token under [sources.notes] in .dlt/secrets.toml)",
    dlt_source=_dlt_source,
    change_detector=_change_detector,
)
