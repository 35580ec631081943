"""A thin typed client for the DocSpace API v2.0: envelope, errors, retries, pacing.

Reads and idempotent writes are retried on 429/5xx/connection errors. Creates
are never retried blindly: an ambiguous failure (timeout, dropped connection,
5xx) surfaces as :class:`AmbiguousWriteError` so the caller can look before it
creates again. 429 is safe to retry for every method: the portal rejects the
request before doing anything. The daily write limit's 429 (a Retry-After of hours)
is not retried: it raises :class:`WriteLimitReached` with the reset time, and the
apply stops. Titles are cut to the API's limits before they are sent
(:func:`~docspace_destination.titles.fit_title`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import HTTPError as TransportError

from docspace_destination.titles import FOLDER_TITLE_MAX, ROOM_TITLE_MAX, fit_title
from pm_runtime import http_policy
from pm_runtime.errors import UserFacingError
from pm_runtime.transport import require_secure_url

PAGE_SIZE = 100
# a 429 whose Retry-After is longer than this is the daily window: stop, don't wait
MAX_RETRY_AFTER = 60.0
# 429s without Retry-After: ~2 minutes of backing off at most, enough for the 1-minute window
MAX_THROTTLED_RETRIES = 12
THROTTLE_WAIT_CAP = 16.0
SEARCH_AREA = {"active": 0, "archive": 1, "any": 2, "templates": 4}
ROOM_TYPES = {
    "fillingformsroom": 1,
    "filling_forms": 1,
    "editingroom": 2,
    "collaboration": 2,
    "customroom": 5,
    "custom": 5,
    "publicroom": 6,
    "public": 6,
    "virtualdataroom": 8,
    "vdr": 8,
    "airoom": 9,
}


class DocSpaceError(Exception):
    """DocSpace refused a request; `status` is the HTTP status, the message is the server's."""

    service = "DocSpace"  # how `pm_runtime.failures` names it in the one-line error

    def __init__(self, status: int, message: str, where: str) -> None:
        super().__init__(f"{where}: {status} {message}")
        self.status = status
        self.message = message
        self.where = where


class AmbiguousWriteError(DocSpaceError, http_policy.AmbiguousWriteError):
    """A write whose outcome is unknown: it may have been applied. Look before retrying.

    A DocSpaceError (status, message, where) that is also the one "outcome unknown" error of
    every client (`pm_runtime.http_policy`)."""


class WriteLimitReached(DocSpaceError):
    """DocSpace's daily write limit (10,000 POST+PUT per user) is spent until `resets_at`.

    Nothing more can be written today: the run stops cleanly, the next run continues.
    """

    def __init__(self, resets_at: datetime, where: str) -> None:
        super().__init__(
            429, f"daily write limit reached; it resets at {resets_at:%Y-%m-%d %H:%M} UTC", where
        )
        self.resets_at = resets_at


def _reset_time(headers: Any, retry_after: float) -> datetime:
    """When the daily window ends: X-RateLimit-Reset (Unix seconds), else now + Retry-After."""
    try:
        epoch = float(headers.get("X-RateLimit-Reset") or 0)
    except ValueError:
        epoch = 0.0
    if epoch < 1e9:  # absent or not an epoch: count from now
        epoch = time.time() + retry_after
    return datetime.fromtimestamp(epoch, UTC)


class DocSpaceAuthError(UserFacingError):
    """Bad or missing API key: nothing can proceed."""


def room_type_id(value: str | int) -> int:
    """Room type from config: a number or a name (`Collaboration`, `CustomRoom`, `VirtualDataRoom`...)."""
    if isinstance(value, int) or str(value).isdigit():
        if int(value) not in set(ROOM_TYPES.values()):
            raise ValueError(
                f"{value!r} is not a DocSpace room type; use one of "
                f"{sorted(set(ROOM_TYPES.values()))} or a name ({', '.join(sorted(ROOM_TYPES))})"
            )
        return int(value)
    key = str(value).replace(" ", "").replace("-", "").lower()
    if key not in ROOM_TYPES:
        raise ValueError(
            f"unknown room type {value!r}; use one of {sorted(set(ROOM_TYPES))} or a number"
        )
    return ROOM_TYPES[key]


