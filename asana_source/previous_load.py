"""The gids the previous Asana loads hold, to compare this run's listings against.

Asana shows deletions only through events or by absence, and a deleted object can no
longer be fetched: what was listed before and is missing now is looked up here, and its
tombstone is re-emitted from the staged copy (see `pm_runtime.previous_load`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pm_runtime.previous_load import PreviousLoad

LIVE = "coalesce(is_deleted, false) = false"


class AsanaPreviousLoad(PreviousLoad):
    """`PreviousLoad` plus the Asana look-ups the extract makes."""

    def live_gids(self, table: str, where: str, *args: Any) -> set[str]:
        qualified = self.table(table)
        if qualified is None:
            return set()
        return {
            r[0] for r in self.query(f"SELECT gid FROM {qualified} WHERE {LIVE} AND {where}", *args)
        }

    def project_gids(self, workspace: str) -> set[str]:
        return self.live_gids("projects", "workspace__gid = %s", workspace)

    def section_gids(self, project: str) -> set[str]:
        return self.live_gids("sections", "project__gid = %s", project)

    def task_gids_in_project(self, project: str) -> set[str]:
        tasks, members = self.table("tasks"), self.table("tasks__memberships")
        if tasks is None or members is None:
            return set()
        rows = self.query(
            f"SELECT t.gid FROM {tasks} t JOIN {members} m ON m._dlt_parent_id = t._dlt_id "
            "WHERE coalesce(t.is_deleted, false) = false AND m.project__gid = %s",
            project,
        )
        return {r[0] for r in rows}

    def subtask_gids(self, parents: set[str]) -> dict[str, set[str]]:
        """Live children staged under each parent."""
        out: dict[str, set[str]] = defaultdict(set)
        tasks = self.table("tasks")
        if tasks is None or not parents or "parent__gid" not in self.columns("tasks"):
            return out
        for gid, parent in self.query(
            f"SELECT gid, parent__gid FROM {tasks} WHERE {LIVE} "
            f"AND parent__gid IN ({', '.join(['%s'] * len(parents))})",
            *sorted(parents),
        ):
            out[parent].add(gid)
        return out

    def descendants(self, roots: set[str]) -> set[str]:
        found: set[str] = set()
        frontier = set(roots)
        while frontier:
            children = set().union(*self.subtask_gids(frontier).values()) - found - roots
            found |= children
            frontier = children
        return found

    def rows(self, table: str, gids: set[str]) -> list[dict[str, Any]]:
        """Staged records for `gids`, reassembled with their nested lists."""
        return self.records(table, "gid", gids)
