"""In-memory Trello: members, boards, lists, cards, labels, checklists, custom fields, actions.

Ids are Mongo ObjectIds like Trello's: the first 8 hex digits are the unix creation time
on a virtual clock (deterministic from the seed, several ids per second), the rest a
seeded machine part and an increasing counter, so id order is creation order even
within one second. Every mutation records the action Trello would record and bumps
the board's ``dateLastActivity``.

Callers hold ``self.lock`` (an RLock) through the public methods.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime
from typing import Any

EPOCH = 1_704_067_200.0  # 2024-01-01T00:00:00Z
LABEL_COLORS = (
    "green",
    "yellow",
    "orange",
    "red",
    "purple",
    "blue",
    "sky",
    "lime",
    "pink",
    "black",
)


def iso(ts: float) -> str:
    """Trello's timestamp format: 2017-05-31T18:52:54.933Z."""
    return (
        datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{int(ts * 1000) % 1000:03d}Z"
    )


def parse_iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def id_time(object_id: str) -> int:
    """The creation time (unix seconds) encoded in an ObjectId."""
    return int(object_id[:8], 16)


class TrelloState:
    """The service's data and the arrange/inspect API tests use."""

    def __init__(self, seed: int = 0) -> None:
        self.lock = getattr(self, "lock", None) or threading.RLock()
        self._rng = random.Random(seed)
        self._now = EPOCH + self._rng.randrange(0, 86_400)
        self._machine = self._rng.getrandbits(40)
        self._counter = self._rng.getrandbits(16)
        self.members: dict[str, dict[str, Any]] = {}
        self.boards: dict[str, dict[str, Any]] = {}
        self.lists: dict[str, dict[str, Any]] = {}
        self.cards: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, dict[str, Any]] = {}
        self.checklists: dict[str, dict[str, Any]] = {}
        self.custom_fields: dict[str, dict[str, Any]] = {}
        self.actions: dict[str, dict[str, Any]] = {}
        self.custom_field_items: dict[str, dict[str, dict[str, Any]]] = {}  # card -> field -> item
        self._attachments: dict[str, list[dict[str, Any]]] = {}
        # per board, ids in creation (= id) order, so paging never scans the whole account
        self.index: dict[str, dict[str, list[str]]] = {}
        self._card_seq: dict[str, int] = {}
        self.me = self.add_member("me@example.com", username="sandbox_me", full_name="Sandbox Me")

    # -- clock and ids ----------------------------------------------------------

    def tick(self, seconds: float | None = None) -> float:
        """Advance the virtual clock; by default a small seeded step, often within the same second."""
        step = seconds if seconds is not None else self._rng.choice((0.0, 0.003, 0.05, 0.4, 1.2))
        self._now += step
        return self._now

    def new_id(self) -> str:
        self._counter = (self._counter + 1) % 0x1000000
        return f"{int(self._now):08x}{self._machine:010x}{self._counter:06x}"

    def _short_link(self) -> str:
        alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        return "".join(self._rng.choice(alphabet) for _ in range(8))

    # -- members and boards ---------------------------------------------------------

    def add_member(
        self, email: str | None, username: str | None = None, full_name: str | None = None
    ) -> str:
        with self.lock:
            self.tick()
            mid = self.new_id()
            n = len(self.members) + 1
            self.members[mid] = {
                "id": mid,
                "username": username or f"member{n}",
                "fullName": full_name or f"Member {n}",
                "initials": f"M{n}",
                "email": email,
                "confirmed": True,
                "memberType": "normal",
                "avatarUrl": f"https://trello-members.s3.amazonaws.com/{mid}/avatar",
            }
            return mid

    def add_board(
        self,
        name: str,
        members: list[str] | tuple[str, ...] = (),
        owner: str | None = None,
        desc: str = "",
    ) -> str:
        """A board owned by `owner` (the token's member by default), with extra `members`."""
        with self.lock:
            owner = owner or self.me
            self.tick()
            bid = self.new_id()
            short = self._short_link()
            self.boards[bid] = {
                "id": bid,
                "name": name,
                "desc": desc,
                "closed": False,
                "idOrganization": f"{int(EPOCH):08x}{self._machine:010x}000001",
                "idMemberCreator": owner,
                "pinned": False,
                "url": f"https://trello.com/b/{short}/board",
                "shortUrl": f"https://trello.com/b/{short}",
                "shortLink": short,
                "prefs": {"permissionLevel": "org", "hideVotes": False, "voting": "disabled"},
                "labelNames": {c: "" for c in LABEL_COLORS[:6]},
                "dateLastActivity": iso(self._now),
                "dateLastView": iso(self._now),
                "starred": False,
                "subscribed": False,
                "memberships": [],
            }
            self.index[bid] = {
                k: [] for k in ("lists", "cards", "labels", "checklists", "fields", "actions")
            }
            self._add_membership(bid, owner, "admin")
            self.add_action(bid, "createBoard", {}, member=owner)
            for m in members:
                if m != owner:
                    self._add_membership(bid, m, "normal")
                    self.add_action(bid, "addMemberToBoard", {"idMemberAdded": m}, member=owner)
            return bid

    def _add_membership(self, board_id: str, member_id: str, member_type: str) -> None:
        self.tick()
        self.boards[board_id]["memberships"].append(
            {
                "id": self.new_id(),
                "idMember": member_id,
                "memberType": member_type,
                "unconfirmed": False,
                "deactivated": False,
            }
        )

    def board_member_ids(self, board_id: str) -> list[str]:
        return [m["idMember"] for m in self.boards[board_id]["memberships"]]

    def rename_board(self, board_id: str, name: str) -> None:
        with self.lock:
            old = self.boards[board_id]["name"]
            self.boards[board_id]["name"] = name
            self.add_action(board_id, "updateBoard", {"old": {"name": old}})

    def close_board(self, board_id: str, closed: bool = True) -> None:
        with self.lock:
            self.boards[board_id]["closed"] = closed
            self.add_action(board_id, "updateBoard", {"old": {"closed": not closed}})

    def delete_board(self, board_id: str) -> None:
        """Trello deletes a board with everything on it; nothing remains readable."""
        with self.lock:
            idx = self.index.pop(board_id)
            del self.boards[board_id]
            for kind, store in (
                ("lists", self.lists),
                ("cards", self.cards),
                ("labels", self.labels),
                ("checklists", self.checklists),
                ("fields", self.custom_fields),
                ("actions", self.actions),
            ):
                for oid in idx[kind]:
                    store.pop(oid, None)

    # -- lists, labels, cards ---------------------------------------------------------

    def add_list(self, board_id: str, name: str, closed: bool = False) -> str:
        with self.lock:
            self.tick()
            lid = self.new_id()
            pos = 16384.0 * (len(self.index[board_id]["lists"]) + 1)
            self.lists[lid] = {
                "id": lid,
                "name": name,
                "closed": closed,
                "idBoard": board_id,
                "pos": pos,
                "subscribed": False,
            }
            self.index[board_id]["lists"].append(lid)
            self.add_action(board_id, "createList", {"list": {"id": lid, "name": name}})
            if closed:
                self.archive_list(lid)
            return lid

    def archive_list(self, list_id: str, closed: bool = True) -> None:
        with self.lock:
            lst = self.lists[list_id]
            lst["closed"] = closed
            self.add_action(
                lst["idBoard"],
                "updateList",
                {
                    "list": {"id": list_id, "name": lst["name"], "closed": closed},
                    "old": {"closed": not closed},
                },
            )

    def add_label(self, board_id: str, name: str, color: str | None = None) -> str:
        with self.lock:
            self.tick()
            lid = self.new_id()
            self.labels[lid] = {"id": lid, "idBoard": board_id, "name": name, "color": color}
            self.index[board_id]["labels"].append(lid)
            self.add_action(
                board_id, "createLabel", {"label": {"id": lid, "name": name, "color": color}}
            )
            return lid

    def add_card(
        self,
        name: str,
        list_id: str,
        labels: list[str] | tuple[str, ...] = (),
        members: list[str] | tuple[str, ...] = (),
        due: str | None = None,
        closed: bool = False,
        desc: str = "",
    ) -> str:
        with self.lock:
            board_id = self.lists[list_id]["idBoard"]
            self.tick()
            cid = self.new_id()
            short = self._short_link()
            n = self._card_seq[board_id] = self._card_seq.get(board_id, 0) + 1
            self.cards[cid] = {
                "id": cid,
                "name": name,
                "desc": desc,
                "closed": False,
                "idBoard": board_id,
                "idList": list_id,
                "idShort": n,
                "idLabels": list(labels),
                "idMembers": list(members),
                "idChecklists": [],
                "idMembersVoted": [],
                "pos": 16384.0 * n,
                "due": due,
                "dueComplete": False,
                "start": None,
                "dateLastActivity": iso(self._now),
                "shortLink": short,
                "shortUrl": f"https://trello.com/c/{short}",
                "url": f"https://trello.com/c/{short}/{n}-card",
                "subscribed": False,
            }
            self.index[board_id]["cards"].append(cid)
            self.add_action(
                board_id,
                "createCard",
                {"card": self._card_ref(cid), "list": self._list_ref(list_id)},
            )
            if closed:
                self.archive_card(cid)
            return cid

    def _card_ref(self, card_id: str) -> dict[str, Any]:
        c = self.cards[card_id]
        return {
            "id": card_id,
            "name": c["name"],
            "idShort": c["idShort"],
            "shortLink": c["shortLink"],
        }

    def _list_ref(self, list_id: str) -> dict[str, Any]:
        return {"id": list_id, "name": self.lists[list_id]["name"]}

    def _update_card(
        self, card_id: str, old: dict[str, Any], extra: dict[str, Any] | None = None
    ) -> None:
        card = self.cards[card_id]
        action = self.add_action(
            card["idBoard"],
            "updateCard",
            {"card": self._card_ref(card_id), "old": old, **(extra or {})},
        )
        card["dateLastActivity"] = action["date"]

    def rename_card(self, card_id: str, name: str) -> None:
        with self.lock:
            old = self.cards[card_id]["name"]
            self.cards[card_id]["name"] = name
            self._update_card(card_id, {"name": old})

    def move_card(self, card_id: str, list_id: str) -> None:
        with self.lock:
            card = self.cards[card_id]
            before = card["idList"]
            card["idList"] = list_id
            self._update_card(
                card_id,
                {"idList": before},
                {"listBefore": self._list_ref(before), "listAfter": self._list_ref(list_id)},
            )

    def archive_card(self, card_id: str, closed: bool = True) -> None:
        with self.lock:
            self.cards[card_id]["closed"] = closed
            self._update_card(card_id, {"closed": not closed})

    def set_due(self, card_id: str, due: str | None) -> None:
        with self.lock:
            old = self.cards[card_id]["due"]
            self.cards[card_id]["due"] = due
            self._update_card(card_id, {"due": old})

    def delete_card(self, card_id: str) -> None:
        """The card vanishes; only the `deleteCard` action remains."""
        with self.lock:
            card = self.cards.pop(card_id)
            board_id = card["idBoard"]
            self.index[board_id]["cards"].remove(card_id)
            for cl in card["idChecklists"]:
                self.checklists.pop(cl, None)
                self.index[board_id]["checklists"].remove(cl)
            self.custom_field_items.pop(card_id, None)
            self._attachments.pop(card_id, None)
            self.add_action(
                board_id,
                "deleteCard",
                {
                    "card": {"id": card_id, "idShort": card["idShort"]},
                    "list": self._list_ref(card["idList"]),
                },
            )

    def comment(self, card_id: str, text: str) -> str:
        with self.lock:
            card = self.cards[card_id]
            return self.add_action(
                card["idBoard"], "commentCard", {"text": text, "card": self._card_ref(card_id)}
            )["id"]

    # -- actions and attachments ----------------------------------------------------------

    def add_action(
        self, board_id: str, action_type: str, data: dict[str, Any], member: str | None = None
    ) -> dict[str, Any]:
        """Record an action (Trello's activity feed) and bump the board's dateLastActivity."""
        with self.lock:
            self.tick()
            aid = self.new_id()
            board = self.boards[board_id]
            member = member or self.me
            m = self.members[member]
            action = {
                "id": aid,
                "idMemberCreator": member,
                "type": action_type,
                "date": iso(self._now),
                "data": {
                    **data,
                    "board": {
                        "id": board_id,
                        "name": board["name"],
                        "shortLink": board["shortLink"],
                    },
                },
                "appCreator": None,
                "limits": {},
                "memberCreator": {
                    "id": member,
                    "username": m["username"],
                    "fullName": m["fullName"],
                },
            }
            self.actions[aid] = action
            self.index[board_id]["actions"].append(aid)
            board["dateLastActivity"] = action["date"]
            return action

    # -- inspection ---------------------------------------------------------------------

    def board_cards(self, board_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(self.cards[c]) for c in self.index[board_id]["cards"]]

    def board_actions(self, board_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [self.actions[a] for a in self.index[board_id]["actions"]]
