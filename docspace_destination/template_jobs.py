"""Rooms made from room templates, through the portal's single template job slot.

DocSpace runs one room-from-template job per portal: a start request while another
job runs returns that job instead of queueing ours. So jobs are started one at a
time (a lock), an already running job (another client's) is waited out first, the
status is polled with backoff, and the room the finished job names is accepted only
if it carries our marker tag.

What the status can say (server v3.7.2): reading it does not clear it; a finished job's
status disappears 60–70 s after completion (the task queue's cleaner,
common/ASC.Common/Threading/DistributedTaskQueue.cs), so a slow poll can find `null`
for a job that did run — then the room is found by its marker. `error` is `""` on
success; on failure the half-made room is deleted but `roomId` still names it
(products/ASC.Files/Core/RoomTemplates/Operations/CreateRoomFromTemplateOperation.cs,
DoJob), so a room is never taken from a failed job. `roomId` is -1 until the room exists.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from docspace_destination.adoption import has_marker
from docspace_destination.client import AmbiguousWriteError, DocSpaceClient, DocSpaceError

JOB_TIMEOUT = 300.0


class TemplateJobFailed(Exception):
    """The portal's template job failed or did not finish in time."""


class TemplateJobs:
    def __init__(self, client: DocSpaceClient, timeout: float = JOB_TIMEOUT) -> None:
        self.client = client
        self.timeout = timeout
        self._slot = threading.Lock()

    def create_room(
        self,
        template_id: int,
        title: str,
        *,
        tags: list[str],
        private: bool,
        before_start: Callable[[], None] = lambda: None,
    ) -> dict[str, Any] | None:
        """The room our job made (tagged with tags[0], the marker), or None when the slot ran
        someone else's job and ours was dropped — the caller looks again and retries."""
        marker = tags[0]
        with self._slot:
            self.wait()
            before_start()
            try:
                started = self.client.create_room_from_template(
                    template_id, title, private=private, tags=tags
                )
            except AmbiguousWriteError:
                started = None  # the status below tells whether it started
            job = self.wait()
            if job is None:
                # the status vanished before we read it (or the job never started): only the
                # marker can tell whether our room exists
                return self._room_by_marker(marker)
            if job.get("error"):
                raise TemplateJobFailed(f"room template job failed: {job['error']}")
            room_id = int(job.get("roomId") or (started or {}).get("roomId") or 0)
            if room_id <= 0:
                return self._room_by_marker(marker)
            try:
                room = self.client.get_room(room_id)
            except DocSpaceError as exc:
                if exc.status == 404:  # not there (any more): not a room we can take
                    return None
                raise
            return room if has_marker(room, marker) else None

    def _room_by_marker(self, marker: str) -> dict[str, Any] | None:
        found = [
            r for r in self.client.list_rooms(area="any", tags=[marker]) if has_marker(r, marker)
        ]
        if len(found) > 1:
            ids = ", ".join(str(r["id"]) for r in found)
            raise TemplateJobFailed(
                f"{len(found)} rooms carry the marker tag {marker!r} (ids {ids})"
            )
        return found[0] if found else None

    def wait(self) -> dict[str, Any] | None:
        """Poll the portal's template job until it is complete (backing off); its last status."""
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        while True:
            status = self.client.template_job_status()
            if not status or status.get("isCompleted") or status.get("error"):
                return status
            if time.monotonic() > deadline:
                raise TemplateJobFailed(
                    f"the portal's room template job did not finish in {self.timeout:.0f}s"
                )
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
