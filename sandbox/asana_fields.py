"""Asana's output options: compact records by default, dotted `opt_fields` honoured.

The emulator keeps every object as a full representation (nested objects carry
their own fields, so `assignee.email` resolves) and projects it per request.
"""

from __future__ import annotations

from typing import Any

# what a list returns without opt_fields (the OAS *Compact schemas)
COMPACT_KEYS: dict[str, tuple[str, ...]] = {
    "task": ("gid", "resource_type", "name", "resource_subtype", "created_by"),
    "story": ("gid", "resource_type", "created_at", "created_by", "resource_subtype", "text"),
    "custom_field": ("gid", "resource_type", "name", "resource_subtype", "type"),
    "custom_field_setting": ("gid", "resource_type"),
    "attachment": ("gid", "resource_type", "name", "resource_subtype"),
    "user": ("gid", "resource_type", "name"),
}
DEFAULT_COMPACT = ("gid", "resource_type", "name")


def parse_opt_fields(raw: str | None) -> dict[str, Any] | None:
    """`name,assignee.email,memberships.(project|section).gid` -> a tree of requested paths."""
    if not raw:
        return None
    tree: dict[str, Any] = {}
    for part in _expand_groups(raw):
        node = tree
        for key in part.split("."):
            if key:
                node = node.setdefault(key, {})
    return tree


def _expand_groups(raw: str) -> list[str]:
    out: list[str] = []
    for item in _split_top(raw):
        if "(" in item and ")" in item:
            head, rest = item.split("(", 1)
            inner, tail = rest.split(")", 1)
            for alt in inner.split("|"):
                out.extend(_expand_groups(f"{head}{alt}{tail}"))
        elif item.strip():
            out.append(item.strip())
    return out


def _split_top(raw: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in raw:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def compact(record: Any) -> Any:
    if isinstance(record, list):
        return [compact(r) for r in record]
    if not isinstance(record, dict):
        return record
    keys = COMPACT_KEYS.get(record.get("resource_type", ""), DEFAULT_COMPACT)
    out = {}
    for k in keys:
        if k in record:
            v = record[k]
            out[k] = (
                {"gid": v["gid"], "resource_type": v.get("resource_type")}
                if isinstance(v, dict) and "gid" in v
                else v
            )
    if "gid" in record:
        out.setdefault("gid", record["gid"])
    return out


def project(record: Any, tree: dict[str, Any] | None) -> Any:
    """The record as the API returns it for these opt_fields (compact when none)."""
    if tree is None:
        return compact(record)
    if isinstance(record, list):
        return [project(r, tree) for r in record]
    if not isinstance(record, dict):
        return record
    out: dict[str, Any] = {}
    if "gid" in record:
        out["gid"] = record["gid"]
    for key, sub in tree.items():
        if key not in record:
            continue
        value = record[key]
        if isinstance(value, dict | list) and value and not sub:
            out[key] = compact(value)
        elif isinstance(value, dict | list):
            out[key] = project(value, sub)
        else:
            out[key] = value
    return out
