"""Asana emulator (`/api/1.0`): the envelope, paging, opt_fields, Events API and limits.

Behaviour follows Asana's OpenAPI spec and developer docs: `{"data"}`
envelope, `{"errors": [...]}` errors, Bearer auth, `limit` 1..100 with opaque offsets
and `next_page {offset, path, uri}`, compact records unless `opt_fields` asks, 400 for
unpaginated results over a threshold, `/projects/{gid}/tasks` silently ignoring
`modified_since`, and sync tokens that answer 412 with a fresh `sync` when missing or stale.
"""

from __future__ import annotations

import base64
import itertools
import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import urlencode

from sandbox.asana_attachments import AsanaAttachments
from sandbox.asana_batch import AsanaBatch
from sandbox.asana_fields import parse_opt_fields, project
from sandbox.asana_state import AsanaState, Obj, parse_iso
from sandbox.http import Emulator, HTTPError, Limits, Request, Response

HELP = (
    "For more information on API status codes and how to handle them, "
    "read the docs on errors: https://developers.asana.com/docs/errors"
)
RATE_LIMIT_MESSAGE = (
    "You've made too many requests and hit a rate limit. "
    "Please retry after the given amount of time."
)
TOO_LARGE = (
    "The result is too large. You should use pagination (may require specifying a workspace)!"
)
SYNC_INVALID = (
    "Sync token invalid or too old. If you are attempting to keep resources in sync, you must "
    "fetch the full dataset for this query now and use the new sync token for the next sync."
)
# the real wording is unverified (research notes §8.6); clients should key on the `offset:` prefix
OFFSET_EXPIRED = (
    "offset: Your pagination token has expired. Please restart the request from the beginning."
)


