"""Full representations of emulated Asana objects (what `opt_fields` projects from)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.asana_state import Obj

APP = "https://app.asana.com"


class AsanaRepresentations:
    """Mixed into the state: needs `objects` (gid -> Obj), `live()` and `me`."""

    objects: dict[str, Obj]
    me: str | None

    # -- full representations ----------------------------------------------------

    def ref(self, gid: str | None) -> dict[str, Any] | None:
        obj = self.objects.get(gid) if gid else None
        if obj is None:
            return None
        out = {"gid": obj.gid, "resource_type": obj.kind, "name": obj.name}
        if obj.kind == "user":
            out["email"] = obj.data["email"]
        if obj.kind == "task":
            out["resource_subtype"] = "default_task"
        return out

    def permalink(self, obj: Obj) -> str:
        ws = obj.data.get("workspace") or obj.gid
        return f"{APP}/1/{ws}/{'project' if obj.kind == 'project' else 'task'}/{obj.gid}"

    def custom_field_def(self, cf: Obj) -> dict[str, Any]:
        out = {
            "gid": cf.gid,
            "resource_type": "custom_field",
            "name": cf.name,
            "type": cf.data["type"],
            "resource_subtype": cf.data["type"],
            "description": "",
            "enabled": True,
            "is_global_to_workspace": True,
            "created_by": self.ref(self.me),
        }
        if cf.data["type"] in ("enum", "multi_enum"):
            out["enum_options"] = [dict(o) for o in cf.data["options"]]
        if cf.data["type"] == "number":
            out["precision"] = 2
        return out

    def custom_field_value(self, cf_gid: str, value: Any) -> dict[str, Any]:
        cf = self.objects[cf_gid]
        out = self.custom_field_def(cf)
        kind = cf.data["type"]
        options = {o["gid"]: o for o in cf.data["options"]}
        display: str | None = None
        if kind == "text":
            out["text_value"] = value
            display = value
        elif kind == "number":
            out["number_value"] = value
            display = None if value is None else f"{value:.2f}"
        elif kind == "enum":
            out["enum_value"] = dict(options[value]) if value else None
            display = options[value]["name"] if value else None
        elif kind == "multi_enum":
            out["multi_enum_values"] = [dict(options[v]) for v in value or []]
            display = ", ".join(options[v]["name"] for v in value or []) or None
        elif kind == "date":
            out["date_value"] = {"date": value} if value else None
            display = value
        elif kind == "people":
            out["people_value"] = [self.ref(u) for u in value or []]
            display = ", ".join(self.objects[u].name for u in value or []) or None
        out["display_value"] = display
        return out

    def full(self, obj: Obj) -> dict[str, Any]:
        base = {"gid": obj.gid, "resource_type": obj.kind, "name": obj.name}
        d = obj.data
        if obj.kind == "workspace":
            return base | {"is_organization": True, "email_domains": ["example.com"]}
        if obj.kind in ("team", "tag"):
            return base | {
                "organization" if obj.kind == "team" else "workspace": self.ref(d["workspace"]),
                "permalink_url": f"{APP}/0/{obj.gid}",
            }
        if obj.kind == "user":
            return base | {
                "email": d["email"],
                "workspaces": [self.ref(d["workspace"])],
                "photo": None,
            }
        if obj.kind == "custom_field":
            return self.custom_field_def(obj)
        if obj.kind == "section":
            return base | {"created_at": obj.created_at, "project": self.ref(d["project"])}
        if obj.kind == "story":
            return {
                "gid": obj.gid,
                "resource_type": "story",
                "resource_subtype": "comment_added",
                "created_at": obj.created_at,
                "created_by": self.ref(self.me),
                "text": obj.name,
                "type": "comment",
                "target": self.ref(d["target"]),
            }
        if obj.kind == "attachment":
            return self.attachment_full(obj)  # type: ignore[attr-defined]
        if obj.kind == "project":
            return base | {
                "archived": d["archived"],
                "completed": d["completed"],
                "completed_at": d["completed_at"],
                "color": "light-green",
                "created_at": obj.created_at,
                "modified_at": obj.modified_at,
                "notes": "",
                "public": False,
                "default_view": "list",
                "due_on": None,
                "start_on": None,
                "owner": self.ref(d["owner"]),
                "team": self.ref(d["team"]),
                "workspace": self.ref(d["workspace"]),
                "members": [self.ref(m) for m in d["members"]],
                "custom_fields": [
                    self.custom_field_value(g, v) for g, v in d["custom_fields"].items()
                ],
                "permalink_url": self.permalink(obj),
            }
        if obj.kind == "task":
            return base | {
                "resource_subtype": "default_task",
                "created_by": {"gid": self.me, "resource_type": "user"},
                "completed": d["completed"],
                "completed_at": d["completed_at"],
                "created_at": obj.created_at,
                "modified_at": obj.modified_at,
                "assignee": self.ref(d["assignee"]),
                "notes": d["notes"],
                "due_on": None,
                "parent": self.ref(d["parent"]),
                "num_subtasks": len(self.live(f"subtasks:{obj.gid}")),
                "memberships": [
                    {"project": self.ref(p), "section": self.ref(s)} for p, s in d["memberships"]
                ],
                "projects": [self.ref(p) for p, _ in d["memberships"]],
                "custom_fields": [
                    self.custom_field_value(g, v) for g, v in d["custom_fields"].items()
                ],
                "workspace": self.ref(d["workspace"]),
                "tags": [],
                "permalink_url": self.permalink(obj),
            }
        return base
