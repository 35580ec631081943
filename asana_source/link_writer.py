"""Write-back for Asana: external attachments (links to DocSpace) on projects and tasks.

The destination decides which links are needed and calls this `LinkWriter`. A create is
never retried blindly: the SDK client does not retry a POST, and a lost reply (dropped
connection, timeout, 5xx) may still have made the attachment, so it is reported as
`AmbiguousWriteError` and the caller looks before posting again. A 429 is safe to retry:
Asana refused the request before doing anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import asana

from asana_source.client import AsanaClient, AsanaError, AsanaUnavailable
from pm_runtime.errors import ConfigurationError
from pm_runtime.http_policy import UNKNOWN, AmbiguousWriteError, retry_after, write_outcome
from pm_runtime.link_writer import Attachment, ParentGone, WriteRefused
from pm_runtime.transport import require_secure_url

ASANA_WRITE_SLOTS = 15  # Asana rejects a 16th concurrent write per token
WRITE_ATTEMPTS = 6
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

    def _write(self, send: Callable[[], Any]) -> Any:
        """One write, under Asana's concurrent-write cap; only 429 is retried."""
        for attempt in range(WRITE_ATTEMPTS):
            with self._slots:
                try:
                    return send()
                except AsanaError as exc:
                    if exc.status == 429 and attempt < WRITE_ATTEMPTS - 1:
                        wait = retry_after(exc.headers, attempt)
                    elif write_outcome(exc.status) == UNKNOWN:
                        raise AmbiguousWriteError(
                            f"{exc.status} {exc.message}", exc.status
                        ) from None
                    else:
                        raise
                except AsanaUnavailable as exc:
                    raise AmbiguousWriteError(f"no reply ({exc})") from None
            time.sleep(wait)  # outside the slot, so others may write meanwhile
        raise WriteRefused("Asana kept answering 429")

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
        for _ in range(3):  # a delete is safe to repeat; a repeat of one that landed answers 404
            try:
                self._write(lambda: self.client.call(self.api.delete_attachment, attachment_id))
                return
            except AmbiguousWriteError:
                continue
            except AsanaError as exc:
                if exc.status == 404:
                    return
                raise WriteRefused(f"{exc.status} {exc.message}") from None
        raise WriteRefused(f"could not confirm the removal of attachment {attachment_id}")


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
