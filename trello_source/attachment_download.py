"""Download one Trello card attachment, for the destination's document copy.

Since 25 Jan 2021 Trello refuses key and token in the query string of a download (401
"unauthorized permission requested", which backup tools famously saved as the file);
the request carries `Authorization: OAuth oauth_consumer_key="…", oauth_token="…"` and is
answered with a 302 to the hosted file's presigned URL, which is followed WITHOUT that
header (S3 refuses a second auth mechanism, and the token must not leave Trello).
See ../shared/docspace-files-notes.md §1c. The header is only ever sent to Trello's own
host (the configured API host, or trello.com where Trello's upload URLs point).

    downloader = TrelloAttachmentDownloader(api_key, token, base_url)
    with downloader.open_attachment(card_id, attachment_id) as download:
        for chunk in download.chunks(): ...
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin, urlsplit

from pm_runtime.download import (
    Download,
    DownloadError,
    get,
    open_verified,
    require_secure_download,
    storage_session,
)
from pm_runtime.transport import require_secure_url
from trello_source import settings
from trello_source.client import TrelloAccessError, TrelloClient

FIELDS = "name,bytes,isUpload,url"  # the documented attachment fields
TRELLO_HOSTS = {"trello.com", "api.trello.com"}


class TrelloAttachmentDownloader:
    def __init__(self, api_key: str, token: str, base_url: str = settings.DEFAULT_BASE_URL) -> None:
        base = require_secure_url(base_url, "sources.trello.base_url")
        self.client = TrelloClient(base, api_key, token)
        host = urlsplit(base).hostname or ""
        self.trello_hosts = {host} | (TRELLO_HOSTS if host in TRELLO_HOSTS else set())
        self._header = f'OAuth oauth_consumer_key="{api_key}", oauth_token="{token}"'
        self.storage = storage_session()  # the hosted file: no Trello credentials

    def close(self) -> None:
        self.storage.close()
        self.client.close()

    def describe(self, card_id: str, attachment_id: str) -> dict[str, Any]:
        try:
            found: dict[str, Any] = self.client.get(
                f"/cards/{card_id}/attachments/{attachment_id}", fields=FIELDS
            )
        except TrelloAccessError as exc:
            raise DownloadError(
                f"Trello attachment {attachment_id} of card {card_id}: {exc.status} {exc.message}"
            ) from None
        return found

    def open_attachment(self, card_id: str, attachment_id: str) -> Download:
        """The attachment's bytes, streamed and checked against the size Trello reports."""
        found = self.describe(card_id, attachment_id)
        label = f"Trello attachment {attachment_id} {found.get('name')!r}"
        if not found.get("isUpload"):
            raise DownloadError(f"{label}: a link, not an uploaded file")
        url, size = found.get("url"), found.get("bytes")
        if not url or size is None:
            raise DownloadError(f"{label}: Trello gave no download URL or size")
        host = urlsplit(url).hostname or ""
        if host not in self.trello_hosts:
            raise DownloadError(
                f"{label}: its URL points at {host}, not Trello: not sent the token"
            )
        require_secure_download(url, label)
        # the session paces under Trello's rate limit and retries 429/5xx, like every API call
        response = get(
            self.client.session,
            url,
            label,
            headers={"Authorization": self._header},
            allow_redirects=False,
        )
        if response.is_redirect:
            location = urljoin(url, response.headers.get("Location") or "")
            response.close()
            require_secure_download(location, label)
            response = get(self.storage, location, label)
        return open_verified(response, label, int(size))


class _Opener:
    """The `AttachmentOpener` the destination's document copy uses (pm_runtime.source_spec)."""

    def __init__(self, downloader: TrelloAttachmentDownloader) -> None:
        self.downloader = downloader

    def open(self, attachment_id: str, parent_id: str) -> Download:
        return self.downloader.open_attachment(parent_id, attachment_id)

    def close(self) -> None:
        self.downloader.close()


def trello_attachment_opener() -> _Opener:
    """The download helper for this configuration: the source's own key, token and base URL."""
    from pm_runtime.errors import ConfigurationError
    from trello_source.config import trello_api_config

    config = trello_api_config()
    key, token, base = config.api_key, config.token, config.base_url
    if not key or not token:
        raise ConfigurationError(
            'attachments = "copy" needs the Trello key and token: set SOURCES__TRELLO__API_KEY '
            "and SOURCES__TRELLO__TOKEN (or api_key/token under [sources.trello] in .dlt/secrets.toml)"
        )
    return _Opener(TrelloAttachmentDownloader(str(key), str(token), str(base)))
