"""Fields requested from Asana (sent as `opt_fields`) and the source's defaults.

Without `opt_fields` Asana lists return compact records (gid, name, resource_type), so
every field a table needs must be named here. Plain dotted paths only: the `(a|b)`
group syntax is avoided on purpose, it is the least documented part of the format.
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://app.asana.com/api/1.0"
PAGE_LIMIT = 100
MAX_WORKERS = 12  # per-project fetches in flight; Asana allows 50 concurrent GETs per token

_REF = ("gid", "name")
_CUSTOM_FIELD_VALUE = [
    "custom_fields.gid",
    "custom_fields.name",
    "custom_fields.type",
    "custom_fields.resource_subtype",
    "custom_fields.display_value",
    "custom_fields.text_value",
    "custom_fields.number_value",
    "custom_fields.enum_value.gid",
    "custom_fields.enum_value.name",
    "custom_fields.multi_enum_values.gid",
    "custom_fields.multi_enum_values.name",
    "custom_fields.date_value.date",
    "custom_fields.people_value.gid",
    "custom_fields.people_value.name",
]


def _ref(field: str, subfields: tuple[str, ...] = _REF) -> list[str]:
    return [f"{field}.{s}" for s in subfields]


WORKSPACE_FIELDS = ["name", "is_organization"]
USER_FIELDS = ["name", "email"]
TEAM_FIELDS = ["name", "description", "permalink_url"]
TAG_FIELDS = ["name", "color", "permalink_url"]
CUSTOM_FIELD_FIELDS = [
    "name",
    "type",
    "resource_subtype",
    "description",
    "enabled",
    "precision",
    "enum_options.gid",
    "enum_options.name",
    "enum_options.enabled",
]
PROJECT_FIELDS = [
    "name",
    "archived",
    "completed",
    "completed_at",
    "created_at",
    "modified_at",
    "color",
    "notes",
    "public",
    "due_on",
    "start_on",
    "permalink_url",
    "workspace.gid",
    *_ref("team"),
    *_ref("owner", ("gid", "name", "email")),
    "members.gid",
    "members.name",
    "members.email",
    *_CUSTOM_FIELD_VALUE,
]
SECTION_FIELDS = ["name", "created_at", "project.gid", "project.name"]
TASK_FIELDS = [
    "name",
    "resource_subtype",
    "completed",
    "completed_at",
    "created_at",
    "modified_at",
    "due_on",
    "notes",
    "permalink_url",
    "num_subtasks",
    "workspace.gid",
    *_ref("assignee"),
    *_ref("parent"),
    "memberships.project.gid",
    "memberships.project.name",
    "memberships.section.gid",
    "memberships.section.name",
    "tags.gid",
    "tags.name",
    *_CUSTOM_FIELD_VALUE,
]
STORY_FIELDS = ["created_at", "resource_subtype", "text", "type", *_ref("created_by")]


def opt_fields(fields: list[str]) -> str:
    return ",".join(fields)
