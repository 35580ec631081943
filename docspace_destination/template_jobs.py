"""Rooms made from room templates, through the portal's single template job slot.

DocSpace runs one room-from-template job per portal: a start request while another
job runs returns that job instead of queueing ours. So jobs are started one at a
time (a lock), an already running job (another client's) is waited out first, the
status is polled with backoff, and the room the finished job names is accepted only
if it carries our marker tag.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from docspace_destination.client import AmbiguousWriteError, DocSpaceClient

JOB_TIMEOUT = 300.0


class TemplateJobFailed(Exception):
    """The portal's template job failed or did not finish in time."""


def tag_names(room: dict[str, Any]) -> set[str]:
    tags = room.get("tags") or []
    return {t if isinstance(t, str) else str(t.get("name", "")) for t in tags}


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
                job = self.client.create_room_from_template(
                    template_id, title, private=private, tags=tags
                )
            except AmbiguousWriteError:
                job = None  # the status below tells whether it started
            job = self.wait() or job or {}
            if job.get("error"):
                raise TemplateJobFailed(f"room template job failed: {job['error']}")
            room_id = job.get("roomId")
            if room_id:
                room = self.client.get_room(int(room_id))
                if marker in tag_names(room):
                    return room
            return None

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
