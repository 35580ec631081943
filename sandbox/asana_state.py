"""The Asana emulator's in-memory state, its test API, and full representations of objects.

Time only moves forward (`modified_at` is strictly increasing), events are kept per
subscribed resource (project) in order, and every mutation says which events it emits
so the Events API behaves like Asana's: a project's stream carries its own changes,
its sections' and those of the tasks in it; subtasks that are not project members
emit nothing there (as on the real service, where a subtask change reaches neither
the parent's `modified_at` nor the project's event stream).
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

from sandbox.asana_repr import AsanaRepresentations

CUSTOM_FIELD_TYPES = ("text", "number", "enum", "multi_enum", "date", "people")


def iso(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def parse_iso(raw: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass
class Obj:
    gid: str
    kind: str
    name: str
    data: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    modified_at: str = ""
    deleted: bool = False


class AsanaState(AsanaRepresentations):
    """Objects by gid plus per-resource event streams. Callers hold `self.lock`."""

    def _init_state(self, seed: int) -> None:
        self._gids = itertools.count(1_200_000_000_000_000 + seed * 1_000_000)
        self._clock = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
        self.objects: dict[str, Obj] = {}
        self.order: dict[str, list[str]] = {}  # listing order per container key
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.restricted: dict[str, int] = {}  # project gid -> 403/404 for this token
        self.me: str | None = None

    # -- plumbing -------------------------------------------------------------

    def _gid(self) -> str:
        return str(next(self._gids))

    def now(self) -> str:
        """Wall-clock based, strictly increasing timestamps (ms precision)."""
        real = dt.datetime.now(dt.UTC)
        self._clock = max(real, self._clock + dt.timedelta(milliseconds=1))
        self._clock = self._clock.replace(microsecond=(self._clock.microsecond // 1000) * 1000)
        return iso(self._clock)

    def _new(self, kind: str, name: str, container: str | None = None, **data: Any) -> Obj:
        stamp = self.now()
        obj = Obj(self._gid(), kind, name, dict(data), stamp, stamp)
        self.objects[obj.gid] = obj
        self.order.setdefault(kind, []).append(obj.gid)
        if container:
            self.order.setdefault(container, []).append(obj.gid)
        return obj

    def get(self, gid: str, kind: str | None = None) -> Obj | None:
        obj = self.objects.get(gid)
        if obj is None or obj.deleted or (kind and obj.kind != kind):
            return None
        return obj

    def live(self, key: str, kind: str | None = None) -> list[Obj]:
        return [o for g in self.order.get(key, []) if (o := self.get(g, kind))]

    def _touch(self, obj: Obj) -> None:
        obj.modified_at = self.now()

    def _event(
        self, stream: str, obj: Obj, action: str, parent: Obj | None = None, change: Any = None
    ) -> None:
        event: dict[str, Any] = {
            "user": {"gid": self.me, "resource_type": "user"} if self.me else None,
            "created_at": self.now(),
            "action": action,
            "type": obj.kind,
            "resource": {"gid": obj.gid, "resource_type": obj.kind, "name": obj.name},
            "parent": {"gid": parent.gid, "resource_type": parent.kind} if parent else None,
        }
        if obj.kind == "task":
            event["resource"]["resource_subtype"] = "default_task"
        if change:
            event["change"] = change
        self.events.setdefault(stream, []).append(event)

    def _task_event(self, task: Obj, action: str, field_name: str | None = None) -> None:
        for project_gid in {p for p, _ in task.data["memberships"]}:
            change = {"field": field_name, "action": "changed"} if field_name else None
            self._event(project_gid, task, action, None, change)

    # -- the arrange API (tests and sample data) --------------------------------

    def add_workspace(self, name: str) -> str:
        with self.lock:
            return self._new("workspace", name, is_organization=True).gid

    def add_team(self, name: str, workspace: str) -> str:
        with self.lock:
            return self._new("team", name, f"teams:{workspace}", workspace=workspace).gid

    def add_user(self, name: str, email: str, workspace: str) -> str:
        with self.lock:
            user = self._new("user", name, f"users:{workspace}", email=email, workspace=workspace)
            self.me = self.me or user.gid
            return user.gid

    def add_tag(self, name: str, workspace: str) -> str:
        with self.lock:
            return self._new("tag", name, f"tags:{workspace}", workspace=workspace).gid

    def add_custom_field(
        self, name: str, workspace: str, type: str, options: list[str] | None = None
    ) -> str:
        assert type in CUSTOM_FIELD_TYPES, type
        with self.lock:
            cf = self._new("custom_field", name, f"custom_fields:{workspace}", type=type)
            cf.data["options"] = [
                {
                    "gid": self._gid(),
                    "resource_type": "enum_option",
                    "name": o,
                    "enabled": True,
                    "color": "blue",
                }
                for o in options or []
            ]
            return cf.gid

    def enum_option(self, custom_field: str, name: str) -> str:
        with self.lock:
            return next(
                o["gid"] for o in self.objects[custom_field].data["options"] if o["name"] == name
            )

    def add_project(
        self,
        name: str,
        workspace: str,
        team: str | None = None,
        archived: bool = False,
        completed: bool = False,
        owner: str | None = None,
        members: list[str] | None = None,
        custom_fields: dict[str, Any] | None = None,
    ) -> str:
        with self.lock:
            return self._new(
                "project",
                name,
                f"projects:{workspace}",
                workspace=workspace,
                team=team,
                archived=archived,
                completed=completed,
                completed_at=self.now() if completed else None,
                owner=owner,
                members=list(members or ([owner] if owner else [])),
                custom_fields=dict(custom_fields or {}),
            ).gid

    def add_section(self, name: str, project: str) -> str:
        with self.lock:
            section = self._new("section", name, f"sections:{project}", project=project)
            self._event(project, section, "added", self.objects[project])
            return section.gid

    def add_task(
        self,
        name: str,
        memberships: list[tuple[str, str | None]] | None = None,
        parent: str | None = None,
        assignee: str | None = None,
        custom_fields: dict[str, Any] | None = None,
        completed: bool = False,
        workspace: str | None = None,
        notes: str = "",
    ) -> str:
        with self.lock:
            pairs = [(p, s or self._default_section(p)) for p, s in memberships or []]
            if workspace is None:
                anchor = pairs[0][0] if pairs else self.objects[parent].data["workspace"]  # type: ignore[index]
                workspace = self.objects[anchor].data.get("workspace", anchor)
            task = self._new(
                "task",
                name,
                f"subtasks:{parent}" if parent else None,
                memberships=pairs,
                parent=parent,
                assignee=assignee,
                custom_fields=dict(custom_fields or {}),
                completed=completed,
                completed_at=None,
                workspace=workspace,
                notes=notes,
            )
            if completed:
                task.data["completed_at"] = task.modified_at
            for p, _ in pairs:
                self.order.setdefault(f"tasks:{p}", []).append(task.gid)
                self._event(p, task, "added", self.objects[p])
            self._add_story(task, "created this task", touch=False)
            return task.gid

    def _default_section(self, project: str) -> str | None:
        sections = self.live(f"sections:{project}")
        return sections[0].gid if sections else None

    def _add_story(self, task: Obj, text: str, touch: bool = True) -> str:
        story = self._new("story", text, f"stories:{task.gid}", target=task.gid)
        if touch:
            self._touch(task)
            self._task_event(task, "changed", "stories")
        return story.gid

    def add_story(self, task: str, text: str) -> str:
        with self.lock:
            return self._add_story(self.objects[task], text)

    def rename_task(self, task: str, name: str) -> None:
        self.update_task(task, name=name)

    def complete_task(self, task: str, completed: bool = True) -> None:
        self.update_task(task, completed=completed)

    def update_task(self, task: str, **changes: Any) -> None:
        """Change fields (name, completed, assignee, notes, custom_fields={gid: value})."""
        with self.lock:
            obj = self.objects[task]
            for key, value in changes.items():
                if key == "name":
                    obj.name = value
                elif key == "custom_fields":
                    obj.data["custom_fields"].update(value)
                else:
                    obj.data[key] = value
                if key == "completed":
                    obj.data["completed_at"] = self.now() if value else None
                self._touch(obj)
                self._task_event(obj, "changed", key)

    def add_task_to_project(self, task: str, project: str, section: str | None = None) -> None:
        with self.lock:
            obj = self.objects[task]
            obj.data["memberships"].append((project, section or self._default_section(project)))
            self.order.setdefault(f"tasks:{project}", []).append(task)
            self._touch(obj)
            self._event(project, obj, "added", self.objects[project])

    def remove_task_from_project(self, task: str, project: str) -> None:
        with self.lock:
            obj = self.objects[task]
            obj.data["memberships"] = [(p, s) for p, s in obj.data["memberships"] if p != project]
            self.order[f"tasks:{project}"].remove(task)
            self._touch(obj)
            self._event(project, obj, "removed", self.objects[project])

    def move_task(self, task: str, project: str, section: str | None = None) -> None:
        """Into `section` of `project`: a section change inside a project, or a project move."""
        with self.lock:
            obj = self.objects[task]
            if any(p == project for p, _ in obj.data["memberships"]):
                section = section or self._default_section(project)
                obj.data["memberships"] = [
                    (p, section if p == project else s) for p, s in obj.data["memberships"]
                ]
                self._touch(obj)
                self._event(
                    project, obj, "changed", None, {"field": "memberships", "action": "changed"}
                )
                return
            for old, _ in list(obj.data["memberships"]):
                self.remove_task_from_project(task, old)
            self.add_task_to_project(task, project, section)

    def delete_task(self, task: str) -> None:
        """Deletes the task and its subtasks; emits `deleted` on its projects' streams."""
        with self.lock:
            obj = self.objects[task]
            for sub in self.live(f"subtasks:{task}"):
                self.delete_task(sub.gid)
            obj.deleted = True
            for p, _ in obj.data["memberships"]:
                self._event(p, obj, "deleted", None)

    def undelete_task(self, task: str) -> None:
        with self.lock:
            obj = self.objects[task]
            obj.deleted = False
            self._touch(obj)
            for p, _ in obj.data["memberships"]:
                self._event(p, obj, "undeleted", None)

    def rename_project(self, project: str, name: str) -> None:
        with self.lock:
            obj = self.objects[project]
            obj.name = name
            self._touch(obj)
            self._event(project, obj, "changed", None, {"field": "name", "action": "changed"})

    def archive_project(self, project: str, archived: bool = True) -> None:
        with self.lock:
            obj = self.objects[project]
            obj.data["archived"] = archived
            self._touch(obj)
            self._event(project, obj, "changed", None, {"field": "archived", "action": "changed"})

    def set_project_members(self, project: str, members: list[str]) -> None:
        with self.lock:
            obj = self.objects[project]
            obj.data["members"] = list(members)
            self._touch(obj)

    def delete_project(self, project: str) -> None:
        with self.lock:
            self.objects[project].deleted = True

    def rename_section(self, section: str, name: str) -> None:
        with self.lock:
            obj = self.objects[section]
            obj.name = name
            self._event(
                obj.data["project"], obj, "changed", None, {"field": "name", "action": "changed"}
            )

    def delete_section(self, section: str) -> None:
        with self.lock:
            obj = self.objects[section]
            obj.deleted = True
            self._event(obj.data["project"], obj, "deleted", None)

    def restrict_project(self, project: str, status: int = 403) -> None:
        """The token can see the project in listings but not read it (403) or it is gone (404)."""
        with self.lock:
            self.restricted[project] = status
