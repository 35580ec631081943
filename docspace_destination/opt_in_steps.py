"""Settings and reports of the opt-in steps that follow an apply: write-back and room members.

Keys live under [destination.docspace] (a source may override them under
[destination.docspace.asana] / [destination.docspace.trello]), declared in
`config.OptInStepsConfiguration` and turned into `OptInSettings` by `settings`:

    write_back = true            # links to rooms/folders written back to the projects
    write_back_tasks = true      # Asana: also on every task (Trello always writes cards)
    sync_members = "add"         # "off" | "add" | "mirror"
    invite_unknown = false       # invite people with no DocSpace account by email
    [destination.docspace.role_map]
    owner = "RoomManager"        # names or FileShare numbers
    member = "ContentCreator"
    observer = "Read"            # Trello board observers
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pm_runtime.errors import ConfigurationError

ROLES = ("owner", "member", "observer")
ROLE_MAP_KEY = "destination.docspace.role_map"  # as messages name it

# FileShare values a user can hold in a room (FileShare in products/ASC.Files/Core/Security/FileShare.cs).
ACCESS_LEVELS = {
    "read": 2,
    "viewer": 2,
    "review": 5,
    "reviewer": 5,
    "comment": 6,
    "commenter": 6,
    "fillforms": 7,
    "formfiller": 7,
    "roommanager": 9,
    "manager": 9,
    "editing": 10,
    "editor": 10,
    "contentcreator": 11,
}
ACCESS_NAMES = {
    2: "Read",
    5: "Review",
    6: "Comment",
    7: "FillForms",
    9: "RoomManager",
    10: "Editing",
    11: "ContentCreator",
}
# FileSecurity.AvailableRoomAccesses per room type (products/ASC.Files/Core/Security/FileSecurity.cs; AiRoom as the emulator has it).
ROOM_ACCESSES = {
    1: {7, 9, 11},
    2: {2, 9, 10, 11},
    5: {2, 5, 6, 9, 10, 11},
    6: {9, 11},
    8: {2, 7, 9, 10, 11},
    9: {2, 9, 11},
}
DEFAULT_ROLE_MAP = {"owner": 9, "member": 11, "observer": 2}


def access_level(value: Any, key: str) -> int:
    """A FileShare level from a name ("Room manager", "ContentCreator") or a number."""
    if isinstance(value, int) or str(value).strip().isdigit():
        level = int(value)
        if level not in ACCESS_NAMES:
            raise ConfigurationError(
                f"{key}: {level} is not a room access level (use one of {sorted(ACCESS_NAMES)})"
            )
        return level
    name = str(value).replace(" ", "").replace("-", "").replace("_", "").lower()
    if name not in ACCESS_LEVELS:
        raise ConfigurationError(
            f"{key}: unknown access level {value!r}; use one of {sorted(set(ACCESS_NAMES.values()))} "
            "or a FileShare number"
        )
    return ACCESS_LEVELS[name]


def levels_allowed_instead(level: int, room_type: int) -> str | None:
    """The access levels a room type offers, as text, when `level` is not one of them."""
    allowed = ROOM_ACCESSES.get(room_type)
    if allowed is None or level in allowed:
        return None
    return ", ".join(f"{ACCESS_NAMES[a]} ({a})" for a in sorted(allowed))


def check_level(level: int, room_type: int, key: str) -> None:
    names = levels_allowed_instead(level, room_type)
    if names is not None:
        raise ConfigurationError(
            f"{key}: {ACCESS_NAMES.get(level, level)} ({level}) is not available in rooms of "
            f"type {room_type}; this room type allows {names}"
        )


@dataclass(frozen=True)
class OptInSettings:
    """What the opt-in steps do (defaults and checks in `config.OptInStepsConfiguration`,
    made into this by `settings.load_opt_in_settings`)."""

    write_back: bool
    write_back_tasks: bool
    sync_members: str  # "off" | "add" | "mirror"
    role_map: dict[str, int | None]  # role -> FileShare level; None: not invited
    invite_unknown: bool

    @property
    def members_enabled(self) -> bool:
        return self.sync_members != "off"


@dataclass
class StepReport:
    """Outcome counts of one opt-in step; failures never stop the other records."""

    step: str
    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)  # key, reason
    unknown_people: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.counts[outcome] += n

    def fail(self, key: str, reason: str) -> None:
        with self._lock:
            self.counts["failed"] += 1
            self.failures.append((key, reason[:300]))

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)
