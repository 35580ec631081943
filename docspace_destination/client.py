"""A thin typed client for the DocSpace API v2.0: envelope, errors, retries, pacing.

Reads and idempotent writes are retried on 429/5xx/connection errors. Creates
are never retried blindly: an ambiguous failure (timeout, dropped connection,
5xx) surfaces as :class:`AmbiguousWriteError` so the caller can look before it
creates again. 429 is safe to retry for every method: the portal rejects the
request before doing anything.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import HTTPError as TransportError

from pm_runtime.errors import UserFacingError
from pm_runtime.transport import require_secure_url

PAGE_SIZE = 100
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

    def __init__(self, status: int, message: str, where: str) -> None:
        super().__init__(f"{where}: {status} {message}")
        self.status = status
        self.message = message
        self.where = where


class AmbiguousWriteError(DocSpaceError):
    """A write whose outcome is unknown: it may have been applied. Look before retrying."""


class DocSpaceAuthError(UserFacingError):
    """Bad or missing API key: nothing can proceed."""


def room_type_id(value: str | int) -> int:
    """Room type from config: a number or a name (`Collaboration`, `CustomRoom`, `VirtualDataRoom`...)."""
    if isinstance(value, int) or str(value).isdigit():
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
    """Slows callers down when the portal says the window is nearly spent (X-RateLimit-*)."""

    def __init__(self, reserve_fraction: float = 0.1) -> None:
        self.reserve_fraction = reserve_fraction
        self._until = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            delay = self._until - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def observe(self, headers: Any) -> None:
        remaining, limit = headers.get("X-RateLimit-Remaining"), headers.get("X-RateLimit-Limit")
        if remaining is None or limit is None:
            return
        try:
            remaining_n, limit_n = int(remaining), int(limit)
        except ValueError:
            return
        if limit_n <= 0 or remaining_n > limit_n * self.reserve_fraction:
            return
        reset = _seconds_until(headers.get("X-RateLimit-Reset"))
        if reset:
            # spread what is left of the window over the time until it resets
            self.hold(reset / max(remaining_n, 1))


def _seconds_until(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 0.0


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
    ) -> None:
        root = require_secure_url(base_url, "destination.docspace.base_url")
        self.api = root.removesuffix("/api/2.0") + "/api/2.0"
        self.portal = root.removesuffix("/api/2.0")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff
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
        status = 0
        for attempt in range(1, self.max_attempts + 1):
            self.pacer.wait()
            self.stats.count(method)
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
                if not idempotent:
                    raise AmbiguousWriteError(
                        0, f"no reply ({type(exc).__name__})", where
                    ) from None
                self._sleep_before_retry(attempt, None)
                continue
            status = resp.status
            if status == 429:
                self.stats.note("throttled")
                self._sleep_before_retry(attempt, resp.headers.get("Retry-After"), hold=True)
                continue
            if status >= 500:
                if not idempotent:
                    raise AmbiguousWriteError(status, _error_message(resp), where)
                self._sleep_before_retry(attempt, resp.headers.get("Retry-After"))
                continue
            if status == 401:
                raise DocSpaceAuthError(
                    "DocSpace rejected the API key (401): check destination.docspace.api_key"
                )
            return self._unwrap(resp, where)
        raise DocSpaceError(status, "gave up after retries", where)

    def _sleep_before_retry(
        self, attempt: int, retry_after: str | None, hold: bool = False
    ) -> None:
        if attempt >= self.max_attempts:
            return
        self.stats.note("retries")
        wait = _seconds_until(retry_after) if retry_after else 0.0
        if not wait:
            wait = self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random())
        wait = min(wait, 60.0)
        if hold:
            self.pacer.hold(wait)
            self.pacer.wait()
        else:
            time.sleep(wait)

    def _unwrap(self, resp: urllib3.BaseHTTPResponse, where: str) -> Any:
        ok = 200 <= resp.status < 400
        try:
            data = json.loads(resp.data) if resp.data else None
        except ValueError:
            if ok:
                return None
            raise DocSpaceError(resp.status, _error_message(resp), where) from None
        self.pacer.observe(resp.headers)
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
        params: dict[str, Any] = {"searchArea": SEARCH_AREA[area]}
        if tags:
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
        body = {"templateId": template_id, "title": title, "private": private, "tags": tags or []}
        return self.call("POST", "/files/rooms/fromtemplate", body=body, idempotent=False)

    def template_job_status(self) -> dict[str, Any] | None:
        """The portal's current (or last) room-from-template job; None when there is none."""
        return self.call("GET", "/files/rooms/fromtemplate/status") or None

    def get_room(self, room_id: int) -> dict[str, Any]:
        return self.call("GET", f"/files/rooms/{room_id}")

    def create_room(
        self, title: str, room_type: int, *, private: bool = False, tags: list[str] | None = None
    ) -> dict[str, Any]:
        body = {"title": title, "roomType": room_type, "private": private, "tags": tags or []}
        return self.call("POST", "/files/rooms", body=body, idempotent=False)

    def rename_room(self, room_id: int, title: str) -> dict[str, Any]:
        return self.call("PUT", f"/files/rooms/{room_id}", body={"title": title}, idempotent=True)

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
        return self.call(
            "POST", f"/files/folder/{parent_id}", body={"title": title}, idempotent=False
        )

    def get_folder(self, folder_id: int) -> dict[str, Any]:
        return self.call("GET", f"/files/folder/{folder_id}")

    def rename_folder(self, folder_id: int, title: str) -> dict[str, Any]:
        return self.call(
            "PUT", f"/files/folder/{folder_id}", body={"title": title}, idempotent=True
        )

    def subfolders(self, folder_id: int) -> list[dict[str, Any]]:
        """The folders directly inside a room or folder (every page)."""
        return [f for page in self._pages(f"/files/{folder_id}") for f in page.get("folders") or []]

    def move_folder(self, folder_id: int, dest_id: int, *, conflict: str = "Skip") -> list[Any]:
        """Publish a move of a folder (with its contents); returns the operations, usually unfinished.

        The folder moves when the operation runs, a moment later. `conflict` is the
        server's conflictResolveType; see Applier._move for which one is safe when
        (api-notes, "Moves"). Never retried: the caller reads where the folder is
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


def _error_message(resp: urllib3.BaseHTTPResponse, data: Any = None) -> str:
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
    text = (resp.data or b"").decode("utf-8", "replace").strip()
    if not text or text.startswith("<"):
        return resp.reason or f"HTTP {resp.status}"
    return text[:200]
