"""Configuration of the DocSpace side, resolved the dlt way (.dlt/*.toml or environment).

Keys live under [destination.docspace]; a source may override any of them under
[destination.docspace.asana] / [destination.docspace.trello]. Read here, once each
(through `config`, see there why a plain dataclass), with their defaults:

    base_url, api_key             # required (api_key in secrets.toml)
    room_type = "Collaboration"   private = false   tags = []   adopt_existing = true
    layout = "flat"   subtasks = "nested"   room_title = "{name}"   folder_title = "{name}"
    concurrency = 8   max_writes = 9000        # --concurrency / --max-writes win
    room_templates (none)   archived_projects = "skip"
    attachments = "off"   attachment_max_mb = 100   # "copy": documents follow their tasks

The opt-in steps' keys (write_back, sync_members, role_map...) are read in `opt_in_steps`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from docspace_destination.apply import ApplySettings
from docspace_destination.client import room_type_id
from docspace_destination.config import (
    SECTION,
    config_bool,
    config_choice,
    config_int,
    config_value,
    set_but_empty,
)
from docspace_destination.desired import TITLE_FIELDS, MappingOptions
from docspace_destination.plan import ARCHIVED_PROJECTS, SKIP_ARCHIVED
from docspace_destination.templates import TemplateRule, parse_rules
from pm_runtime.errors import ConfigurationError
from pm_runtime.setting_checks import portal_root_problem, template_problem

DEFAULT_MAX_WRITES = 9000  # DocSpace allows 10,000 writes a day; leave room for people


@dataclass(frozen=True)
class DocSpaceSettings:
    base_url: str
    api_key: str
    mapping: MappingOptions
    apply: ApplySettings
    room_templates: list[TemplateRule]
    # a project already archived when first seen: "skip" (no room) or "mirror" (room, archived)
    archived_projects: str = SKIP_ARCHIVED
    # documents (issue 20): "off" or "copy" uploaded attachments into their task's folder
    attachments: str = "off"
    attachment_max_mb: int = 100  # larger attachments are skipped with their size as reason


# keys whose empty value is a mistake rather than "use the default"
TEXT_KEYS = (
    "layout",
    "subtasks",
    "room_title",
    "folder_title",
    "room_type",
    "archived_projects",
    "attachments",
)
ATTACHMENT_MODES = ("off", "copy")


def _raise(problem: str | None) -> None:
    if problem:
        raise ConfigurationError(problem)


def _tags(source: str) -> list[str]:
    value = config_value(source, "tags", [])
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)  # an environment variable holding a TOML/JSON list
        except ValueError:
            raise ConfigurationError(f"{SECTION}.tags is not a valid list: {value!r}") from None
    elif isinstance(value, str) and "," in value:
        value = [t.strip() for t in value.split(",") if t.strip()]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise ConfigurationError(f"{SECTION}.tags must be a list of strings, got {value!r}")
    return value


def load_settings(
    source: str,
    *,
    concurrency: int | None = None,
    max_writes: int | None = None,
    need_credentials: bool = True,
) -> DocSpaceSettings:
    base_url = config_value(source, "base_url")
    api_key = config_value(source, "api_key", secret=True) or config_value(source, "api_key")
    if need_credentials:
        if not base_url:
            raise ConfigurationError(
                "Missing DocSpace portal URL: set DESTINATION__DOCSPACE__BASE_URL or base_url under "
                "[destination.docspace] in .dlt/config.toml"
            )
        if not api_key:
            raise ConfigurationError(
                "Missing DocSpace API key: set DESTINATION__DOCSPACE__API_KEY or api_key under "
                "[destination.docspace] in .dlt/secrets.toml"
            )
    for key in TEXT_KEYS:
        if set_but_empty(source, key):
            raise ConfigurationError(
                f"{SECTION}.{key} must not be empty (leave it out for the default)"
            )
    if base_url:
        _raise(portal_root_problem(f"{SECTION}.base_url", str(base_url)))
    try:
        room_type = room_type_id(config_value(source, "room_type", "Collaboration"))
    except ValueError as exc:
        raise ConfigurationError(f"{SECTION}.room_type: {exc}") from None
    for key in ("room_title", "folder_title"):
        _raise(
            template_problem(f"{SECTION}.{key}", config_value(source, key, "{name}"), TITLE_FIELDS)
        )
    mapping = MappingOptions(
        layout=str(config_value(source, "layout", "flat")),
        subtasks=str(config_value(source, "subtasks", "nested")),
        room_title=str(config_value(source, "room_title", "{name}")),
        folder_title=str(config_value(source, "folder_title", "{name}")),
    )
    apply = ApplySettings(
        concurrency=concurrency
        if concurrency is not None
        else config_int(source, "concurrency", 8),
        max_writes=max_writes
        if max_writes is not None
        else config_int(source, "max_writes", DEFAULT_MAX_WRITES),
        room_type=room_type,
        private=config_bool(source, "private", False),
        room_tags=_tags(source),
        adopt_existing=config_bool(source, "adopt_existing", True),
    )
    return DocSpaceSettings(
        base_url=str(base_url or ""),
        api_key=str(api_key or ""),
        mapping=mapping,
        apply=apply,
        room_templates=parse_rules(config_value(source, "room_templates")),
        archived_projects=config_choice(
            source, "archived_projects", ARCHIVED_PROJECTS, SKIP_ARCHIVED
        ),
        attachments=config_choice(source, "attachments", ATTACHMENT_MODES, "off"),
        attachment_max_mb=_positive(source, "attachment_max_mb", 100),
    )


def _positive(source: str, key: str, default: int) -> int:
    value = config_int(source, key, default)
    if value < 1:
        raise ConfigurationError(f"{SECTION}.{key} must be at least 1, got {value}")
    return value