@dataclass
class RequestStats:
    reads: int = 0
    writes: int = 0
    retries: int = 0
    throttled: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, method: str) -> None:
        with self._lock:
            if method == "GET":
                self.reads += 1
            else:
                self.writes += 1

    def note(self, attr: str) -> None:
        with self._lock:
            setattr(self, attr, getattr(self, attr) + 1)

    @property
    def total(self) -> int:
        return self.reads + self.writes


class Pacer:
    """How many requests of a kind (reads, writes) a client keeps in flight, learnt from 429s.

    DocSpace gives nothing to pace on before it refuses: successful replies carry no
    ``X-RateLimit-*`` headers (the server only *documents* them, in
    common/ASC.Api.Core/Extensions/RateLimitOperationFilter.cs; at run time they are set only by
    RedisRateLimiting.AspNetCore's ``RateLimitMetadata.OnRejected``, i.e. on a 429), and the
    concurrency and per-minute 429s carry no ``Retry-After``. So the pacer reads no headers: a
    429 halves the number of requests of that kind allowed in flight (at most once per
    `calm` seconds, so one burst of refusals counts once) and each success lets it grow by
    about one per round trip again (additive increase, multiplicative decrease) — other
    clients of the same user share DocSpace's 15 concurrent writes. Each refused request
    also waits its own jittered, growing backoff before it is sent again.
    """

    def __init__(self, max_in_flight: int = 64, calm: float = 0.1) -> None:
        self.max_in_flight = max_in_flight
        self.calm = calm
        self._cond = threading.Condition()
        self._in_flight = {"read": 0, "write": 0}
        self._limit = {"read": float(max_in_flight), "write": float(max_in_flight)}
        self._cut_at = {"read": 0.0, "write": 0.0}

    def limit(self, kind: str) -> int:
        with self._cond:
            return int(self._limit[kind])

    def acquire(self, kind: str) -> None:
        with self._cond:
            while self._in_flight[kind] >= int(self._limit[kind]):
                self._cond.wait()
            self._in_flight[kind] += 1

    def release(self, kind: str, throttled: bool) -> None:
        with self._cond:
            self._in_flight[kind] -= 1
            limit = self._limit[kind]
            now = time.monotonic()
            if throttled:
                if now - self._cut_at[kind] >= self.calm:
                    self._limit[kind] = max(1.0, limit / 2)
                    self._cut_at[kind] = now
            else:
                self._limit[kind] = min(float(self.max_in_flight), limit + 1 / limit)
            self._cond.notify_all()


class DocSpaceClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 6,
        backoff: float = 0.5,
        pool_size: int = 32,
        max_retry_after: float = MAX_RETRY_AFTER,
        max_throttled_retries: int = MAX_THROTTLED_RETRIES,
    ) -> None:
        root = require_secure_url(base_url, "destination.docspace.base_url")
        self.api = root.removesuffix("/api/2.0") + "/api/2.0"
        self.portal = root.removesuffix("/api/2.0")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_throttled_retries = max_throttled_retries
        self.stats = RequestStats()
        self.pacer = Pacer()
        self._ops_lock = threading.Lock()
        self._finished_ops: dict[str, dict[str, Any]] = {}  # seen finished, not yet claimed
        # urllib3 directly: at DocSpace's 15 concurrent writes, requests' per-call overhead was
        # the bottleneck of a large apply (client CPU, not the network)
        self._pool = urllib3.PoolManager(num_pools=4, maxsize=pool_size, retries=False)
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }

    def close(self) -> None:
        self._pool.clear()

    # -- transport -------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """One API call; returns the envelope's `response`. Raises DocSpaceError / AmbiguousWriteError."""
        idempotent = method == "GET" if idempotent is None else idempotent
        where = f"{method} {path}"
        url = self.api + path
        if params:
            url += "?" + urlencode(params)
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        status, failures, throttles = 0, 0, 0
        kind = "read" if method == "GET" else "write"
        while True:
            self.stats.count(method)
            self.pacer.acquire(kind)
            resp, failure = None, None
            try:
                resp = self._pool.request(
                    method,
                    url,
                    body=payload,
                    headers=self._headers,
                    timeout=self.timeout,
                    redirect=False,
                    preload_content=True,
                )
            except TransportError as exc:
                failure = exc
            finally:
                self.pacer.release(kind, throttled=resp is not None and resp.status == 429)
            if resp is None:
                if not idempotent:
                    raise AmbiguousWriteError(
                        0, f"no reply ({type(failure).__name__})", where
                    ) from None
                failures += 1
                if failures >= self.max_attempts:
                    break
                self._sleep_before_retry(failures, None)
                continue
            status = resp.status
            if status == 429:
                # 429 is answered before the request runs, so it is safe to repeat any method
                self.stats.note("throttled")
                throttles += 1
                self._back_off_throttled(throttles, resp.headers, where)
                continue
            if status >= 500:
                if not idempotent:
                    raise AmbiguousWriteError(status, _error_message(resp), where)
                failures += 1
                if failures >= self.max_attempts:
                    break
                self._sleep_before_retry(failures, resp.headers.get("Retry-After"))
                continue
            if status == 401:
                raise DocSpaceAuthError(
                    "DocSpace rejected the API key (401): check destination.docspace.api_key"
                )
            return self._unwrap(resp, where)
        why = "gave up after retries" if status else f"no connection after {failures} attempts"
        raise DocSpaceError(status, why, where)

    def _back_off_throttled(self, throttles: int, headers: Any, where: str) -> None:
        """Wait out a 429, or raise WriteLimitReached when the wait is the daily window's.

        The server's limiter chain (common/ASC.Api.Core/Core/BaseStartup.cs, AddRateLimiter)
        answers 429 with an empty body from three limiters: concurrency (15 non-GET / 50 GET in
        flight) and the 1-minute sliding window send only X-RateLimit-Limit/Remaining, so we back
        off on our own (exponential, jittered, the whole pool held); the daily fixed window
        (10,000 POST+PUT) also sends Retry-After (seconds to the window's end, up to a day) and
        X-RateLimit-Reset (its end as Unix seconds) — RedisRateLimiting 1.2.1,
        RedisFixedWindowRateLimiter.TryGetMetadata. A long Retry-After means "come back
        tomorrow": retrying would only spend the run, so the caller stops.
        """
        retry_after = http_policy.parse_retry_after(headers.get("Retry-After")) or 0.0
        if retry_after > self.max_retry_after:
            raise WriteLimitReached(_reset_time(headers, retry_after), where)
        if throttles > self.max_throttled_retries:
            raise DocSpaceError(429, f"still rate limited after {throttles - 1} retries", where)
        self.stats.note("retries")
        time.sleep(retry_after or self._backoff(throttles, THROTTLE_WAIT_CAP))

    def _sleep_before_retry(self, attempt: int, retry_after: str | None) -> None:
        self.stats.note("retries")
        wait = http_policy.parse_retry_after(retry_after) or self._backoff(attempt, 60.0)
        time.sleep(min(wait, 60.0))

    def _backoff(self, attempt: int, cap: float) -> float:
        """The shared jittered backoff from this client's base (`backoff`, 0 in fast tests);
        its ceiling grows 1.5x the base per doubling, as this client always waited."""
        return http_policy.backoff(attempt - 1, base=1.5 * self.backoff, cap=cap)

    def _unwrap(self, resp: urllib3.BaseHTTPResponse, where: str) -> Any:
        ok = 200 <= resp.status < 400
        try:
            data = json.loads(resp.data) if resp.data else None
        except ValueError:
            if ok:
                return None
            raise DocSpaceError(resp.status, _error_message(resp), where) from None
        if not ok or (isinstance(data, dict) and (data.get("status") == 1 or "error" in data)):
            raise DocSpaceError(resp.status, _error_message(resp, data), where)
        return data.get("response") if isinstance(data, dict) else data

    def _pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a `{files, folders, total}` listing, following startIndex."""
        start = 0
        while True:
            page = self.call(
                "GET", path, params={**(params or {}), "count": PAGE_SIZE, "startIndex": start}
            )
            yield page
            got = len(page.get("folders") or []) + len(page.get("files") or [])
            total = page.get("total")
            start += got
            if got == 0 or (total is not None and start >= int(total)) or got < PAGE_SIZE:
                return

    # -- rooms -----------------------------------------------------------------

    def list_rooms(
        self,
        *,
        area: str = "any",
        tags: list[str] | None = None,
        filter_value: str | None = None,
    ) -> list[dict[str, Any]]:
        """Rooms in `area`, optionally those carrying any of `tags` (case-insensitive on MySQL).

        No `sortBy`: the server saves it as the caller's default sort order (a side effect in
        their web UI). An empty `tags` list is never sent: `tags=[]` means "no filter" and
        returns every room (VirtualRoomsController.GetRoomsFolderAsync → FolderDao
        `searchByTags = tags != null && tags.Any()`), so asking with no markers asks nothing.
        """
        params: dict[str, Any] = {"searchArea": SEARCH_AREA[area]}
        if tags is not None:
            tags = [t for t in tags if t]
            if not tags:
                return []
            params["tags"] = json.dumps(tags, ensure_ascii=False)
        if filter_value:
            params["filterValue"] = filter_value
        return [
            room
            for page in self._pages("/files/rooms", params)
            for room in page.get("folders") or []
        ]

    def room_templates(self) -> list[dict[str, Any]]:
        return self.list_rooms(area="templates")

    def create_room_from_template(
        self, template_id: int, title: str, *, private: bool = False, tags: list[str] | None = None
    ) -> dict[str, Any]:
        """Start a job (the portal runs one at a time): `{roomId, progress, error, isCompleted}`."""
        # the server cuts fromtemplate titles itself; fitting them too keeps the stored title ours
        body = {
            "templateId": template_id,
            "title": fit_title(title, ROOM_TITLE_MAX),
            "private": private,
            "tags": _tag_list(tags),
        }
        return self.call("POST", "/files/rooms/fromtemplate", body=body, idempotent=False)

    def template_job_status(self) -> dict[str, Any] | None:
        """The portal's current (or last) room-from-template job; None when there is none."""
        return self.call("GET", "/files/rooms/fromtemplate/status") or None

    def get_room(self, room_id: int) -> dict[str, Any]:
        return self.call("GET", f"/files/rooms/{room_id}")

    def create_room(
        self, title: str, room_type: int, *, private: bool = False, tags: list[str] | None = None
    ) -> dict[str, Any]:
        body = {
            "title": fit_title(title, ROOM_TITLE_MAX),
            "roomType": room_type,
            "private": private,
            "tags": _tag_list(tags),
        }
        return self.call("POST", "/files/rooms", body=body, idempotent=False)

    def rename_room(self, room_id: int, title: str) -> dict[str, Any]:
        body = {"title": fit_title(title, ROOM_TITLE_MAX)}
        return self.call("PUT", f"/files/rooms/{room_id}", body=body, idempotent=True)

    def add_room_tags(self, room_id: int, names: list[str]) -> dict[str, Any]:
        return self.call(
            "PUT", f"/files/rooms/{room_id}/tags", body={"names": names}, idempotent=True
        )

    def archive_room(self, room_id: int) -> Any:
        return self.call(
            "PUT", f"/files/rooms/{room_id}/archive", body={"deleteAfter": False}, idempotent=True
        )

    def unarchive_room(self, room_id: int) -> Any:
        return self.call(
            "PUT", f"/files/rooms/{room_id}/unarchive", body={"deleteAfter": False}, idempotent=True
        )

    # -- folders ---------------------------------------------------------------

    def create_folder(self, parent_id: int, title: str) -> dict[str, Any]:
        body = {"title": fit_title(title, FOLDER_TITLE_MAX)}
        return self.call("POST", f"/files/folder/{parent_id}", body=body, idempotent=False)

    def get_folder(self, folder_id: int) -> dict[str, Any]:
        return self.call("GET", f"/files/folder/{folder_id}")

    def rename_folder(self, folder_id: int, title: str) -> dict[str, Any]:
        body = {"title": fit_title(title, FOLDER_TITLE_MAX)}
        return self.call("PUT", f"/files/folder/{folder_id}", body=body, idempotent=True)

    def subfolders(self, folder_id: int) -> list[dict[str, Any]]:
        """The folders directly inside a room or folder (every page)."""
        return [f for page in self._pages(f"/files/{folder_id}") for f in page.get("folders") or []]

    def move_folder(self, folder_id: int, dest_id: int, *, conflict: str = "Skip") -> list[Any]:
        """Publish a move of a folder (with its contents); returns the operations, usually unfinished.

        The folder moves when the operation runs, a moment later. `conflict` is the
        server's conflictResolveType; see Applier._move for which one is safe when
        (docs/docspace-behaviour.md, "Moves"). Never retried: the caller reads where the folder is
        before it sends a move again.
        """
        ops = self.call(
            "PUT",
            "/files/fileops/move",
            body={
                "folderIds": [folder_id],
                "fileIds": [],
                "destFolderId": dest_id,
                "conflictResolveType": conflict,
                "deleteAfter": False,  # holdResult: a finished result stays until read once
                # only this operation: listing all of them would also consume others' results
                "returnSingleOperation": True,
            },
            idempotent=False,
        )
        return self._remember_operations(ops)

    def _remember_operations(self, ops: Any) -> list[Any]:
        """Keep the final state of every finished operation a reply shows.

        The portal forgets a finished operation once anyone reads it — and every
        move reply lists all of the user's move operations — so one thread's read
        may be the only sight of another thread's result.
        """
        if isinstance(ops, dict):
            ops = [ops]
        ops = [op for op in ops or [] if isinstance(op, dict)]
        with self._ops_lock:
            for op in ops:
                if op.get("id") and operation_finished(op):
                    self._finished_ops[str(op["id"])] = op
        return ops

    def file_operations(self) -> list[dict[str, Any]]:
        """`GET /files/fileops`: the user's queued and running operations, and finished ones once."""
        return self._remember_operations(self.call("GET", "/files/fileops"))

    def running_operations(self) -> list[dict[str, Any]]:
        """The user's file operations that have not finished (status 0 created, 1 running)."""
        return [op for op in self.file_operations() if not operation_finished(op)]

    def finish_operations(
        self, ops: Any, timeout: float = 30.0
    ) -> dict[str, dict[str, Any] | None]:
        """Wait until the given operations finish; their final states, None for one that vanished.

        A vanished operation (read by someone else, or dropped by the portal's cleaner)
        has an unknown outcome: read the object it changed.
        """
        ops = self._remember_operations(ops)
        pending = {str(op["id"]) for op in ops if op.get("id") and not operation_finished(op)}
        final: dict[str, dict[str, Any] | None] = {
            str(op["id"]): op for op in ops if op.get("id") and operation_finished(op)
        }
        deadline = time.monotonic() + timeout
        delay = 0.05
        while pending:
            if time.monotonic() > deadline:
                raise DocSpaceError(
                    0,
                    f"file operation(s) {sorted(pending)} did not finish in {timeout:.0f}s",
                    "fileops",
                )
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
            listed = {str(op.get("id")): op for op in self.file_operations()}
            for op_id in list(pending):
                with self._ops_lock:
                    done = self._finished_ops.pop(op_id, None)
                if done is not None or op_id not in listed:
                    final[op_id] = done
                    pending.discard(op_id)
        with self._ops_lock:
            for op_id in final:
                self._finished_ops.pop(op_id, None)
        return final

    def wait_for_operations(self, ops: Any, timeout: float = 30.0) -> None:
        """Wait until the given operations finish; an error one reports (with HTTP 200) is raised."""
        for op_id, op in self.finish_operations(ops, timeout).items():
            if op is not None and op.get("error"):
                raise DocSpaceError(0, str(op["error"]), f"fileops {op_id}")

    def settle_operations(self, timeout: float = 60.0) -> None:
        """Wait for every file operation of this user that is queued or running now.

        The list does not say which folder an operation moves, so after a crash or a
        lost reply this is how to be sure nothing sent earlier is still on its way.
        """
        running = self.running_operations()
        if running:
            self.finish_operations(running, timeout)

    def folder_url(self, folder_id: int, room_id: int | None = None) -> str:
        """The web link of a room or a folder inside a room."""
        room = room_id if room_id is not None else folder_id
        return f"{self.portal}/rooms/shared/{room}/filter?folder={folder_id}"


def operation_finished(op: dict[str, Any]) -> bool:
    """A file operation is over: `finished`, or status Completed/Canceled/Failed (>= 2)."""
    try:
        status = int(op.get("status") or 0)
    except (TypeError, ValueError):
        status = 0
    return bool(op.get("finished")) or status >= 2


def _tag_list(tags: list[str] | None) -> list[str]:
    return [t for t in (tags or []) if t]


def _error_message(resp: urllib3.BaseHTTPResponse, data: Any = None) -> str:
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
        # a failed [StringLength]/model check: ASP.NET's ValidationProblemDetails, wrapped in the
        # success envelope with status 1 (common/ASC.Api.Core/Middleware/CommonApiResponse.cs)
        problem = data.get("response")
        if isinstance(problem, dict) and isinstance(problem.get("errors"), dict):
            lines = [str(m) for msgs in problem["errors"].values() for m in (msgs or [])]
            if lines:
                return "; ".join(lines)[:300]
    text = (resp.data or b"").decode("utf-8", "replace").strip()
    if not text or text.startswith("<"):
        return resp.reason or f"HTTP {resp.status}"
    return text[:200]
