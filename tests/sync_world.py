"""Test harness for end-to-end sync tests: the real command line, in-process, against the sandbox."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any

from pipelines.command import main
from sandbox import Sandbox


@dataclass
class Run:
    code: int
    output: str


@dataclass
class AsanaWorld:
    """A small Asana workspace: two projects with sections, tasks, a subtask and a task in both."""

    sb: Sandbox
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def asana(self) -> Any:
        return self.sb.asana.emulator

    @property
    def docspace(self) -> Any:
        return self.sb.docspace.emulator

    def build(self) -> AsanaWorld:
        a = self.asana
        ws = a.add_workspace("Acme")
        alpha = a.add_project("Alpha", ws)
        beta = a.add_project("Beta", ws)
        todo = a.add_section("To do", alpha)
        done = a.add_section("Done", alpha)
        beta_s = a.add_section("Backlog", beta)
        self.ids.update(ws=ws, alpha=alpha, beta=beta, todo=todo, done=done, beta_s=beta_s)
        self.ids["design"] = a.add_task("Design", [(alpha, todo)])
        self.ids["build"] = a.add_task("Build", [(alpha, todo)])
        self.ids["shared"] = a.add_task("Shared", [(alpha, done), (beta, beta_s)])
        self.ids["sub"] = a.add_task("Sketch", parent=self.ids["design"])
        self.ids["ship"] = a.add_task("Ship", [(beta, beta_s)])
        return self

    def run(self, *args: str, source: str = "asana") -> Run:
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(source, list(args))
        return Run(code, out.getvalue())

    def tree(self) -> dict[str, Any]:
        """{room title (+ ' [archived]'): nested folder titles} of everything in DocSpace."""
        result = {}
        for area, suffix in (("active", ""), ("archive", " [archived]")):
            for room in self.docspace.rooms(area):
                name, n = room.title + suffix, 1
                while name in result:
                    n += 1
                    name = f"{room.title}{suffix} #{n}"
                result[name] = self.docspace.tree(room.id)
        return result

    def writes(self) -> int:
        return self.sb.docspace.log.writes()

    def ledger(self, where: str = "true") -> list[tuple]:
        from tests.staged import staged_rows

        return staged_rows(
            f"SELECT key, status, title FROM docspace_state.ledger WHERE {where} ORDER BY key"
        )


EXPECTED_FLAT = {
    "Alpha": {"Build": {}, "Design": {"Sketch": {}}, "Shared": {}},
    "Beta": {"Shared": {}, "Ship": {}},
}


def duplicates(docspace: Any) -> list[str]:
    """Titles held twice among siblings anywhere in DocSpace (rooms included)."""
    from collections import Counter

    found = []
    rooms = docspace.rooms("any")
    for title, n in Counter(r.title for r in rooms).items():
        if n > 1:
            found.append(f"room {title!r} ×{n}")
    stack = [r.id for r in rooms]
    while stack:
        parent = stack.pop()
        children = docspace.folders(parent)
        for title, n in Counter(c.title for c in children).items():
            if n > 1:
                found.append(f"{parent}/{title!r} ×{n}")
        stack.extend(c.id for c in children)
    return found
