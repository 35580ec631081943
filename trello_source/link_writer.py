"""Write-back for Trello: URL attachments (links to DocSpace) on cards; boards take none.

Over the source's own paced client: a POST whose reply was lost surfaces as
`AmbiguousWriteError` (see `TrelloSession`) and the caller looks before posting again.
"""

from __future__ import annotations

from typing import Any

from pm_runtime.errors import ConfigurationError
from pm_runtime.link_writer import Attachment, ParentGone, WriteRefused
from pm_runtime.transport import require_secure_url
from trello_source.client import TrelloAccessError, TrelloApiError, TrelloClient


class TrelloLinkWriter:
    def __init__(self, api_key: str, token: str, base_url: str) -> None:
        self.client = TrelloClient(base_url, api_key, token)

    def close(self) -> None:
        self.client.close()

    def _call(self, method: str, path: str, **params: Any) -> Any:
        try:
            return self.client.request(method, path, **params)
        except TrelloAccessError as exc:
            if exc.status == 404:
                raise ParentGone(exc.message) from None
            raise WriteRefused(f"{exc.status} {exc.message}") from None
        except TrelloApiError as exc:
            raise WriteRefused(str(exc)) from None

    def list(self, parent: str) -> list[Attachment]:
        items = self._call("GET", f"/cards/{parent}/attachments", fields="id,name,url")
        return [
            Attachment(str(a["id"]), str(a.get("name") or ""), frozenset({str(a.get("url"))}))
            for a in items or []
        ]

    def add(self, parent: str, name: str, url: str) -> Attachment:
        data = self._call("POST", f"/cards/{parent}/attachments", url=url, name=name)
        return Attachment(str(data["id"]), str(data.get("name") or name), frozenset({url}))

    def delete(self, parent: str, attachment_id: str) -> None:
        try:
            self._call("DELETE", f"/cards/{parent}/attachments/{attachment_id}")
        except ParentGone:
            pass  # already gone (or a repeat of a delete whose reply was lost)


def trello_link_writer() -> TrelloLinkWriter:
    """The writer for this configuration: the source's own key, token and base URL."""
    from trello_source.config import trello_api_config

    config = trello_api_config()
    if not config.api_key or not config.token:
        raise ConfigurationError(
            "write_back needs the Trello key and token: set SOURCES__TRELLO__API_KEY and "
            "SOURCES__TRELLO__TOKEN (or api_key/token under [sources.trello] in .dlt/secrets.toml)"
        )
    return TrelloLinkWriter(
        str(config.api_key),
        str(config.token),
        require_secure_url(config.base_url, "sources.trello.base_url"),
    )
