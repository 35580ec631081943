"""Room members from project members: invite (and in "mirror" mode remove) people in DocSpace.

Rules:
- A project member whose email belongs to a DocSpace user is invited with the access
  level the role map gives their role (owner / member / observer).
- Only people this tool invited are ever changed or removed: they are recorded in
  `docspace_state.room_members`. Anyone a human shared the room with is left alone,
  and the room's owner is never touched.
- "mirror" removes (access 0) the recorded people who left the project; "add" never removes.
- People without a DocSpace account are reported, not invited (unless `invite_unknown`).
- Each room's current share list is read first, so a re-run sends no second invitation.

The staging database is read once before the first request and written once per room
that changed (short transactions, so other processes can read it meanwhile).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from docspace_destination.client import DocSpaceClient, DocSpaceError
from docspace_destination.ledger import APPLIED, SCHEMA, Ledger, LedgerEntry
from docspace_destination.opt_in_steps import (
    ACCESS_NAMES,
    ROLE_MAP_KEY,
    OptInSettings,
    StepReport,
    levels_allowed_instead,
)
from docspace_destination.source_sql import run_mapping
from pm_runtime.errors import UserFacingError
from pm_runtime.source_spec import SourceSpec, spec_for
from pm_runtime.staging import open_staging
from pm_runtime.staging_database import upsert_statement

log = logging.getLogger(__name__)

PAGE = 100
RANK = {"owner": 0, "member": 1, "observer": 2}

_MEMBER_COLUMNS = ("room_key", "source", "room_id", "email", "user_id", "access", "updated_at")
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.room_members (
    room_key VARCHAR,
    source VARCHAR,
    room_id BIGINT,
    email VARCHAR,
    user_id VARCHAR,
    access INTEGER,
    updated_at TIMESTAMPTZ,
    PRIMARY KEY (room_key, email)
);
"""


@dataclass(frozen=True)
class Person:
    email: str | None
    name: str
    role: str


def project_people(
    con: duckdb.DuckDBPyConnection, source: str | SourceSpec
) -> dict[str, list[Person]]:
    """{room key: people} from the source's people SQL; the highest role wins."""
    spec = spec_for(source)
    best: dict[tuple[str, str], Person] = {}
    for query in spec.people:
        for key, email, name, role in run_mapping(con, query, spec.dataset):
            who = (key, email or f"?{name}")
            if who not in best or RANK[role] < RANK[best[who].role]:
                best[who] = Person(email or None, str(name or email or "?"), role)
    out: dict[str, list[Person]] = defaultdict(list)
    for (key, _), person in sorted(best.items()):
        out[key].append(person)
    return out


@dataclass
class Share:
    user_id: str
    email: str
    access: int
    owner: bool


