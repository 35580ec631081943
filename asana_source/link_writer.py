"""Write-back for Asana: external attachments (links to DocSpace) on projects and tasks.

The destination decides which links are needed and calls this `LinkWriter`. A create is
never retried blindly: the SDK client does not retry a POST, and a lost reply (dropped
connection, timeout, 5xx) may still have made the attachment, so it is reported as
`AmbiguousWriteError` and the caller looks before posting again. A 429 is safe to retry:
Asana refused the request before doing anything. What is retried and how long to wait is
`pm_runtime.http_policy`'s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import asana

from asana_source.client import AsanaClient, AsanaError, AsanaUnavailable
from pm_runtime.errors import ConfigurationError
from pm_runtime.http_policy import (
    DONE,
    AmbiguousWriteError,
    Reply,
    RetryPolicy,
    send_with_retries,
)
from pm_runtime.link_writer import Attachment, ParentGone, WriteRefused
from pm_runtime.transport import require_secure_url

ASANA_WRITE_SLOTS = 15  # Asana rejects a 16th concurrent write per token
WRITE_ATTEMPTS = 6
# the project's policy for writes: 429s and (for a delete) failures share one count of sends
WRITE_POLICY = RetryPolicy(attempts=WRITE_ATTEMPTS)
ASANA_FIELDS = "name,resource_subtype,view_url,permanent_url,download_url"


class AsanaLinkWriter:
    """External attachments (`resource_subtype: external`) through the source's SDK client."""

    def __init__(self, access_token: str, base_url: str, pool_size: int = 16) -> None:
        self.client = AsanaClient(access_token, base_url, pool_size=pool_size)
        self.api = asana.AttachmentsApi(self.client.api)
        self._slots = threading.BoundedSemaphore(ASANA_WRITE_SLOTS)

    def close(self) -> None:
        self.client.close()

    def list(self, parent: str) -> list[Attachment]:
        try:
            items = self.client.list(
                self.api.get_attachments_for_object, parent, opts={"opt_fields": ASANA_FIELDS}
            )
        except AsanaError as exc:
            if exc.status == 404:
                raise ParentGone(exc.message) from None
            raise WriteRefused(f"{exc.status} {exc.message}") from None
        except AsanaUnavailable as exc:
            raise WriteRefused(str(exc)) from None
        return [_attachment(i) for i in items]

    def _write(self, send: Callable[[], Any], *, idempotent: bool = False) -> Any:
        """One write under Asana's concurrent-write cap, retried as the one HTTP policy says:
        a 429 always (waited out outside the slot, so others may write meanwhile); a 5xx or a
        lost reply only when the write is `idempotent`, else `AmbiguousWriteError`."""

        def send_once() -> Reply:
            with self._slots:
                try:
                    return Reply(200, value=send())
                except AsanaError as exc:
                    return Reply(exc.status, exc.headers, value=exc)
                except AsanaUnavailable as exc:
                    return Reply(
                        0,
                        reached_server=exc.reached_server,
                        transport_retried=exc.transport_retried,
                        value=exc,
                    )

        result = send_with_retries(send_once, WRITE_POLICY, idempotent=idempotent)
        reply = result.reply
        if result.verdict == DONE:
            if isinstance(reply.value, AsanaError):
                raise reply.value
            return reply.value
        if reply.status == 429:  # gave up: refused every time, so surely not applied
            raise WriteRefused("Asana kept answering 429")
        if not reply.status and not reply.reached_server:  # never sent: surely not applied
            raise WriteRefused(str(reply.value))
        # a lost reply or a 5xx (AMBIGUOUS, or retries spent on an idempotent write)
        what = (
            f"{reply.status} {reply.value.message}" if reply.status else f"no reply ({reply.value})"
        )
        raise AmbiguousWriteError(what, reply.status)

    def add(self, parent: str, name: str, url: str) -> Attachment:
        opts = {
            "resource_subtype": "external",
            "parent": parent,
            "url": url,
            "name": name,
            "opt_fields": ASANA_FIELDS,
        }
        try:
            data = self._write(
                lambda: self.client.call(self.api.create_attachment_for_object, opts=opts)
            )
        except AsanaError as exc:
            if exc.status == 404:
                raise ParentGone(exc.message) from None
            raise WriteRefused(f"{exc.status} {exc.message}") from None
        found = _attachment(data or {})
        return Attachment(found.id, found.name or name, found.urls | {url})

    def delete(self, parent: str, attachment_id: str) -> None:
        """Safe to repeat: a repeat of a delete that landed answers 404, which is done."""
        try:
            self._write(
                lambda: self.client.call(self.api.delete_attachment, attachment_id),
                idempotent=True,
            )
        except AsanaError as exc:
            if exc.status == 404:
                return
            raise WriteRefused(f"{exc.status} {exc.message}") from None
        except AmbiguousWriteError:
            raise WriteRefused(
                f"could not confirm the removal of attachment {attachment_id}"
            ) from None


def _attachment(item: dict[str, Any]) -> Attachment:
    urls = {item.get(k) for k in ("view_url", "permanent_url", "download_url")}
    return Attachment(
        str(item.get("gid", "")), str(item.get("name") or ""), frozenset(u for u in urls if u)
    )


def asana_link_writer() -> AsanaLinkWriter:
    """The writer for this configuration: the source's own token and base URL."""
    from asana_source.config import asana_api_config

    config = asana_api_config()
    if not config.access_token:
        raise ConfigurationError(
            "write_back needs the Asana token: set SOURCES__ASANA__ACCESS_TOKEN "
            "(or access_token under [sources.asana] in .dlt/secrets.toml)"
        )
    return AsanaLinkWriter(
        str(config.access_token), require_secure_url(config.base_url, "sources.asana.base_url")
    )
