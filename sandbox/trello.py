"""A Trello REST API emulator (`/1/...`), faithful to the traps in Trello's REST API docs.

Bare JSON (no envelope, no paging metadata); `?key=&token=` auth with plain-text 401s;
most 4xx bodies plain text; every list call capped at 1000 items and paged newest-first
with `before`/`since` (an ObjectId or an ISO date); labels and actions default to 50;
`/boards/{id}/cards` returns open cards only; rate limits of 100 requests / 10 s per
token and 300 / 10 s per key answered with a JSON 429 and **no** Retry-After, plus
`x-rate-limit-*` headers on every response.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from sandbox.http import Emulator, HTTPError, Request, Response
from sandbox.trello_extras import TrelloExtras
from sandbox.trello_files import TrelloFiles
from sandbox.trello_state import TrelloState, id_time, parse_iso

OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
MAX_LIMIT = 1000
MAX_ATTACHMENTS_PER_CARD = 100
NOT_FOUND = "The requested resource was not found."
NO_PERMISSION = "unauthorized permission requested"

BOARD_DEFAULT_FIELDS = [
    "name",
    "desc",
    "descData",
    "closed",
    "idOrganization",
    "pinned",
    "url",
    "shortUrl",
    "prefs",
    "labelNames",
]
MEMBER_DEFAULT_FIELDS = ["fullName", "username"]
CARD_FILTERS = {"all", "open", "closed", "visible"}
LIST_FILTERS = {"all", "open", "closed", "none"}


@dataclass
class TrelloRateLimits:
    """Trello's documented windows; None switches one off."""

    per_token: int | None = 100
    per_key: int | None = 300
    interval_seconds: float = 10.0


