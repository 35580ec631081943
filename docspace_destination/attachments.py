"""Link attachments on Asana projects/tasks and Trello cards, over the sources' own clients.

A create is never retried blindly: Asana's SDK does not retry POST, and a lost reply
(dropped connection, timeout, 5xx) may still have made the attachment, so both
adapters report it as :class:`AmbiguousWrite` and the caller looks before posting
again. A 429 is safe to retry: the service refused the request before doing anything.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import asana
import requests
import urllib3
from asana.rest import ApiException
from dlt.sources.helpers.rest_client import RESTClient

from asana_source.client import AsanaClient, AsanaError, AsanaUnavailable, _translate
from pm_runtime.errors import ConfigurationError
from trello_source import settings as trello_settings
from trello_source.client import (
    TrelloAccessError,
    TrelloApiError,
    TrelloAuth,
    TrelloSession,
    _path,
    check_response,
    rate_limit_delay,
)

ASANA_WRITE_SLOTS = 15  # Asana rejects a 16th concurrent write per token
WRITE_ATTEMPTS = 6
MAX_RETRY_AFTER = 60.0
ASANA_FIELDS = "name,resource_subtype,view_url,permanent_url,download_url"


class ParentGone(Exception):
    """The project, task or card no longer exists (or this token cannot see it)."""


class AmbiguousWrite(Exception):
    """A create whose outcome is unknown: look before posting again."""


class WriteRefused(Exception):
    """The service refused the call; the message says why."""


@dataclass(frozen=True)
class Attachment:
    id: str
    name: str
    urls: frozenset[str]


class Attachments(Protocol):
    def list(self, parent: str) -> list[Attachment]: ...
    def add(self, parent: str, name: str, url: str) -> Attachment: ...
    def delete(self, parent: str, attachment_id: str) -> None: ...
    def close(self) -> None: ...


def _retry_after(headers: Any, attempt: int) -> float:
    try:
        value = float((headers or {}).get("Retry-After"))
    except (TypeError, ValueError):
        value = 0.0
    return min(MAX_RETRY_AFTER, value if value > 0 else 0.25 * 2**attempt)


class AsanaAttachments:
    """External attachments (`resource_subtype: external`) via the `asana` SDK."""

    def __init__(self, access_token: str, base_url: str, pool_size: int = 16) -> None:
        self.client = AsanaClient(access_token, base_url, pool_size=pool_size)
        self.api = asana.AttachmentsApi(self.client.api)
        self._slots = threading.BoundedSemaphore(ASANA_WRITE_SLOTS)

    def close(self) -> None:
        pass

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
        return [_asana_attachment(i) for i in items]

    def _write(self, send: Callable[[], Any]) -> Any:
        """One write, under Asana's concurrent-write cap; only 429 is retried."""
        for attempt in range(WRITE_ATTEMPTS):
            with self._slots:
                try:
                    return send()
                except ApiException as exc:
                    if exc.status == 429 and attempt < WRITE_ATTEMPTS - 1:
                        wait = _retry_after(exc.headers, attempt)
                    elif exc.status >= 500 or exc.status == 0:
                        raise AmbiguousWrite(f"{exc.status} {exc.reason}") from None
                    else:
                        raise _translate(exc) from None
                except urllib3.exceptions.HTTPError as exc:
                    raise AmbiguousWrite(f"no reply ({type(exc).__name__})") from None
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
                # a fresh dict per attempt: the SDK consumes the one it is given
                lambda: self.api.create_attachment_for_object(dict(opts))
            )
        except AsanaError as exc:
            if exc.status == 404:
                raise ParentGone(exc.message) from None
            raise WriteRefused(f"{exc.status} {exc.message}") from None
        found = _asana_attachment(data or {})
        return Attachment(found.id, found.name or name, found.urls | {url})

    def delete(self, parent: str, attachment_id: str) -> None:
        for _ in range(3):  # a delete is safe to repeat; a repeat of one that landed answers 404
            try:
                self._write(lambda: self.api.delete_attachment(attachment_id))
                return
            except AmbiguousWrite:
                continue
            except AsanaError as exc:
                if exc.status == 404:
                    return
                raise WriteRefused(f"{exc.status} {exc.message}") from None
        raise WriteRefused(f"could not confirm the removal of attachment {attachment_id}")


