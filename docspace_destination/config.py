"""The [destination.docspace] keys, declared once as dlt `@configspec`s, each with its default.

    [destination.docspace]            # DESTINATION__DOCSPACE__<KEY> in the environment
    layout = "grouped"
    [destination.docspace.asana]      # DESTINATION__DOCSPACE__ASANA__<KEY>: wins for Asana
    layout = "flat"

A source's own table overrides the shared one key by key: dlt's sections
(`destination.docspace.<source>` before `destination.docspace`), and nothing above them
(`pm_runtime.settings_resolution` drops dlt's fallback to `destination.<key>` and the bare key).
Environment strings are decoded by dlt (`TAGS='["a","b"]'`, `PRIVATE=yes`); `on_resolved`
checks what types cannot say, with messages naming the key
(`destination.docspace.room_title uses an unknown field {nme} ...`).

This module is a leaf: it knows dlt, `pm_runtime` and the title fields, not the engine. `settings` turns these
specs into the engine's types (`ApplySettings`, `MappingOptions`, `OptInSettings`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from dlt.common.configuration import configspec
from dlt.common.configuration.specs import BaseConfiguration
from dlt.common.typing import TSecretStrValue

from docspace_destination.choices import (
    ArchivedProjects,
    AttachmentMode,
    Layout,
    SubtaskMode,
    SyncMembersMode,
)
from docspace_destination.limits import DEFAULT_CONCURRENCY, DEFAULT_MAX_WRITES
from docspace_destination.titles import TITLE_FIELDS
from pm_runtime.setting_checks import (
    check_settings,
    portal_root_problem,
    template_problem,
    whole_number_problem,
)
from pm_runtime.settings_resolution import field_names, resolve_settings

SECTION = "destination.docspace"


def _empty_problem(spec: BaseConfiguration, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = getattr(spec, key)
        if isinstance(value, str) and not value.strip():
            return f"{SECTION}.{key} must not be empty (leave it out for the default)"
    return None


@configspec
class DocSpaceConfiguration(BaseConfiguration):
    """The portal, the mapping of projects to rooms and folders, the limits of one run."""

    base_url: str | None = None  # required to write; the portal root
    api_key: TSecretStrValue | None = None  # required to write; in secrets.toml
    room_type: str = "Collaboration"  # a name or DocSpace's number (5)
    private: bool = False
    tags: list[str] | None = None  # none; env: '["a","b"]' or "a, b"
    adopt_existing: bool = True  # a room without a marker is adopted by its exact title
    layout: Layout = "flat"
    subtasks: SubtaskMode = "nested"
    room_title: str = "{name}"
    folder_title: str = "{name}"
    concurrency: int = DEFAULT_CONCURRENCY  # --concurrency wins
    max_writes: int = DEFAULT_MAX_WRITES  # --max-writes wins; DocSpace allows 10,000 a day
    room_templates: list[dict[str, Any]] | None = None  # templates.parse_rules
    # a project already archived when first seen: no room, or a room archived at once
    archived_projects: ArchivedProjects = "skip"
    # documents (issue 20): uploaded attachments copied into their task's folder
    attachments: AttachmentMode = "off"
    attachment_max_mb: int = 100  # larger attachments are skipped with their size as reason

    TITLE_KEYS: ClassVar[tuple[str, ...]] = ("room_title", "folder_title")

    @staticmethod
    def normalised(name: str, value: Any) -> Any:
        if name == "tags" and isinstance(value, str) and "," in value and value[:1] != "[":
            return [t.strip() for t in value.split(",") if t.strip()]
        return None

    @staticmethod
    def coercion_problem(key: str, value: Any) -> str | None:
        if key.endswith(".tags"):
            return f"{key} must be a list of strings, got {value!r}"
        if key.endswith(".room_templates"):
            return f"{key} must be a list of rules (JSON in an environment variable)"
        return None

    def on_resolved(self) -> None:
        self.tags = list(self.tags or [])
        check_settings(
            _empty_problem(self, ("room_type", *self.TITLE_KEYS)),
            portal_root_problem(f"{SECTION}.base_url", self.base_url) if self.base_url else None,
            *(
                template_problem(f"{SECTION}.{k}", getattr(self, k), TITLE_FIELDS)
                for k in self.TITLE_KEYS
            ),
            whole_number_problem(f"{SECTION}.attachment_max_mb", self.attachment_max_mb, minimum=1),
        )


@configspec
class OptInStepsConfiguration(BaseConfiguration):
    """The steps that follow an apply, all off unless asked for."""

    write_back: bool = False  # links to rooms/folders written back to the projects
    write_back_tasks: bool = False  # Asana: also on every task (Trello always writes cards)
    sync_members: SyncMembersMode = "off"
    invite_unknown: bool = False  # invite people with no DocSpace account by email
    # {owner, member, observer} -> access level name or FileShare number; see `RoleMapOverrides`
    role_map: dict[str, Any] | None = None

    @staticmethod
    def normalised(name: str, value: Any) -> Any:
        if name == "sync_members" and str(value).strip().lower() in ("false", "no", "none"):
            return "off"
        return None

    @staticmethod
    def coercion_problem(key: str, value: Any) -> str | None:
        if key.endswith(".role_map"):
            return f'{key} must be a table like {{owner = "RoomManager"}}, got {value!r}'
        return None


@configspec
class RoleMapOverrides(BaseConfiguration):
    """One role's level on its own (`DESTINATION__DOCSPACE__ROLE_MAP__MEMBER=Review`), over
    the `role_map` table."""

    owner: str | None = None
    member: str | None = None
    observer: str | None = None


def docspace_config(source: str) -> DocSpaceConfiguration:
    """[destination.docspace.<source>] over [destination.docspace], checked."""
    return resolve_settings(DocSpaceConfiguration, ("destination", "docspace", source), floor=2)


def opt_in_config(source: str) -> OptInStepsConfiguration:
    return resolve_settings(OptInStepsConfiguration, ("destination", "docspace", source), floor=2)


def role_overrides(source: str) -> dict[str, Any]:
    """The roles given one by one (`role_map.<role>`): the source's table over the shared one."""
    given: dict[str, Any] = {}
    for sections in (
        ("destination", "docspace", "role_map"),
        ("destination", "docspace", source, "role_map"),
    ):
        found = resolve_settings(RoleMapOverrides, sections, floor=len(sections))
        given.update({k: v for k, v in dict(found).items() if v is not None})
    return given


# every key of [destination.docspace] (and of each source's table), for the unknown-key check
DOCSPACE_KEYS = field_names(DocSpaceConfiguration, OptInStepsConfiguration)

__all__ = [
    "DOCSPACE_KEYS",
    "SECTION",
    "DocSpaceConfiguration",
    "OptInStepsConfiguration",
    "RoleMapOverrides",
    "docspace_config",
    "opt_in_config",
    "role_overrides",
]
