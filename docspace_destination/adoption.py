"""Which existing DocSpace room a project's room is: by our marker tag, else by its exact title.

A team that ran a script like ONLYOFFICE's API samples already has a room per project,
created by name and without tags. Creating beside those would duplicate every room, so
before a room is created the rooms DocSpace holds (active and archived) are searched:

1. a room carrying the record's marker tag (`asana:project:<gid>`) is that record's room —
   whoever put the tag there; a marker added by hand therefore always wins;
2. else, when adopting by title is on (`adopt_existing`), a room whose stored title equals
   the predicted title and that carries no marker at all (a room marked for another record
   is never a candidate);
3. two or more candidates are never guessed between: the record fails with their ids.

Used by `plan` (on one listing made before planning, to show what will be adopted) and by
`apply` (on a fresh listing, because DocSpace may have changed since the plan).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# rootFolderType of a room, and of everything in it, in DocSpace's Archive section
# (FolderType.Archive = 20, products/ASC.Files/Core/Core/Entries/FolderType.cs)
ROOT_ARCHIVE = 20
# the shape of a room's source key, which is its marker tag: <source>:<entity>:<id>
MARKER_SHAPE = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[^\s:@]+$")
BY_MARKER, BY_TITLE = "marker", "title"


def marker_form(tag: str) -> str:
    """A tag as the portal compares tag names: the cloud's MySQL collation (utf8_general_ci on
    files_tag.name) ignores case and trailing spaces, so a marker typed `Asana:Project:1` by
    hand is the same marker. Our markers are ASCII, so case-folding is what matters."""
    return tag.rstrip(" ").casefold()


def tag_list(room: dict[str, Any]) -> list[str]:
    """A room DTO's tags; the server sends names, older clients' models expect objects."""
    tags = room.get("tags") or []
    return [t if isinstance(t, str) else str(t.get("name", "")) for t in tags]


def is_archived(entry: dict[str, Any]) -> bool:
    """Whether a room or folder DTO lies in the Archive section."""
    return int(entry.get("rootFolderType") or 0) == ROOT_ARCHIVE


def has_marker(room: dict[str, Any], marker: str) -> bool:
    """Whether a room DTO carries this marker tag (compared as the portal compares tags)."""
    form = marker_form(marker)
    return any(marker_form(t) == form for t in tag_list(room))


@dataclass(frozen=True, slots=True)
class ExistingRoom:
    """A room as a listing shows it: enough to decide whether it is a record's room."""

    id: int
    title: str
    archived: bool
    markers: frozenset[str]  # its tags that have the shape of a marker, in marker_form

    @classmethod
    def from_dto(cls, room: dict[str, Any]) -> ExistingRoom:
        forms = {marker_form(t) for t in tag_list(room)}
        return cls(
            id=int(room["id"]),
            title=str(room.get("title", "")),
            archived=is_archived(room),
            markers=frozenset(t for t in forms if MARKER_SHAPE.match(t)),
        )


@dataclass(frozen=True, slots=True)
class Candidates:
    """What the search found for one record: `how` is BY_MARKER or BY_TITLE."""

    rooms: tuple[ExistingRoom, ...]
    how: str

    @property
    def ambiguous(self) -> bool:
        return len(self.rooms) > 1

    def reason(self, key: str, title: str) -> str:
        """The one line a record with several candidates fails with, and the way out."""
        ids = ", ".join(str(r.id) for r in self.rooms)
        if self.how == BY_MARKER:
            return (
                f"{len(self.rooms)} rooms carry the marker tag {key!r} (ids {ids}): "
                "remove the tag from all but the right one"
            )
        return (
            f"{len(self.rooms)} existing rooms are titled {title!r} (ids {ids}): rename all but "
            f"one, or add the tag {key!r} to the right one (a marker added by hand always wins)"
        )


class ExistingRooms:
    """Rooms DocSpace holds, indexed by marker and by title."""

    def __init__(self, rooms: Iterable[ExistingRoom], *, by_title: bool = True) -> None:
        self.by_title = by_title
        self._by_marker: dict[str, list[ExistingRoom]] = defaultdict(list)
        self._unmarked_by_title: dict[str, list[ExistingRoom]] = defaultdict(list)
        self.count = 0
        for room in rooms:
            self.count += 1
            for marker in room.markers:
                self._by_marker[marker].append(room)
            if not room.markers:
                self._unmarked_by_title[room.title].append(room)

    @classmethod
    def from_listing(
        cls, rooms: Iterable[dict[str, Any]], *, by_title: bool = True
    ) -> ExistingRooms:
        return cls((ExistingRoom.from_dto(r) for r in rooms), by_title=by_title)

    def candidates(
        self, key: str, title: str, claimed: set[int] | frozenset[int] = frozenset()
    ) -> Candidates:
        """The rooms that may be record `key`'s room (titled `title` as DocSpace stores it).

        Rooms in `claimed` (already some record's room in the ledger) are never candidates.
        """
        marked = tuple(r for r in self._by_marker.get(marker_form(key), ()) if r.id not in claimed)
        if marked or not self.by_title:
            return Candidates(marked, BY_MARKER)
        titled = tuple(r for r in self._unmarked_by_title.get(title, ()) if r.id not in claimed)
        return Candidates(titled, BY_TITLE)