class _Window:
    """Arrival times in a sliding window; rejected requests count too, as on the real service."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def hit(self, now: float, interval: float) -> int:
        self.prune(now, interval)
        self.times.append(now)
        return len(self.times)

    def prune(self, now: float, interval: float) -> int:
        while self.times and self.times[0] <= now - interval:
            self.times.popleft()
        return len(self.times)


class TrelloEmulator(TrelloFiles, TrelloExtras, Emulator):
    service = "trello"
    api_prefix = "/1"

    def __init__(self, seed: int = 0, api_key: str = "key", token: str = "token") -> None:
        self._init_files()
        Emulator.__init__(self, seed)
        TrelloState.__init__(self, seed)
        self.api_key = api_key
        self.tokens: dict[str, str] = {token: self.me}
        self.rate_limits: TrelloRateLimits | None = TrelloRateLimits()
        self._windows: dict[str, _Window] = {}
        self._windows_lock = threading.Lock()

    def add_token(self, token: str, member_id: str) -> None:
        """Another member's token (e.g. one that cannot read some boards)."""
        with self.lock:
            self.tokens[token] = member_id

    # -- auth, limits, envelopes ----------------------------------------------------------

    def authenticate(self, request: Request) -> str | None:
        key, token = request.arg("key"), request.arg("token")
        header = request.headers.get("Authorization") or "" if request.headers else ""
        if header.startswith("OAuth "):
            parts = dict(re.findall(r'(\w+)="([^"]*)"', header))
            key, token = parts.get("oauth_consumer_key", key), parts.get("oauth_token", token)
        if self.refuses_query_auth(request):
            raise HTTPError(401, NO_PERMISSION)
        if key != self.api_key:
            raise HTTPError(401, "invalid key")
        if not token:
            raise HTTPError(401, NO_PERMISSION)
        if token not in self.tokens:
            raise HTTPError(401, "invalid token")
        return token

    def handle(self, request: Request) -> tuple[Response | None, str]:
        found = self.match(request.method, request.path)
        if found is not None and self.is_hosted_file(request):  # S3, not the Trello API
            request.route, request.params = found[0].template, found[1]
            with self.lock:
                return self._hosted_file(request), "ok"
        if found is not None and self.rate_limits is not None:
            try:
                token = self.authenticate(request)
            except HTTPError:
                token = None  # the base pipeline answers the 401
            if token is not None:
                which = self._count_request(token)
                if which:
                    request.route, request.token = found[0].template, token
                    return self._limited(which), "limited"
        return super().handle(request)

    def _count_request(self, token: str) -> str | None:
        limits = self.rate_limits
        assert limits is not None
        now = time.monotonic()
        with self._windows_lock:
            per_token = self._windows.setdefault("token:" + token, _Window()).hit(
                now, limits.interval_seconds
            )
            per_key = self._windows.setdefault("key", _Window()).hit(now, limits.interval_seconds)
        if limits.per_token is not None and per_token > limits.per_token:
            return "API_TOKEN_LIMIT_EXCEEDED"
        if limits.per_key is not None and per_key > limits.per_key:
            return "API_KEY_LIMIT_EXCEEDED"
        return None

    def _limited(self, error: str) -> Response:
        return Response(429, {"error": error, "message": "Rate limit exceeded"})

    def reset_limits(self) -> None:
        super().reset_limits()
        with self._windows_lock:
            self._windows.clear()

    def too_many_requests(
        self, request: Request, retry_after: float | None, reason: str
    ) -> Response:
        return self._limited("API_TOKEN_LIMIT_EXCEEDED")  # Trello never sends Retry-After

    def error(self, status: int, message: str, **extra: Any) -> Response:
        return Response(status, message)

    def not_found_route(self, request: Request) -> Response:
        return Response(404, f"Cannot {request.method} {request.path}")

    def decorate(self, request: Request, response: Response) -> None:
        limits = self.rate_limits
        if limits is None or request.token is None:
            return
        now = time.monotonic()
        with self._windows_lock:
            used_token = self._windows.get("token:" + request.token, _Window()).prune(
                now, limits.interval_seconds
            )
            used_key = self._windows.get("key", _Window()).prune(now, limits.interval_seconds)
        interval = str(int(limits.interval_seconds * 1000))
        for scope, cap, used in (
            ("token", limits.per_token, used_token),
            ("key", limits.per_key, used_key),
        ):
            if cap is not None:
                response.headers[f"x-rate-limit-api-{scope}-interval-ms"] = interval
                response.headers[f"x-rate-limit-api-{scope}-max"] = str(cap)
                response.headers[f"x-rate-limit-api-{scope}-remaining"] = str(max(0, cap - used))

    # -- lookups ----------------------------------------------------------------------------

    def _member_of(self, request: Request) -> str:
        return self.tokens[request.token or ""]

    def _board(self, request: Request, board_id: str) -> dict[str, Any]:
        if not OBJECT_ID.match(board_id):
            raise HTTPError(400, "invalid id")
        board = self.boards.get(board_id)
        if board is None:
            raise HTTPError(404, NOT_FOUND)
        if self._member_of(request) not in self.board_member_ids(board_id):
            raise HTTPError(401, NO_PERMISSION)
        return board

    def _card(self, request: Request, card_id: str) -> dict[str, Any]:
        if not OBJECT_ID.match(card_id):
            raise HTTPError(400, "invalid id")
        card = self.cards.get(card_id)
        if card is None:
            raise HTTPError(404, NOT_FOUND)
        self._board(request, card["idBoard"])
        return card

    @staticmethod
    def _fields(request: Request, default: list[str] | None) -> list[str] | None:
        """None means every field."""
        raw = request.arg("fields")
        if raw is None:
            return default
        names = [f.strip() for f in raw.split(",") if f.strip()]
        return None if "all" in names else names

    @staticmethod
    def _project(obj: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
        if fields is None:
            return dict(obj)
        out = {"id": obj["id"]}
        out.update({f: obj[f] for f in fields if f in obj})
        return out

    def _page(
        self,
        request: Request,
        items: list[dict[str, Any]],
        default_limit: int = MAX_LIMIT,
        by_date: bool = False,
    ) -> list[dict[str, Any]]:
        """Newest first, at most `limit` (≤1000), bounded by `before`/`since` (ObjectId or ISO date)."""
        limit = request.int_arg("limit", default_limit)
        if limit is None or limit < 0 or limit > MAX_LIMIT:
            raise HTTPError(400, "invalid value for limit")
        before, since = self._bound(request, "before"), self._bound(request, "since")

        def when(item: dict[str, Any]) -> float:
            return parse_iso(item["date"]) if by_date else float(id_time(item["id"]))

        selected = []
        for item in reversed(items):  # items are in id order; newest first
            if before is not None and not (
                item["id"] < before if isinstance(before, str) else when(item) < before
            ):
                continue
            if since is not None and not (
                item["id"] > since if isinstance(since, str) else when(item) > since
            ):
                continue
            selected.append(item)
            if len(selected) >= limit:
                break
        return selected

    @staticmethod
    def _bound(request: Request, name: str) -> str | float | None:
        raw = request.arg(name)
        if raw in (None, "", "null"):
            return None
        if OBJECT_ID.match(raw):
            return raw.lower()
        try:
            return parse_iso(raw)
        except ValueError:
            raise HTTPError(400, f"invalid value for {name}") from None

    # -- views --------------------------------------------------------------------------------

    def card_view(self, card: dict[str, Any], request: Request) -> dict[str, Any]:
        view = dict(card)
        view["labels"] = [dict(self.labels[lid]) for lid in card["idLabels"] if lid in self.labels]
        view["badges"] = {
            "attachments": len(self._attachments.get(card["id"], [])),
            "checkItems": sum(len(self.checklists[c]["checkItems"]) for c in card["idChecklists"]),
            "comments": 0,
            "description": bool(card["desc"]),
            "due": card["due"],
            "dueComplete": card["dueComplete"],
        }
        out = self._project(view, self._fields(request, None))
        if request.arg("attachments") == "true":
            out["attachments"] = self.inline_attachments(card["id"], request)
        if request.arg("customFieldItems") == "true":
            out["customFieldItems"] = [
                dict(i) for i in self.custom_field_items.get(card["id"], {}).values()
            ]
        return out

    def _member_view(self, mid: str, fields: list[str] | None) -> dict[str, Any]:
        return self._project(self.members[mid], fields)

    # -- routes ---------------------------------------------------------------------------------

    def register_routes(self) -> None:
        r = self.route

        @r("GET", "/members/me")
        def me(req: Request) -> Any:
            return self._member_view(self._member_of(req), self._fields(req, None))

        @r("GET", "/members/me/boards")
        def my_boards(req: Request) -> Any:
            who = self._member_of(req)
            flt = req.arg("filter", "all")
            fields = self._fields(req, None)
            out = []
            for bid, board in self.boards.items():
                if who not in self.board_member_ids(bid):
                    continue
                if (flt == "open" and board["closed"]) or (flt == "closed" and not board["closed"]):
                    continue
                out.append(self._project(board, fields))
            return out

        @r("GET", "/boards/{id}")
        def board(req: Request) -> Any:
            return self._project(
                self._board(req, req.params["id"]), self._fields(req, BOARD_DEFAULT_FIELDS)
            )

        def lists(req: Request, flt: str | None = None) -> Any:
            bid = self._board(req, req.params["id"])["id"]
            flt = flt or req.arg("filter", "open")
            if flt not in LIST_FILTERS:
                raise HTTPError(400, "invalid value for filter")
            fields = self._fields(req, None)
            out = []
            for lid in self.index[bid]["lists"]:  # `limit` is ignored: every list comes back
                lst = self.lists[lid]
                if (
                    flt == "none"
                    or (flt == "open" and lst["closed"])
                    or (flt == "closed" and not lst["closed"])
                ):
                    continue
                out.append(self._project(lst, fields))
            return sorted(out, key=lambda x: self.lists[x["id"]]["pos"])

        self.add_route("GET", "/boards/{id}/lists", lists)
        self.add_route(
            "GET", "/boards/{id}/lists/{filter}", lambda req: lists(req, req.params["filter"])
        )

        def cards(req: Request, flt: str) -> Any:
            bid = self._board(req, req.params["id"])["id"]
            if flt not in CARD_FILTERS:
                raise HTTPError(400, "invalid value for filter")
            chosen = []
            for cid in self.index[bid]["cards"]:
                card = self.cards[cid]
                if flt == "open" and card["closed"]:
                    continue
                if flt == "closed" and not card["closed"]:
                    continue
                if flt == "visible" and (card["closed"] or self.lists[card["idList"]]["closed"]):
                    continue
                chosen.append(card)
            return [self.card_view(c, req) for c in self._page(req, chosen)]

        self.add_route(
            "GET", "/boards/{id}/cards", lambda req: cards(req, req.arg("filter", "open") or "open")
        )
        self.add_route(
            "GET", "/boards/{id}/cards/{filter}", lambda req: cards(req, req.params["filter"])
        )

        @r("GET", "/boards/{id}/checklists")
        def checklists(req: Request) -> Any:
            bid = self._board(req, req.params["id"])["id"]
            items = [self.checklists[c] for c in self.index[bid]["checklists"]]
            fields = self._fields(req, None)
            out = []
            for cl in self._page(req, items):
                view = self._project(cl, fields)
                if req.arg("checkItems") != "none":
                    view["checkItems"] = [dict(i) for i in cl["checkItems"]]
                out.append(view)
            return out

        @r("GET", "/boards/{id}/labels")
        def labels(req: Request) -> Any:
            bid = self._board(req, req.params["id"])["id"]
            items = [self.labels[x] for x in self.index[bid]["labels"]]
            fields = self._fields(req, None)
            return [self._project(x, fields) for x in self._page(req, items, default_limit=50)]

        @r("GET", "/boards/{id}/members")
        def members(req: Request) -> Any:
            bid = self._board(req, req.params["id"])["id"]
            fields = self._fields(req, MEMBER_DEFAULT_FIELDS)
            return [self._member_view(m, fields) for m in self.board_member_ids(bid)]

        @r("GET", "/boards/{id}/customFields")
        def custom_fields(req: Request) -> Any:
            bid = self._board(req, req.params["id"])["id"]
            return [dict(self.custom_fields[f]) for f in self.index[bid]["fields"]]

        @r("GET", "/boards/{id}/actions")
        def actions(req: Request) -> Any:
            bid = self._board(req, req.params["id"])["id"]
            wanted = {t for t in (req.arg("filter") or "all").split(",") if t}
            items = [self.actions[a] for a in self.index[bid]["actions"]]
            if "all" not in wanted:
                items = [a for a in items if a["type"] in wanted]
            return [dict(a) for a in self._page(req, items, default_limit=50, by_date=True)]

        @r("GET", "/cards/{id}")
        def card(req: Request) -> Any:
            return self.card_view(self._card(req, req.params["id"]), req)

        @r("GET", "/cards/{id}/customFieldItems")
        def card_field_items(req: Request) -> Any:
            c = self._card(req, req.params["id"])
            return [dict(i) for i in self.custom_field_items.get(c["id"], {}).values()]

        @r("GET", "/cards/{id}/attachments")
        def card_attachments(req: Request) -> Any:
            return self.attachments(self._card(req, req.params["id"])["id"])

        self.register_file_routes()

        @r("POST", "/cards/{id}/attachments")
        def add_card_attachment(req: Request) -> Any:
            c = self._card(req, req.params["id"])
            body = req.json() if req.body else {}
            url = body.get("url") or req.arg("url")
            name = body.get("name") or req.arg("name")
            if not url or not re.match(r"^https?://", str(url)):
                raise HTTPError(400, "invalid value for url")
            if len(self._attachments.get(c["id"], [])) >= MAX_ATTACHMENTS_PER_CARD:
                raise HTTPError(403, "Card has too many attachments")
            return self.add_attachment(c["id"], str(url), name)

        @r("DELETE", "/cards/{id}/attachments/{idAttachment}")
        def delete_card_attachment(req: Request) -> Any:
            c = self._card(req, req.params["id"])
            if not OBJECT_ID.match(req.params["idAttachment"]):
                raise HTTPError(400, "invalid id")
            if not self.delete_attachment(c["id"], req.params["idAttachment"]):
                raise HTTPError(404, NOT_FOUND)
            return {"limits": {}}
