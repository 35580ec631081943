"""Download one Asana attachment, for the destination's document copy.

Asana's `download_url` "may only be valid for two minutes from the time of retrieval"
(API reference, Attachment), so it is fetched just before the download (`GET
/attachments/{gid}`) and never stored; an answer of 403 (S3's "Request has expired", when
the transfer could not start in time) fetches a fresh one once. The URL is presigned:
it is sent without the Asana token, and only over https (or to loopback, the sandbox).

    downloader = AsanaAttachmentDownloader(access_token, base_url)
    with downloader.open_attachment("1204…") as download:
        for chunk in download.chunks(): ...
"""

from __future__ import annotations

from typing import Any

import asana

from asana_source import settings
from asana_source.client import AsanaClient, AsanaError
from pm_runtime.download import (
    Download,
    DownloadError,
    get,
    open_verified,
    require_secure_download,
    storage_session,
)
from pm_runtime.transport import require_secure_url

FIELDS = "name,size,host,resource_subtype,download_url"


class AsanaAttachmentDownloader:
    def __init__(
        self,
        access_token: str,
        base_url: str = settings.DEFAULT_BASE_URL,
        client: AsanaClient | None = None,
    ) -> None:
        base_url = require_secure_url(base_url, "sources.asana.base_url")
        self.client = client or AsanaClient(access_token, base_url, max_retries=4)
        self.api = asana.AttachmentsApi(self.client.api)
        self.storage = storage_session()  # no Asana token: download URLs are presigned

    def close(self) -> None:
        self.storage.close()
        self.client.close()

    def describe(self, gid: str) -> dict[str, Any]:
        """The attachment as Asana has it now, with a fresh download_url."""
        try:
            found: dict[str, Any] = self.client.call(
                self.api.get_attachment, gid, opts={"opt_fields": FIELDS}
            )
        except AsanaError as exc:
            raise DownloadError(f"Asana attachment {gid}: {exc}") from None
        return found

    def open_attachment(self, gid: str) -> Download:
        """The attachment's bytes, streamed and checked against the size Asana reports."""
        for attempt in range(2):
            found = self.describe(gid)
            label = f"Asana attachment {gid} {found.get('name')!r}"
            host = found.get("host") or found.get("resource_subtype")
            if host != "asana":
                raise DownloadError(f"{label}: hosted by {host}, not an uploaded file")
            url, size = found.get("download_url"), found.get("size")
            if not url or size is None:
                raise DownloadError(f"{label}: Asana gave no download URL or size")
            require_secure_download(url, label)
            response = get(self.storage, url, label)
            if response.status_code == 403 and attempt == 0:  # expired before we got to it
                response.close()
                continue
            return open_verified(response, label, int(size))
        raise AssertionError("unreachable")


class _Opener:
    """The `AttachmentOpener` the destination's document copy uses (pm_runtime.source_spec)."""

    def __init__(self, downloader: AsanaAttachmentDownloader) -> None:
        self.downloader = downloader

    def open(self, attachment_id: str, parent_id: str) -> Download:
        return self.downloader.open_attachment(attachment_id)

    def close(self) -> None:
        self.downloader.close()


def asana_attachment_opener() -> _Opener:
    """The download helper for this configuration: the source's own token and base URL."""
    from asana_source.config import asana_api_config
    from pm_runtime.errors import ConfigurationError

    config = asana_api_config()
    token, base = config.access_token, config.base_url
    if not token:
        raise ConfigurationError(
            'attachments = "copy" needs the Asana token: set SOURCES__ASANA__ACCESS_TOKEN '
            "(or access_token under [sources.asana] in .dlt/secrets.toml)"
        )
    return _Opener(AsanaAttachmentDownloader(str(token), str(base)))