class AsanaEmulator(AsanaAttachments, AsanaBatch, AsanaState, Emulator):
    service = "asana"
    api_prefix = "/api/1.0"

    def __init__(self, seed: int = 0, token: str = "sandbox-asana-pat") -> None:
        self.token = token
        self._init_state(seed)
        self._init_attachments()
        self._offsets: dict[str, dict[str, Any]] = {}
        self._offset_ids = itertools.count(1)
        self._expire_next: int | None = None
        self._syncs: dict[str, tuple[str, int]] = {}
        self._sync_ids = itertools.count(1)
        self.unpaginated_max = 1000
        super().__init__(seed)
        # the real service's limits are on by default
        self.limits = Limits(
            max_concurrent_reads=50,
            max_concurrent_writes=15,
            requests_per_window=1500,
            window_seconds=60.0,
        )

    # -- envelopes --------------------------------------------------------------

    def handle(self, request: Request) -> tuple[Response | None, str]:
        # the emulated bucket behind download_url: no Asana token, no Asana rate limit
        # (whether S3 fetches count against Asana's limits is unverified, notes §1b)
        found = self.match(request.method, request.path)
        if found is not None and self.is_download(request):
            request.route, request.params = found[0].template, found[1]
            with self.lock:
                return self._download(request), "ok"
        return super().handle(request)

    def authenticate(self, request: Request) -> str | None:
        header = request.headers.get("Authorization") or ""
        if header != f"Bearer {self.token}":
            raise HTTPError(401, "Not Authorized")
        return self.token

    def error(self, status: int, message: str, **extra: Any) -> Response:
        err: dict[str, Any] = {"message": message}
        if status != 401:
            err["help"] = HELP
        if status >= 500:
            err["phrase"] = "6 sad squid snuggle softly"
        return Response(status, {"errors": [err], **extra})

    def too_many_requests(
        self, request: Request, retry_after: float | None, reason: str
    ) -> Response:
        headers = {"Retry-After": str(int(retry_after or 0))}
        return Response(429, {"errors": [{"message": RATE_LIMIT_MESSAGE, "help": HELP}]}, headers)

    def server_error(self, status: int) -> Response:
        if status == 500:
            return self.error(500, "Server Error")
        return super().server_error(status)

    def not_found_route(self, request: Request) -> Response:
        return self.error(
            404,
            "Either the request method and path supplied do not specify a known action in the API, "
            "or the object specified by the request does not exist.",
        )

    # -- switches for tests -------------------------------------------------------

    def expire_offsets_after(self, uses: int = 0) -> None:
        """The next offset handed out is rejected (400) once it has been presented `uses` times."""
        with self.lock:
            self._expire_next = uses

    def expire_sync_tokens(self) -> None:
        """Every sync token handed out so far is too old (the next /events answers 412)."""
        with self.lock:
            self._syncs.clear()

    def attachments(self, parent: str) -> list[dict[str, Any]]:
        with self.lock:
            return [self.full(a) for a in self.live(f"attachments:{parent}")]

    # -- helpers ------------------------------------------------------------------

    def user(self, identifier: str) -> Obj | None:
        """A user by any identifier the API takes: "me" (the token's user), an email, or a gid.

        Asana's API reference, `user_gid` path parameter (specs/asana_oas.yaml): "A string
        identifying a user. This can either be the string "me", an email, or the gid of a user."
        GET /tasks documents `assignee` only as "the assignee to filter tasks on"; that it takes
        the same identifiers is how the real API behaves for independent clients (not verified
        here on a live API), as is email matching that ignores case.
        """
        if identifier == "me":
            return self.get(self.me, "user") if self.me else None
        if "@" in identifier:
            wanted = identifier.casefold()
            return next(
                (u for u in self.live("user") if str(u.data.get("email", "")).casefold() == wanted),
                None,
            )
        return self.get(identifier, "user")

    def _one(self, obj: Obj | None, request: Request, what: str, gid: str) -> dict[str, Any]:
        if obj is None:
            raise HTTPError(404, f"{what}: Unknown object: {gid}")
        tree = parse_opt_fields(request.arg("opt_fields"))
        # single records come back whole unless opt_fields narrows them
        return {"data": self.full(obj) if tree is None else project(self.full(obj), tree)}

    def _need(self, gid: str, kind: str) -> Obj:
        obj = self.get(gid, kind)
        if obj is None:
            raise HTTPError(404, f"{kind}: Unknown object: {gid}")
        if kind == "project" and gid in self.restricted:
            status = self.restricted[gid]
            raise HTTPError(
                status, "Forbidden" if status == 403 else f"project: Unknown object: {gid}"
            )
        return obj

    def _page(self, request: Request, objs: list[Obj]) -> dict[str, Any]:
        tree = parse_opt_fields(request.arg("opt_fields"))
        limit = request.int_arg("limit")
        if limit is not None and not 1 <= limit <= 100:
            raise HTTPError(400, "limit: Must be between 1 and 100")
        key = self._listing_key(request)
        start = 0
        raw_offset = request.arg("offset")
        if raw_offset:
            entry = self._offsets.get(raw_offset)
            if entry is None or entry["key"] != key:
                raise HTTPError(400, "offset: Not a valid offset token")
            if entry["uses_left"] is not None:
                if entry["uses_left"] <= 0:
                    raise HTTPError(400, OFFSET_EXPIRED)
                entry["uses_left"] -= 1
            start = entry["pos"]
        if limit is None:
            if len(objs) > self.unpaginated_max:
                raise HTTPError(400, TOO_LARGE)
            return {"data": [project(self.full(o), tree) for o in objs]}
        chunk = objs[start : start + limit]
        body: dict[str, Any] = {"data": [project(self.full(o), tree) for o in chunk]}
        next_page = None
        if start + limit < len(objs):
            token = self._new_offset(key, start + limit)
            query = {k: v[0] for k, v in request.query.items() if k != "offset"}
            path = f"{request.path.removeprefix(self.api_prefix)}?{urlencode({**query, 'offset': token})}"
            next_page = {"offset": token, "path": path, "uri": self.base_url + path}
        body["next_page"] = next_page
        return body

    def _listing_key(self, request: Request) -> str:
        query = sorted((k, v[0]) for k, v in request.query.items() if k not in ("offset", "limit"))
        return request.path + "?" + urlencode(query)

    def _new_offset(self, key: str, pos: int) -> str:
        n = next(self._offset_ids)
        token = (
            base64.urlsafe_b64encode(json.dumps({"n": n, "p": pos}).encode()).decode().rstrip("=")
        )
        self._offsets[token] = {"key": key, "pos": pos, "uses_left": self._expire_next}
        self._expire_next = None
        return token

    # -- routes -------------------------------------------------------------------

    def register_routes(self) -> None:
        r = self.route
        r("GET", "/workspaces")(lambda q: self._page(q, self.live("workspace")))
        r("GET", "/workspaces/{gid}")(
            lambda q: self._one(
                self.get(q.params["gid"], "workspace"), q, "workspace", q.params["gid"]
            )
        )
        r("GET", "/projects")(self._projects)
        r("GET", "/workspaces/{gid}/projects")(self._projects)
        r("GET", "/projects/{gid}")(
            lambda q: self._one(
                self._need(q.params["gid"], "project"), q, "project", q.params["gid"]
            )
        )
        r("GET", "/projects/{gid}/sections")(
            lambda q: self._page(
                q, self.live(f"sections:{self._need(q.params['gid'], 'project').gid}")
            )
        )
        r("GET", "/projects/{gid}/tasks")(self._project_tasks)
        r("GET", "/projects/{gid}/custom_field_settings")(self._custom_field_settings)
        r("GET", "/sections/{gid}")(
            lambda q: self._one(self.get(q.params["gid"], "section"), q, "section", q.params["gid"])
        )
        r("GET", "/sections/{gid}/tasks")(self._section_tasks)
        r("GET", "/tasks")(self._tasks)
        r("GET", "/tasks/{gid}")(
            lambda q: self._one(self.get(q.params["gid"], "task"), q, "task", q.params["gid"])
        )
        r("GET", "/tasks/{gid}/subtasks")(
            lambda q: self._page(
                q, self.live(f"subtasks:{self._need(q.params['gid'], 'task').gid}")
            )
        )
        r("GET", "/tasks/{gid}/stories")(
            lambda q: self._page(q, self.live(f"stories:{self._need(q.params['gid'], 'task').gid}"))
        )
        r("GET", "/users")(lambda q: self._page(q, self.live(f"users:{q.arg('workspace')}")))
        r("GET", "/users/{gid}")(
            lambda q: self._one(self.user(q.params["gid"]), q, "user", q.params["gid"])
        )
        for kind in ("users", "teams", "tags", "custom_fields"):
            r("GET", "/workspaces/{gid}/" + kind)(self._workspace_list(kind))
        r("GET", "/tags")(lambda q: self._page(q, self.live(f"tags:{q.arg('workspace')}")))
        r("GET", "/events")(self._events)
        self.register_attachment_routes()
        r("POST", "/batch")(self._batch)

    def _workspace_list(self, kind: str) -> Any:
        def handler(request: Request) -> Any:
            ws = self._need(request.params["gid"], "workspace")
            return self._page(request, self.live(f"{kind}:{ws.gid}"))

        return handler

    def _projects(self, request: Request) -> Any:
        ws = request.params.get("gid") or request.arg("workspace")
        if not ws:
            every = self.live("project")
            if len(every) > self.unpaginated_max:
                raise HTTPError(400, TOO_LARGE)
            projects = every
        else:
            projects = self.live(f"projects:{self._need(ws, 'workspace').gid}")
        archived = request.arg("archived")
        if archived is not None:
            want = archived.lower() == "true"
            projects = [p for p in projects if p.data["archived"] == want]
        return self._page(request, projects)

    def _project_tasks(self, request: Request) -> Any:
        # no modified_since here: the real endpoint ignores unknown parameters silently
        p = self._need(request.params["gid"], "project")
        return self._page(request, self._completed_filter(request, self.live(f"tasks:{p.gid}")))

    def _section_tasks(self, request: Request) -> Any:
        section = self._need(request.params["gid"], "section")
        tasks = [
            t
            for t in self.live(f"tasks:{section.data['project']}")
            if (section.data["project"], section.gid) in t.data["memberships"]
        ]
        return self._page(request, self._completed_filter(request, tasks))

    def _tasks(self, request: Request) -> Any:
        project_gid, section_gid = request.arg("project"), request.arg("section")
        assignee, workspace = request.arg("assignee"), request.arg("workspace")
        if project_gid:
            tasks = self.live(f"tasks:{self._need(project_gid, 'project').gid}")
        elif section_gid:
            section = self._need(section_gid, "section")
            pair = (section.data["project"], section.gid)
            tasks = [t for t in self.live(f"tasks:{pair[0]}") if pair in t.data["memberships"]]
        elif assignee and workspace:
            who = self.user(assignee)
            if who is None:
                raise HTTPError(400, f"assignee: Not a recognized ID: {assignee}")
            tasks = [
                t
                for t in self.live("task")
                if t.data["assignee"] == who.gid and t.data["workspace"] == workspace
            ]
        else:
            raise HTTPError(400, "workspace: Missing input")
        since = request.arg("modified_since")
        if since:
            cutoff = parse_iso(since)
            tasks = [t for t in tasks if parse_iso(t.modified_at) >= cutoff]
        return self._page(request, self._completed_filter(request, tasks))

    def _completed_filter(self, request: Request, tasks: list[Obj]) -> list[Obj]:
        since = request.arg("completed_since")
        if not since:
            return tasks
        if since == "now":
            return [t for t in tasks if not t.data["completed"]]
        cutoff = parse_iso(since)
        return [
            t
            for t in tasks
            if not t.data["completed"] or parse_iso(t.data["completed_at"]) >= cutoff
        ]

    def _custom_field_settings(self, request: Request) -> Any:
        p = self._need(request.params["gid"], "project")
        tree = parse_opt_fields(request.arg("opt_fields"))
        settings = [
            {
                "gid": f"{p.gid}{cf_gid[-6:]}",
                "resource_type": "custom_field_setting",
                "is_important": True,
                "project": self.ref(p.gid),
                "custom_field": self.custom_field_def(self.objects[cf_gid]),
            }
            for cf_gid in p.data["custom_fields"]
        ]
        return {"data": [project(s, tree) for s in settings], "next_page": None}

    def _events(self, request: Request) -> Any:
        resource = request.arg("resource")
        if not resource:
            raise HTTPError(400, "resource: Missing input")
        obj = self.get(resource)
        if obj is None:
            raise HTTPError(404, f"resource: Unknown object: {resource}")
        if obj.kind == "project":
            self._need(resource, "project")
        stream = self.events.get(resource, [])
        sync = request.arg("sync")
        found = self._syncs.get(sync) if sync else None
        if found is None or found[0] != resource:
            raise HTTPError(412, SYNC_INVALID, sync=self._new_sync(resource, len(stream)))
        pos = found[1]
        chunk = stream[pos : pos + 100]
        return {
            "data": chunk,
            "sync": self._new_sync(resource, pos + len(chunk)),
            "has_more": pos + len(chunk) < len(stream),
        }

    def _new_sync(self, resource: str, pos: int) -> str:
        token = f"{next(self._sync_ids):08x}{int(resource) % 16**24:024x}:{pos}"
        self._syncs[token] = (resource, pos)
        return token


def _form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("Content-Type") or ""
    if ctype.lower().startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + request.body
        )
        out = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                out[name] = (
                    part.get_content().strip()
                    if isinstance(part.get_content(), str)
                    else part.get_content().decode()
                )
        return out
    body = request.json()
    data = body.get("data", body) if isinstance(body, dict) else {}
    return {k: str(v) for k, v in data.items()}
