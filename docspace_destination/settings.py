"""The DocSpace side's settings as the engine takes them, from the configspecs in `config`.

`config` declares the keys of [destination.docspace] (and each source's override table) with
their types and defaults and checks them; this module turns them into the engine's types:
`ApplySettings` (limits, rooms), `MappingOptions` (layout, titles), the template rules and the
opt-in steps' `OptInSettings`. The engine's modules never read configuration themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docspace_destination.apply_settings import ApplySettings
from docspace_destination.client import room_type_id
from docspace_destination.config import (
    SECTION,
    DocSpaceConfiguration,
    docspace_config,
    opt_in_config,
    role_overrides,
)
from docspace_destination.desired import MappingOptions
from docspace_destination.opt_in_steps import (
    DEFAULT_ROLE_MAP,
    ROLES,
    ROOM_ACCESSES,
    OptInSettings,
    access_level,
    check_level,
)
from docspace_destination.templates import TemplateRule, parse_rules
from pm_runtime.errors import ConfigurationError
from pm_runtime.source_spec import SourceSpec, spec_for

DEFAULTS = DocSpaceConfiguration  # the defaults, as class attributes (DEFAULTS.max_writes)


@dataclass(frozen=True)
class DocSpaceSettings:
    base_url: str
    api_key: str
    mapping: MappingOptions
    apply: ApplySettings
    room_templates: list[TemplateRule]
    # a project already archived when first seen: "skip" (no room) or "mirror" (room, archived)
    archived_projects: str = DEFAULTS.archived_projects
    # documents (issue 20): "off" or "copy" uploaded attachments into their task's folder
    attachments: str = DEFAULTS.attachments
    attachment_max_mb: int = DEFAULTS.attachment_max_mb


def load_settings(
    source: str,
    *,
    concurrency: int | None = None,
    max_writes: int | None = None,
    need_credentials: bool = True,
) -> DocSpaceSettings:
    """[destination.docspace] for `source`, checked; --concurrency / --max-writes win."""
    config = docspace_config(source)
    if need_credentials:
        if not config.base_url:
            raise ConfigurationError(
                "Missing DocSpace portal URL: set DESTINATION__DOCSPACE__BASE_URL or base_url under "
                "[destination.docspace] in .dlt/config.toml"
            )
        if not config.api_key:
            raise ConfigurationError(
                "Missing DocSpace API key: set DESTINATION__DOCSPACE__API_KEY or api_key under "
                "[destination.docspace] in .dlt/secrets.toml"
            )
    try:
        room_type = room_type_id(config.room_type)
    except ValueError as exc:
        raise ConfigurationError(f"{SECTION}.room_type: {exc}") from None
    mapping = MappingOptions(
        layout=config.layout,
        subtasks=config.subtasks,
        room_title=config.room_title,
        folder_title=config.folder_title,
    )
    apply = ApplySettings(
        concurrency=concurrency if concurrency is not None else config.concurrency,
        max_writes=max_writes if max_writes is not None else config.max_writes,
        room_type=room_type,
        private=config.private,
        room_tags=list(config.tags or []),
        adopt_existing=config.adopt_existing,
    )
    return DocSpaceSettings(
        base_url=str(config.base_url or ""),
        api_key=str(config.api_key or ""),
        mapping=mapping,
        apply=apply,
        room_templates=parse_rules(config.room_templates),
        archived_projects=config.archived_projects,
        attachments=config.attachments,
        attachment_max_mb=config.attachment_max_mb,
    )


def load_opt_in_settings(source: str, room_type: int = 2) -> OptInSettings:
    """The opt-in steps' settings for `source` (role levels checked against `room_type`)."""
    config = opt_in_config(source)
    mode = config.sync_members
    return OptInSettings(
        write_back=config.write_back,
        write_back_tasks=config.write_back_tasks,
        sync_members=mode,
        role_map=_role_map(source, config.role_map, room_type)
        if mode != "off"
        else dict(DEFAULT_ROLE_MAP),
        invite_unknown=config.invite_unknown,
    )


def _role_map(source: str, table: dict | None, room_type: int) -> dict[str, int | None]:
    given = {str(k): v for k, v in (table or {}).items()}
    given.update(role_overrides(source))  # DESTINATION__DOCSPACE__ROLE_MAP__OWNER=... wins
    unknown = sorted(set(given) - set(ROLES))
    if unknown:
        raise ConfigurationError(
            f"{SECTION}.role_map: unknown role(s) {unknown}; the roles are {list(ROLES)}"
        )
    roles: dict[str, int | None] = {}
    for role in ROLES:
        key = f"{SECTION}.role_map.{role}"
        if role in given:
            roles[role] = access_level(given[role], key)
            check_level(roles[role], room_type, key)  # type: ignore[arg-type]
        else:
            default = DEFAULT_ROLE_MAP[role]
            allowed = ROOM_ACCESSES.get(room_type)
            if allowed is not None and default not in allowed:
                if role == "observer":
                    roles[role] = None  # not invited: this room type has no read-only level
                    continue
                check_level(default, room_type, key)
            roles[role] = default
    return roles


def copies_attachments(settings: DocSpaceSettings, spec: SourceSpec) -> bool:
    """The destination copies them (`attachments = "copy"`) and the source can stage them
    (its spec has the SQL)."""
    return settings.attachments == "copy" and spec.attachments is not None


def wants_attachments(source: str | SourceSpec) -> bool:
    """Whether this source's runs stage attachments (`copies_attachments`, settings read here)."""
    spec = spec_for(source)
    if spec.attachments is None:  # no settings to read
        return False
    return copies_attachments(load_settings(spec.name, need_credentials=False), spec)


def source_options(source: str) -> dict[str, Any]:
    """What the destination asks of the source's dlt function: `attachments=True` when it
    copies documents (the pipelines pass these to every extract, one-off or --watch)."""
    try:
        return {"attachments": True} if wants_attachments(source) else {}
    except LookupError:  # a source without a DocSpace spec
        return {}
