"""`--sandbox --watch` changes the sample now and then, the way a person would in Asana or Trello."""

from __future__ import annotations

import io
import threading

from sandbox import Sandbox
from sandbox.mutations import SampleMutations
from sandbox.sample import populate


def test_each_sample_change_reaches_the_asana_event_streams(sandbox: Sandbox) -> None:
    populate(sandbox, "small")
    em = sandbox.asana.emulator
    before = sum(len(s) for s in em.events.values())
    changes = SampleMutations(sandbox, "asana", threading.Event(), io.StringIO())
    said = [changes.asana_change() for _ in range(5)]
    assert all(s.startswith("Asana: ") for s in said)
    assert sum(len(s) for s in em.events.values()) >= before + 5


def test_each_sample_change_moves_a_trello_boards_activity(sandbox: Sandbox) -> None:
    populate(sandbox, "small")
    em = sandbox.trello.emulator
    changes = SampleMutations(sandbox, "trello", threading.Event(), io.StringIO())
    for _ in range(5):
        before = {b["id"]: b["dateLastActivity"] for b in em.boards.values()}
        em.tick(1.0)
        said = changes.trello_change()
        after = {b["id"]: b["dateLastActivity"] for b in em.boards.values()}
        assert said.startswith("Trello: ") and before != after
