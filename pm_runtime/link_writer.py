"""The write-back contract: a source's client that puts link attachments on its records.

The destination (`docspace_destination.writeback`) decides which links a record needs and
calls a source's `LinkWriter`; the source's package implements it over its own client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pm_runtime.http_policy import AmbiguousWriteError

__all__ = ["AmbiguousWriteError", "Attachment", "LinkWriter", "ParentGone", "WriteRefused"]


class ParentGone(Exception):
    """The project, task or card no longer exists (or this token cannot see it)."""


class WriteRefused(Exception):
    """The service refused the call; the message says why."""


@dataclass(frozen=True)
class Attachment:
    id: str
    name: str
    urls: frozenset[str]


class LinkWriter(Protocol):
    def list(self, parent: str) -> list[Attachment]: ...
    def add(self, parent: str, name: str, url: str) -> Attachment: ...
    def delete(self, parent: str, attachment_id: str) -> None: ...
    def close(self) -> None: ...
