"""Deterministic Trello sample data: a hostile-name-laden workspace and the big account of issue 4."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sandbox.attachment_sample import add_trello_attachments
from sandbox.names import HOSTILE_NAMES
from sandbox.trello import TrelloEmulator
from sandbox.trello_state import LABEL_COLORS, iso

PROJECT_TYPES = ("Marketing", "Engineering", "Legal")


def _members(em: TrelloEmulator, rng: random.Random) -> list[str]:
    people = [
        em.add_member(f"person{i}@example.com", username=f"person{i}", full_name=f"Person {i}")
        for i in range(1, 4)
    ]
    # a member whose email Trello does not disclose to this token
    people.append(em.add_member(None, username="private_person", full_name="Private Person"))
    return people


def populate_trello(
    emulator: TrelloEmulator,
    boards: int = 3,
    cards_per_board: int = 15,
    seed: int = 0,
    attachments: bool = False,
    oversize: bool = False,
) -> dict[str, list[str]]:
    """`boards` boards (the last one closed when there are several) with lists (one closed),
    open and closed cards, labels, members with emails, checklists, a "Project type" custom
    field and hostile names mixed into board, list and card names. Returns the ids created.
    `attachments` adds sandbox.attachment_sample's files to the first board's first cards
    (ids under "attachment:<role>"; `oversize`: one over the default 100 MB limit too)."""
    rng = random.Random(seed)
    em = emulator
    created: dict[str, list[str]] = {"boards": [], "cards": [], "lists": []}
    with em.lock:
        people = _members(em, rng)
        hostile = iter(HOSTILE_NAMES * (2 + (boards * (cards_per_board + 5)) // len(HOSTILE_NAMES)))
        for b in range(boards):
            name = f"Board {b + 1}" if b % 2 == 0 else next(hostile)
            bid = em.add_board(name, members=people[: 1 + b % len(people)])
            created["boards"].append(bid)
            list_names = (
                ["To Do", "Doing", "Done", "Design", "Design"]
                if b == 0
                else ["To Do", next(hostile), "Done"]
            )
            lists = [em.add_list(bid, n) for n in list_names]
            closed_list = em.add_list(bid, "Archive", closed=True)
            created["lists"] += [*lists, closed_list]
            labels = [em.add_label(bid, c.title(), c) for c in LABEL_COLORS[:6]]
            kind = em.add_custom_field(bid, "Project type", "list", PROJECT_TYPES)
            for c in range(cards_per_board):
                card_name = next(hostile) if c % 3 == 0 else f"Card {b + 1}.{c + 1}"
                target = closed_list if c == cards_per_board - 1 else lists[c % len(lists)]
                due = iso(em.tick(0) + 86_400 * (c + 1)) if c % 4 == 0 else None
                cid = em.add_card(
                    card_name,
                    target,
                    labels=rng.sample(labels, k=c % 3),
                    members=[people[c % 2]] if c % 2 else [],
                    due=due,
                    closed=c % 5 == 4,
                )
                created["cards"].append(cid)
                if c % 4 == 1:
                    em.add_checklist(cid, "Checklist", [f"Step {i + 1}" for i in range(3)])
                if c % 3 == 2:
                    em.set_custom_field_value(cid, kind, PROJECT_TYPES[c % len(PROJECT_TYPES)])
                if c % 6 == 0:
                    em.comment(cid, f"comment on {card_name!r}")
            if boards > 1 and b == boards - 1:
                em.close_board(bid)
        if attachments:
            for role, ids in add_trello_attachments(em, created["cards"], oversize).items():
                created[f"attachment:{role}"] = ids
    return created


@dataclass
class BigAccount:
    """What the big account holds, from the emulator's own state, for exact-count assertions."""

    board_ids: list[str]
    big_board: str
    expected: dict[str, int] = field(default_factory=dict)