def _asana_attachment(item: dict[str, Any]) -> Attachment:
    urls = {item.get(k) for k in ("view_url", "permanent_url", "download_url")}
    return Attachment(
        str(item.get("gid", "")), str(item.get("name") or ""), frozenset(u for u in urls if u)
    )


class WriteSafeSession(TrelloSession):
    """Trello's paced session, except that a POST is only retried after a 429.

    The source's session retries every method on 5xx and dropped connections: right
    for reads, wrong for a create whose reply was lost (it would attach twice)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if request.method != "POST":
            return super().send(request, **kwargs)
        kwargs.setdefault("timeout", trello_settings.REQUEST_TIMEOUT_SECONDS)
        for attempt in range(trello_settings.MAX_ATTEMPTS):
            self.limiter.acquire()
            self.requests_sent += 1
            try:
                response = requests.Session.send(self, request, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise AmbiguousWrite(f"no reply ({type(exc).__name__})") from None
            if response.status_code == 429:
                self.retries += 1
                self._sleep(rate_limit_delay(response, attempt))
                continue
            if response.status_code >= 500:
                raise AmbiguousWrite(f"{response.status_code} server error")
            return response
        raise TrelloApiError(f"Trello kept answering 429 on POST {_path(request)}")


class TrelloAttachments:
    """URL attachments on cards (Trello boards take no attachments)."""

    def __init__(self, api_key: str, token: str, base_url: str) -> None:
        self.session = WriteSafeSession()
        self.rest = RESTClient(
            base_url=base_url, auth=TrelloAuth(api_key, token), session=self.session
        )

    def close(self) -> None:
        self.session.close()

    def _call(self, method: str, path: str, **params: Any) -> Any:
        try:
            response = self.rest.request(
                path, method=method, params=params, hooks={"response": [check_response]}
            )
        except TrelloAccessError as exc:
            if exc.status == 404:
                raise ParentGone(exc.message) from None
            raise WriteRefused(f"{exc.status} {exc.message}") from None
        except TrelloApiError as exc:
            raise WriteRefused(str(exc)) from None
        return response.json() if response.content else None

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


def asana_attachments() -> AsanaAttachments:
    import dlt

    from asana_source.settings import DEFAULT_BASE_URL
    from pm_runtime.transport import require_secure_url

    token = _secret("sources.asana.access_token")
    if not token:
        raise ConfigurationError(
            "write_back needs the Asana token: set SOURCES__ASANA__ACCESS_TOKEN "
            "(or access_token under [sources.asana] in .dlt/secrets.toml)"
        )
    base = dlt.config.get("sources.asana.base_url") or DEFAULT_BASE_URL
    return AsanaAttachments(str(token), require_secure_url(str(base), "sources.asana.base_url"))


def trello_attachments() -> TrelloAttachments:
    import dlt

    from pm_runtime.transport import require_secure_url

    key, token = _secret("sources.trello.api_key"), _secret("sources.trello.token")
    if not key or not token:
        raise ConfigurationError(
            "write_back needs the Trello key and token: set SOURCES__TRELLO__API_KEY and "
            "SOURCES__TRELLO__TOKEN (or api_key/token under [sources.trello] in .dlt/secrets.toml)"
        )
    base = dlt.config.get("sources.trello.base_url") or trello_settings.DEFAULT_BASE_URL
    return TrelloAttachments(
        str(key), str(token), require_secure_url(str(base), "sources.trello.base_url")
    )


def _secret(path: str) -> Any:
    import dlt

    for provider in (dlt.secrets, dlt.config):
        try:
            value = provider.get(path)
        except Exception:
            value = None
        if value:
            return value
    return None