class MemberSync:
    def __init__(
        self,
        client: DocSpaceClient,
        source: str | SourceSpec,
        settings: OptInSettings,
        writes_left: int | None = None,
    ) -> None:
        """`writes_left`: what this run's --max-writes leaves after the apply; a room whose
        invitations do not fit waits, with every room after it, for the next run."""
        self.client = client
        self.writes_left = writes_left
        self.spec = spec_for(source)
        self.source = self.spec.name
        self.settings = settings
        self.report = StepReport("members")
        self._people: dict[str, dict[str, Any] | None] = {}
        self._unknown: dict[str, list[str]] = defaultdict(list)
        self._recorded: dict[str, list[tuple[str, str, int, int]]] = defaultdict(list)

    # -- DocSpace reads ------------------------------------------------------------

    def user(self, email: str) -> dict[str, Any] | None:
        """The DocSpace account with this email, or None (looked up once per run)."""
        if email not in self._people:
            try:
                self._people[email] = self.client.call(
                    "GET", "/people/email", params={"email": email}
                )
            except DocSpaceError as exc:
                if exc.status != 404:
                    raise
                self._people[email] = None
        return self._people[email]

    def shares(self, room_id: int) -> dict[str, Share]:
        """{user id: share} of everyone the room is shared with, every page."""
        out: dict[str, Share] = {}
        start = 0
        while True:
            page = self.client.call(
                "GET",
                f"/files/rooms/{room_id}/share",
                params={"count": PAGE, "startIndex": start},
            )
            for row in page or []:
                who = row.get("sharedTo") or row.get("sharedToUser") or {}
                if not who.get("id"):
                    continue  # a group or an external link
                out[str(who["id"])] = Share(
                    str(who["id"]),
                    str(who.get("email") or "").lower(),
                    int(row.get("access") or 0),
                    bool(row.get("isOwner")),
                )
            got = len(page or [])
            start += got
            if got < PAGE:
                return out

    # -- records ---------------------------------------------------------------------

    def _load_records(self, con: duckdb.DuckDBPyConnection) -> None:
        rows = con.execute(
            f"SELECT room_key, email, user_id, access, room_id FROM {SCHEMA}.room_members "
            "WHERE source = ?",
            [self.source],
        ).fetchall()
        for room_key, email, user_id, access, room_id in rows:
            self._recorded[room_key].append((email, user_id, access, room_id))

    def _records(self, room_key: str, room_id: int) -> dict[str, tuple[str, int]]:
        rows = self._recorded.get(room_key, [])
        # invitations into a room that was since recreated say nothing about the new room
        return {e: (u, a) for e, u, a, rid in rows if rid == room_id}

    def _save_room(
        self,
        room_key: str,
        room_id: int,
        remember: list[tuple[str, str, int]],
        gone: list[str],
    ) -> None:
        """Who this tool invited into the room (and who it no longer tracks), in one transaction."""
        if not remember and not gone:
            return
        now = datetime.now(UTC)
        with open_staging() as con:
            if remember:
                con.executemany(
                    upsert_statement(
                        f"{SCHEMA}.room_members",
                        _MEMBER_COLUMNS,
                        ["room_key", "email"],
                    ),
                    [
                        [room_key, self.source, room_id, email, uid, level, now]
                        for email, uid, level in remember
                    ],
                )
            if gone:
                con.execute(
                    f"DELETE FROM {SCHEMA}.room_members WHERE room_key = ? "
                    "AND email IN (SELECT unnest(?))",
                    [room_key, gone],
                )

    # -- the step ----------------------------------------------------------------------

    def run(self) -> StepReport:
        with open_staging() as con:  # everything the step reads, before any request
            con.execute(_DDL)
            rooms = [  # the rooms' rows alone: a big account's folders are not read for them
                e
                for e in Ledger().rows("source = ? AND kind = 'room'", [self.source])
                if e.status == APPLIED and e.docspace_id and not e.archived
            ]
            if not rooms:
                return self.report
            people = project_people(con, self.spec)
            self._load_records(con)
        types = {
            int(r["id"]): int(r.get("roomType") or 0) for r in self.client.list_rooms(area="active")
        }
        for entry in sorted(rooms, key=lambda e: e.key):
            if self.writes_left is not None and self.writes_left <= 0:
                self.report.add("deferred")  # --max-writes spent: the next run invites them
                continue
            if entry.docspace_id not in types:
                continue  # archived by hand or gone: --refresh brings it back first
            try:
                self._room(entry, types[entry.docspace_id], people.get(entry.key, []))
            except UserFacingError:
                raise
            except (DocSpaceError, RoomRefused) as exc:
                reason = exc.message if isinstance(exc, DocSpaceError) else str(exc)
                if isinstance(exc, DocSpaceError) and exc.status:
                    reason = f"{exc.status} {reason}"
                self.report.fail(entry.key, f"{entry.title!r}: {reason}")
        self.report.unknown_people = [
            f"{who} ({', '.join(sorted(set(rooms)))})"
            for who, rooms in sorted(self._unknown.items())
        ]
        self.report.add("unknown people", len(self._unknown))
        return self.report

    def _level(self, person: Person, room_type: int) -> int | None:
        level = self.settings.role_map.get(person.role)
        if level is None:
            return None
        names = levels_allowed_instead(level, room_type)
        if names is not None:
            raise RoomRefused(
                f"{ROLE_MAP_KEY}.{person.role} = {ACCESS_NAMES.get(level, level)} ({level}) "
                f"is not available in this room (type {room_type}); it allows {names}"
            )
        return level

    def _room(self, entry: LedgerEntry, room_type: int, people: list[Person]) -> None:
        room_id = int(entry.docspace_id or 0)
        title = entry.title or entry.key
        current = self.shares(room_id)
        by_email = {s.email: s for s in current.values() if s.email}
        records = self._records(entry.key, room_id)
        invites: list[dict[str, Any]] = []
        changed = 0
        by_mail: list[dict[str, Any]] = []
        remember: list[tuple[str, str, int]] = []
        wanted: set[str] = set()
        for person in people:
            level = self._level(person, room_type)
            if level is None:
                continue
            if not person.email:
                self._unknown[f"{person.name} (no email in {self.source})"].append(title)
                continue
            wanted.add(person.email)
            user = self.user(person.email)
            if user is None:
                if not self.settings.invite_unknown:
                    self._unknown[person.email].append(title)
                elif person.email not in by_email:
                    by_mail.append({"email": person.email, "access": level})
                    remember.append((person.email, "", level))
                continue
            uid = str(user.get("id"))
            share = current.get(uid)
            if share is not None and share.owner:
                continue  # the room's owner keeps full control
            if share is None or (person.email in records and share.access != level):
                invites.append({"id": uid, "access": level})
                remember.append((person.email, uid, level))
                changed += share is not None  # a role change of someone we invited
            # otherwise shared already: by us (nothing to do) or by a human (left alone)
        removals: list[dict[str, Any]] = []
        if self.settings.sync_members == "mirror":
            for email, (uid, _) in records.items():
                if email in wanted:
                    continue
                share = current.get(uid) if uid else by_email.get(email)
                if share is not None and not share.owner:
                    removals.append({"id": share.user_id, "access": 0})
            gone = [e for e in records if e not in wanted]
        else:
            gone = []
        needed = bool(invites or removals) + bool(by_mail)
        if self.writes_left is not None and needed:
            if needed > self.writes_left:
                self.writes_left = 0  # this room and those after it wait, in their order
                self.report.add("deferred")
                return
            self.writes_left -= needed
        if invites or removals:
            self.client.call(
                "PUT",
                f"/files/rooms/{room_id}/share",
                body={"invitations": invites + removals, "notify": False},
                idempotent=True,
            )
        if by_mail:  # new accounts need the invitation email to register
            self.client.call(
                "PUT",
                f"/files/rooms/{room_id}/share",
                body={"invitations": by_mail, "notify": True},
                idempotent=True,
            )
        self._save_room(entry.key, room_id, remember, gone)
        self.report.add("invited", len(invites) + len(by_mail) - changed)
        if changed:
            self.report.add("access changed", changed)
        self.report.add("removed", len(removals))


class RoomRefused(Exception):
    """This room cannot take the configured membership (e.g. a level its type lacks)."""
