"""`--sandbox --watch`: the sample workspace changes now and then, like a team at work.

A background thread makes one change every few seconds through the emulator's own
state API (what a person clicking in Asana or Trello would cause, events and
`dateLastActivity` included) and prints it, so a newcomer sees the watcher's folders
follow within seconds. Seeded: the same demo every time.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

from sandbox import Sandbox

EVERY_SECONDS = (4.0, 9.0)


class SampleMutations(threading.Thread):
    def __init__(
        self, sb: Sandbox, source: str, stop: threading.Event, out: TextIO, seed: int = 7
    ) -> None:
        super().__init__(name="sandbox-mutations", daemon=True)
        self.sb, self.source, self.stop_event, self.out = sb, source, stop, out
        self.rng = random.Random(seed)
        self.count = 0

    def start(self) -> SampleMutations:  # type: ignore[override]
        super().start()
        return self

    def run(self) -> None:
        while not self.stop_event.wait(self.rng.uniform(*EVERY_SECONDS)):
            try:
                done = self.asana_change() if self.source == "asana" else self.trello_change()
            except Exception as exc:  # a demo must not die of its own scenery
                done = f"(no change: {type(exc).__name__})"
            if done:
                stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                print(f"{stamp} sandbox: {done}", file=self.out, flush=True)

    def _label(self, what: str) -> str:
        self.count += 1
        return f"{what} #{self.count}"

    # -- Asana ------------------------------------------------------------------------------

    def asana_change(self) -> str:
        em: Any = self.sb.asana.emulator
        with em.lock:
            projects = [
                p
                for ws in em.live("workspace")
                for p in em.live(f"projects:{ws.gid}")
                if not p.data.get("archived")
            ]
            if not projects:
                return ""
            project = self.rng.choice(projects)
            tasks = [t for t in em.live(f"tasks:{project.gid}") if not t.data.get("parent")]
        kind = self.rng.choice(("new", "new", "rename", "move"))
        if kind == "new" or not tasks:
            name = self._label("New task")
            em.add_task(name, [(project.gid, None)])
            return f"Asana: new task {name!r} in {project.name!r}"
        task = self.rng.choice(tasks)
        old = task.name
        if kind == "rename":
            name = self._label(f"{old.split(' (renamed')[0]} (renamed") + ")"
            em.rename_task(task.gid, name)
            return f"Asana: renamed {old!r} to {name!r}"
        others = [p for p in projects if p.gid != project.gid]
        if not others:
            return ""
        target = self.rng.choice(others)
        em.move_task(task.gid, target.gid)
        return f"Asana: moved {old!r} from {project.name!r} to {target.name!r}"

    # -- Trello -----------------------------------------------------------------------------

    def trello_change(self) -> str:
        em: Any = self.sb.trello.emulator
        with em.lock:
            boards = [b for b in em.boards.values() if not b.get("closed")]
            if not boards:
                return ""
            board = self.rng.choice(boards)
            lists = [
                x for x in em.lists.values() if x["idBoard"] == board["id"] and not x.get("closed")
            ]
            cards = [
                c for c in em.cards.values() if c["idBoard"] == board["id"] and not c.get("closed")
            ]
        kind = self.rng.choice(("new", "new", "rename", "archive"))
        if (kind == "new" or not cards) and lists:
            name = self._label("New card")
            em.add_card(name, self.rng.choice(lists)["id"])
            return f"Trello: new card {name!r} on {board['name']!r}"
        if not cards:
            return ""
        card = self.rng.choice(cards)
        old = card["name"]
        if kind == "rename":
            name = self._label(old.split(" (renamed")[0] + " (renamed") + ")"
            em.rename_card(card["id"], name)
            return f"Trello: renamed {old!r} to {name!r}"
        em.archive_card(card["id"])
        return f"Trello: archived card {old!r}"
