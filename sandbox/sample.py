"""Deterministic sample data for all three services (seeded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox import Sandbox

SIZES = {
    # name: (asana projects, tasks per project, trello boards, cards per board)
    "small": (3, 8, 2, 10),
    "demo": (4, 12, 3, 15),
}


def populate(sb: Sandbox, size: str = "demo", seed: int = 0) -> None:
    """Fill the emulators with a seeded, hostile-name-laden sample workspace."""
    from sandbox.asana_sample import populate_asana
    from sandbox.docspace_sample import populate_docspace
    from sandbox.trello_sample import populate_trello

    projects, tasks, boards, cards = SIZES[size]
    # attachments of every shape (sandbox.attachment_sample); the demo adds an oversize one
    big = size == "demo"
    populate_asana(
        sb.asana.emulator,
        projects=projects,
        tasks_per_project=tasks,
        seed=seed,
        attachments=True,
        oversize=big,
    )
    populate_trello(
        sb.trello.emulator,
        boards=boards,
        cards_per_board=cards,
        seed=seed,
        attachments=True,
        oversize=big,
    )
    populate_docspace(sb.docspace.emulator)