def build_big_account(emulator: TrelloEmulator, seed: int = 0) -> BigAccount:
    """Issue 4's account: 3 boards, one with 2,500 cards (some closed, some in closed lists),
    exactly 3,000 actions and 70 labels; the other two small."""
    rng = random.Random(seed)
    em = emulator
    with em.lock:
        people = _members(em, rng)
        big = em.add_board("Big board", members=people)
        lists = [em.add_list(big, f"List {i + 1}") for i in range(8)]
        closed_lists = [em.add_list(big, f"Old list {i + 1}", closed=True) for i in range(2)]
        labels = [
            em.add_label(big, f"Label {i + 1}", LABEL_COLORS[i % len(LABEL_COLORS)])
            for i in range(70)
        ]
        kind = em.add_custom_field(big, "Project type", "list", PROJECT_TYPES)
        all_lists = lists + closed_lists
        for c in range(2500):
            cid = em.add_card(
                f"Card {c + 1}",
                all_lists[c % len(all_lists)],
                labels=[labels[c % 70], labels[(c * 7) % 70]] if c % 2 else [],
                members=[people[c % len(people)]] if c % 3 == 0 else [],
                closed=c % 10 == 9,
            )
            if c % 50 == 0:
                em.add_checklist(cid, "Checklist", ["one", "two"])
            if c % 25 == 0:
                em.set_custom_field_value(cid, kind, PROJECT_TYPES[c % 3])
        cards = em.index[big]["cards"]
        missing = 3000 - len(em.index[big]["actions"])
        if missing < 0:
            raise AssertionError(f"the big board already has {3000 - missing} actions")
        for i in range(missing):
            em.comment(cards[i % len(cards)], f"comment {i}")
        small = []
        for name in ("Small board", "Design"):
            bid = em.add_board(name, members=people[:2])
            lst = em.add_list(bid, "To Do")
            done = em.add_list(bid, "Done", closed=True)
            for c in range(20):
                em.add_card(f"{name} card {c + 1}", lst if c % 4 else done, closed=c % 5 == 0)
            small.append(bid)
        board_ids = [big, *small]
        expected = {
            "boards": len(board_ids),
            "cards": sum(len(em.index[b]["cards"]) for b in board_ids),
            "closed_cards": sum(
                1 for b in board_ids for c in em.index[b]["cards"] if em.cards[c]["closed"]
            ),
            "lists": sum(len(em.index[b]["lists"]) for b in board_ids),
            "closed_lists": sum(
                1 for b in board_ids for x in em.index[b]["lists"] if em.lists[x]["closed"]
            ),
            "labels": sum(len(em.index[b]["labels"]) for b in board_ids),
            "actions": sum(len(em.index[b]["actions"]) for b in board_ids),
            "checklists": sum(len(em.index[b]["checklists"]) for b in board_ids),
            "big_cards": len(em.index[big]["cards"]),
            "big_actions": len(em.index[big]["actions"]),
            "big_labels": len(em.index[big]["labels"]),
        }
    return BigAccount(board_ids=board_ids, big_board=big, expected=expected)


def build_benchmark_account(
    emulator: TrelloEmulator, boards: int = 10, cards_per_board: int = 500, seed: int = 0
) -> list[str]:
    """Boards of plain cards with a few labels and custom-field values, for the extract benchmark."""
    rng = random.Random(seed)
    em = emulator
    ids = []
    with em.lock:
        people = _members(em, rng)
        for b in range(boards):
            bid = em.add_board(f"Bench board {b + 1}", members=people)
            lists = [em.add_list(bid, f"List {i + 1}") for i in range(4)]
            labels = [em.add_label(bid, c, c) for c in LABEL_COLORS[:6]]
            kind = em.add_custom_field(bid, "Project type", "list", PROJECT_TYPES)
            for c in range(cards_per_board):
                cid = em.add_card(
                    f"Card {c + 1}", lists[c % 4], labels=[labels[c % 6]], closed=c % 10 == 9
                )
                if c % 10 == 0:
                    em.set_custom_field_value(cid, kind, PROJECT_TYPES[c % 3])
            ids.append(bid)
    return ids
