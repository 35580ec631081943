"""DocSpace's file operations (moves, archive, unarchive) as the client sends and follows them.

The portal runs a move later, as a file operation, and forgets a finished operation once
anyone reads it — and every move reply lists all of the user's move operations — so the
client keeps the final state of every finished operation it sees, for whichever thread
waits on it. Which moves are safe to send is `fileops.py`'s business.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from docspace_destination.errors import DocSpaceError


def operation_finished(op: dict[str, Any]) -> bool:
    """A file operation is over: `finished`, or status Completed/Canceled/Failed (>= 2)."""
    try:
        status = int(op.get("status") or 0)
    except (TypeError, ValueError):
        status = 0
    return bool(op.get("finished")) or status >= 2


class FileOperationsApi:
    """The file-operation endpoints; mixed into `DocSpaceClient`, over its `call`."""

    call: Callable[..., Any]  # the transport's (api_transport.ApiTransport.call)

    def __init__(self) -> None:
        self._ops_lock = threading.Lock()
        self._finished_ops: dict[str, dict[str, Any]] = {}  # seen finished, not yet claimed

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
        has an unknown outcome: read the object it changed. A poll of work under way, not a
        retry: nothing is sent again.
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
