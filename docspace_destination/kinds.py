"""The kinds of DocSpace object the destination keeps in step, each with its plan rule and steps.

A kind is one module: the rule that turns a desired record and its ledger row into actions
(`plan`), and the steps that apply them (`steps`, built once per run around the `Applier`,
whose `steps` map each operation to a callable returning its outcome). Operations every kind
shares (orphan, restore: ledger only) are the applier's own. Adding a kind — files, say — is
a module with those two parts and a line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from docspace_destination import file_steps, files, folders, rooms


@dataclass(frozen=True)
class Kind:
    plan: Callable[..., None]  # (node, ledger entry or None, PlanContext) -> None
    steps: Callable[[Any], Any]  # (Applier) -> an object with .steps and .prefetch(pool, todo)


KINDS: dict[str, Kind] = {
    "room": Kind(plan=rooms.plan_room, steps=rooms.RoomSteps),
    "folder": Kind(plan=folders.plan_folder, steps=folders.FolderSteps),
    "file": Kind(plan=files.plan_file, steps=file_steps.FileSteps),  # documents (issue 20)
}
