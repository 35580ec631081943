"""DocSpace routes for room membership, tags and people.

Invitations follow `FileSharingAceHelper.SetAceObjectAsync`: processed in order,
an access level the room type does not allow raises InvalidOperation (403) at
that invitation (earlier ones stay applied), `access: 0` removes a member, and an
email with no account is invited as a pending guest. Templates only take Read.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.docspace_dto import employee_full
from sandbox.docspace_store import FILE_SHARES, ROOM_ACCESSES, DocSpaceStore, User, parse_enum
from sandbox.http import HTTPError, Request, Response


class SharingRoutes(DocSpaceStore):
    def register_sharing_routes(self) -> None:
        add = self.add_route  # type: ignore[attr-defined]
        add("PUT", "/files/rooms/{id:int}/share", self._share)
        add("GET", "/files/rooms/{id:int}/share", self._members)
        add("PUT", "/files/rooms/{id:int}/tags", self._add_tags)
        add("DELETE", "/files/rooms/{id:int}/tags", self._remove_tags)
        add("GET", "/files/tags", self._list_tags)
        add("POST", "/files/tags", self._create_tag)
        add("GET", "/people/@self", self._self)
        add("GET", "/people/email", self._person_by_email)
        add("GET", "/people/filter", self._people)
        add("GET", "/people/search", self._people)
        add("GET", "/people", self._people)
        add("GET", "/people/{userid}", self._person)

    # -- sharing ---------------------------------------------------------------

    def _share(self, request: Request) -> Response:
        room = self._get_room(int(request.params["id"]))
        self._check_denied(room)
        self._writable(room)  # type: ignore[attr-defined]
        body = request.json()
        members: list[dict[str, Any]] = []
        warning: str | None = None
        shares = self._shares.setdefault(room.id, {})
        for invitation in body.get("invitations") or []:
            access = parse_enum(invitation.get("access", 2), FILE_SHARES, "access")
            user = self._invitee(invitation, create=access != 0)
            if user is None:
                warning = warning or "The user could not be found"
                continue
            if user.id == self.me.id:
                continue  # the owner's access cannot be changed
            if access == 0:
                if shares.pop(user.id, None) is not None:
                    members.append(self.share_dto(user, 0, False))  # type: ignore[attr-defined]
                continue
            allowed = (
                {2} if room.kind == "template" else ROOM_ACCESSES.get(room.room_type or 0, set())
            )
            if access not in allowed:
                raise HTTPError(403, "The role is not available", type="InvalidOperation")
            shares[user.id] = access
            members.append(self.share_dto(user, access, False))  # type: ignore[attr-defined]
        room.seq = self._touch()
        return self.ok(request, {"members": members, "warning": warning, "error": 0})  # type: ignore[attr-defined]

    def _invitee(self, invitation: dict[str, Any], create: bool) -> User | None:
        if invitation.get("id"):
            return self.people.get(str(invitation["id"]))
        email = str(invitation.get("email") or "").strip()
        if not email or "@" not in email:
            raise HTTPError(400, "An id or a valid email is required for each invitation")
        user = next((u for u in self.people.values() if u.email.lower() == email.lower()), None)
        if user is None and create:
            user = User(self._uuid(), email, "", "", activation=2)
            self.people[user.id] = user
        return user

    def _members(self, request: Request) -> Response:
        room = self._get_room(int(request.params["id"]))
        count, start = self._page(request)  # type: ignore[attr-defined]
        rows = [self.share_dto(self.me, 9, True)]  # type: ignore[attr-defined]
        rows += [
            self.share_dto(self.people[uid], access, False)  # type: ignore[attr-defined]
            for uid, access in self._shares.get(room.id, {}).items()
        ]
        return self.ok(request, rows[start : start + count], total=len(rows))  # type: ignore[attr-defined]

    # -- tags ----------------------------------------------------------------------

    def _tag_names(self, request: Request) -> list[str]:
        names = request.json().get("names")
        if not isinstance(names, list):
            raise HTTPError(400, "names: a list of tag names is expected")
        for name in names:
            if not isinstance(name, str) or not name.strip() or len(name) > 255:
                raise HTTPError(400, "A tag name must be 1..255 characters")
        return [n.strip() for n in names]

    def _add_tags(self, request: Request) -> Response:
        room = self._room_for_write(int(request.params["id"]))  # type: ignore[attr-defined]
        # CustomTagsService.AddRoomTagsAsync (v3.7.2): RootFolderType == Archive → SecurityException (403)
        self._writable(room)  # type: ignore[attr-defined]
        names = self._tag_names(request)
        room.tags = list(dict.fromkeys([*room.tags, *names]))
        self._add_portal_tags(names)
        room.updated, room.seq = time.time(), self._touch()
        return self.ok(request, self.folder_dto(room))  # type: ignore[attr-defined]

    def _remove_tags(self, request: Request) -> Response:
        room = self._room_for_write(int(request.params["id"]))  # type: ignore[attr-defined]
        self._writable(room)  # type: ignore[attr-defined]
        names = set(self._tag_names(request))
        room.tags = [t for t in room.tags if t not in names]
        room.updated, room.seq = time.time(), self._touch()
        return self.ok(request, self.folder_dto(room))  # type: ignore[attr-defined]

    def _list_tags(self, request: Request) -> Response:
        count, start = self._page(request)  # type: ignore[attr-defined]
        needle = (request.arg("filterValue") or "").lower()
        tags = [t for t in self.portal_tags if needle in t.lower()]
        return self.ok(request, tags[start : start + count])  # type: ignore[attr-defined]

    def _create_tag(self, request: Request) -> Response:
        name = request.json().get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise HTTPError(400, "A tag name must be 1..255 characters")
        self._add_portal_tags([name.strip()])
        self._touch()
        return self.ok(request, name.strip())  # type: ignore[attr-defined]

    # -- people --------------------------------------------------------------------

    def _user_dto(self, user: User) -> dict[str, Any]:
        return employee_full(user, self.portal())  # type: ignore[attr-defined]

    def _self(self, request: Request) -> Response:
        return self.ok(request, self._user_dto(self.me))  # type: ignore[attr-defined]

    def _person_by_email(self, request: Request) -> Response:
        email = (request.arg("email") or "").strip().lower()
        user = next((u for u in self.people.values() if u.email.lower() == email), None)
        if user is None:
            raise HTTPError(404, "The user could not be found", type="ItemNotFound")
        return self.ok(request, self._user_dto(user))  # type: ignore[attr-defined]

    def _person(self, request: Request) -> Response:
        key = request.params["userid"].lower()
        user = next(
            (
                u
                for u in self.people.values()
                if key in (u.id, u.email.lower(), u.email.split("@")[0].lower())
            ),
            None,
        )
        if user is None:
            raise HTTPError(404, "The user could not be found", type="ItemNotFound")
        return self.ok(request, self._user_dto(user))  # type: ignore[attr-defined]

    def _people(self, request: Request) -> Response:
        count, start = self._page(request)  # type: ignore[attr-defined]
        needle = (request.arg("filterValue") or request.arg("query") or "").lower()
        users = [
            u
            for u in self.people.values()
            if not needle or needle in u.email.lower() or needle in u.display_name.lower()
        ]
        page = users[start : start + count]
        return self.ok(request, [self._user_dto(u) for u in page], total=len(users))  # type: ignore[attr-defined]
