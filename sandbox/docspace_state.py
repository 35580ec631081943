"""The test-facing state API of the DocSpace emulator: arrange and inspect a portal.

Every method takes the emulator's lock and advances template jobs first, so tests
see exactly what an API client would see at that instant.
"""

from __future__ import annotations

from typing import Any

from sandbox.docspace_store import (
    ARCHIVE_ROOT,
    ROOM_FOLDER_TYPES,
    ROOM_TYPES,
    ROOMS_ROOT,
    TEMPLATES_ROOT,
    DocSpaceStore,
    File,
    Folder,
    Job,
    User,
    parse_enum,
)
from sandbox.docspace_titles import sanitize_title


class DocSpaceStateApi(DocSpaceStore):
    def rooms(self, area: str = "active") -> list[Folder]:
        """Rooms in `area`: "active", "archive" or "any" (templates are not rooms)."""
        parents = {
            "active": {ROOMS_ROOT},
            "archive": {ARCHIVE_ROOT},
            "any": {ROOMS_ROOT, ARCHIVE_ROOT},
        }
        with self.lock:
            self._tick()
            return sorted(
                (
                    f
                    for f in self._folders.values()
                    if f.kind == "room" and f.parent_id in parents[area]
                ),
                key=lambda f: f.id,
            )

    def templates(self) -> list[Folder]:
        with self.lock:
            return sorted(
                (f for f in self._folders.values() if f.kind == "template"), key=lambda f: f.id
            )

    def room(self, room_id: int) -> Folder:
        with self.lock:
            self._tick()
            return self._get_room(room_id)

    def folder(self, folder_id: int) -> Folder:
        with self.lock:
            return self._get(folder_id)

    def folders(self, parent_id: int) -> list[Folder]:
        """Direct subfolders of a room or folder, oldest first."""
        with self.lock:
            self._tick()
            return sorted(self._children(parent_id), key=lambda f: f.id)

    def files(self, folder_id: int) -> list[File]:
        with self.lock:
            return sorted(self._child_files(folder_id), key=lambda f: f.id)

    def tree(self, room_id: int) -> dict[str, Any]:
        """Nested titles below a room: {folder title: {...}, file title: None}; duplicates get ' #n'."""
        with self.lock:
            self._tick()

            def build(folder_id: int) -> dict[str, Any]:
                out: dict[str, Any] = {}

                def put(key: str, value: Any) -> None:
                    name, n = key, 1
                    while name in out:
                        n += 1
                        name = f"{key} #{n}"
                    out[name] = value

                for child in sorted(self._children(folder_id), key=lambda f: f.id):
                    put(child.title, build(child.id))
                for file in sorted(self._child_files(folder_id), key=lambda f: f.id):
                    put(file.title, None)
                return out

            return build(self._get(room_id).id)

    def find(self, title: str, kind: str | None = None) -> list[Folder]:
        """Rooms/folders/templates whose stored title equals `title` exactly."""
        with self.lock:
            return sorted(
                (f for f in self._folders.values() if f.title == title and kind in (None, f.kind)),
                key=lambda f: f.id,
            )

    def find_room(self, title: str) -> Folder:
        """The single room with this stored title (AssertionError when 0 or several)."""
        found = self.find(title, "room")
        assert len(found) == 1, f"{len(found)} rooms titled {title!r}"
        return found[0]

    def count_rooms(self, area: str = "any") -> int:
        return len(self.rooms(area))

    def count_folders(self) -> int:
        with self.lock:
            return sum(1 for f in self._folders.values() if f.kind == "folder")

    def add_room(
        self,
        title: str,
        room_type: int | str = 2,
        tags: list[str] | tuple[str, ...] = (),
        archived: bool = False,
        private: bool = False,
    ) -> Folder:
        """A room as if created through the API (the title is sanitised)."""
        with self.lock:
            rtype = parse_enum(room_type, ROOM_TYPES, "roomType")
            room = self._new_folder(
                sanitize_title(title),
                ARCHIVE_ROOT if archived else ROOMS_ROOT,
                "room",
                folder_type=ROOM_FOLDER_TYPES[rtype],
                room_type=rtype,
                private=private,
                tags=list(dict.fromkeys(tags)),
            )
            self._add_portal_tags(room.tags)
            self._shares[room.id] = {}
            return room

    def add_folder(self, parent: int | Folder, title: str) -> Folder:
        with self.lock:
            parent_id = parent.id if isinstance(parent, Folder) else parent
            self._get(parent_id)
            return self._new_folder(sanitize_title(title), parent_id, "folder")

    def add_template(
        self,
        title: str,
        folders: list[str] | tuple[str, ...] = (),
        room_type: int | str = 2,
        tags: list[str] | tuple[str, ...] = (),
        files: dict[str, list[str]] | None = None,
    ) -> Folder:
        """A room template with top-level `folders` (and optional files per folder title)."""
        with self.lock:
            rtype = parse_enum(room_type, ROOM_TYPES, "roomType")
            template = self._new_folder(
                sanitize_title(title),
                TEMPLATES_ROOT,
                "template",
                folder_type=ROOM_FOLDER_TYPES[rtype],
                room_type=rtype,
                tags=list(tags),
            )
            for name in folders:
                sub = self._new_folder(sanitize_title(name), template.id, "folder")
                for doc in (files or {}).get(name, []):
                    self._new_file(sanitize_title(doc), sub.id)
            return template

    def rename(self, folder_id: int, title: str) -> Folder:
        with self.lock:
            folder = self._get(folder_id)
            folder.title = sanitize_title(title)
            folder.seq = self._touch()
            return folder

    def archive(self, room_id: int) -> None:
        with self.lock:
            self._set_parent(self._get_room(room_id), ARCHIVE_ROOT)

    def unarchive(self, room_id: int) -> None:
        with self.lock:
            self._set_parent(self._get_room(room_id), ROOMS_ROOT)

    def delete(self, folder_id: int) -> None:
        """Delete a room or folder with everything below it, for good (deleted `immediately`,
        or its Trash emptied). A person's delete that goes to the Trash: `trash_folder`."""
        with self.lock:
            self._get(folder_id)
            self._remove_tree(folder_id)

    def move(self, folder_id: int, dest_id: int) -> None:
        with self.lock:
            folder, dest = self._get(folder_id), self._get(dest_id)
            self._set_parent(folder, dest.id)

    def add_user(self, email: str, name: str = "", pending: bool = False) -> User:
        with self.lock:
            first, _, last = (name or email.split("@")[0]).partition(" ")
            user = User(self._uuid(), email, first, last, activation=2 if pending else 1)
            self.people[user.id] = user
            return user

    def users(self) -> list[User]:
        with self.lock:
            return list(self.people.values())

    def user_by_email(self, email: str) -> User | None:
        with self.lock:
            return next((u for u in self.people.values() if u.email.lower() == email.lower()), None)

    def shares(self, room_id: int) -> dict[str, int]:
        """{user email: access} of a room's members (the owner included)."""
        with self.lock:
            self._get_room(room_id)
            members = {self.me.email: 9}
            members.update(
                {self.people[uid].email: access for uid, access in self._shares[room_id].items()}
            )
            return members

    def deny(self, room: int | str, status: int = 403) -> None:
        """Every write touching this room (by id or stored title) answers `status`."""
        with self.lock:
            self.denied[room] = status

    def allow(self, room: int | str) -> None:
        with self.lock:
            self.denied.pop(room, None)

    def start_template_job_externally(
        self,
        template_id: int | None = None,
        title: str = "Another client's room",
        duration: float | None = None,
    ) -> int:
        """Occupy the portal's single room-from-template slot as another client would.

        Returns the id of the room that job is making.
        """
        with self.lock:
            if template_id is None:
                template_id = self.add_template("External template").id
            template = self._get_room(template_id)
            room = self.add_room(title, template.room_type or 2)
            self._start_job("fromtemplate", template_id, room.id, duration)
            return room.id

    def fail_next_template_job(self, message: str = "Room quota exceeded") -> None:
        """The next room-from-template job fails when it completes: its room is deleted, its
        status carries `error` and still names the deleted room (CreateRoomFromTemplateOperation)."""
        with self.lock:
            self._fail_next_job["fromtemplate"] = message

    def template_job_status(self) -> Job | None:
        """The job the portal's status endpoint would report now (None once it vanished)."""
        with self.lock:
            self._tick()
            return self.jobs["fromtemplate"]

    def template_job_running(self) -> bool:
        with self.lock:
            self._tick()
            job = self.jobs["fromtemplate"]
            return job is not None and not job.done

    def duplicate_titles(self, room_id: int | None = None) -> list[str]:
        """Paths ("Room/Folder/Title") of titles that occur more than once among siblings.

        Rooms are checked among active rooms; folders and files within each parent.
        """
        with self.lock:
            self._tick()
            found: list[str] = []

            def check(parent_id: int, path: str) -> None:
                seen: dict[str, int] = {}
                for child in self._children(parent_id):
                    seen[child.title] = seen.get(child.title, 0) + 1
                    check(child.id, f"{path}/{child.title}")
                for file in self._child_files(parent_id):
                    seen[file.title] = seen.get(file.title, 0) + 1
                found.extend(f"{path}/{t}" for t, n in seen.items() if n > 1)

            if room_id is None:
                check(ROOMS_ROOT, "")
            else:
                check(room_id, "/" + self._get(room_id).title)
            return found
