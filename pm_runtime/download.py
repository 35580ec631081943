"""A verified, streamed download of one attachment: what the sources' download helpers return.

The bytes flow through in chunks (a 200 MB file is never held in memory) and are counted:
a body shorter or longer than the size the source reported, a connection that breaks off,
or an answer other than 200 (Trello's "unauthorized permission requested" 401 page, S3's
403 XML once a URL expired) is a `DownloadError` naming the attachment — never a file.
Messages name the attachment and the host, never a URL: download URLs carry signatures
and the requests carry tokens.

    with downloader.open_attachment(gid) as download:
        upload(download.chunks(), download.size)   # raises DownloadError on a bad body
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from pm_runtime.errors import DownloadError
from pm_runtime.http_policy import RetryPolicy, urllib3_retry
from pm_runtime.log_redaction import redact_request_logs
from pm_runtime.transport import is_loopback

CHUNK_SIZE = 1024 * 1024
TIMEOUT = (10.0, 60.0)  # connect, read (between two chunks)
# opening a download is a GET like any other: the one HTTP policy retries a 429/5xx or a lost
# connection before the body starts (a body that breaks off is the caller's DownloadError)
DOWNLOAD_POLICY = RetryPolicy(attempts=4)


redact_request_logs()  # a presigned URL's signature is a short-lived credential


def require_secure_download(url: str, label: str) -> None:
    """Signed URLs and tokens travel over https only (plain http to loopback: the sandbox)."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or "")):
        return
    raise DownloadError(f"{label}: refusing to download over {parts.scheme} from {parts.hostname}")


@dataclass
class Download:
    """An open download of `size` bytes (the size the source reported)."""

    label: str  # e.g. "Asana attachment 1204… 'spec.pdf'"
    size: int
    response: requests.Response
    received: int = field(default=0, init=False)

    def chunks(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The body, chunk by chunk; raises DownloadError as soon as it cannot be the file."""
        try:
            for chunk in self.response.iter_content(chunk_size):
                if not chunk:
                    continue
                self.received += len(chunk)
                if self.received > self.size:
                    raise DownloadError(
                        f"{self.label}: more than the {self.size} bytes the source reported"
                    )
                yield chunk
        except requests.RequestException as exc:
            raise DownloadError(
                f"{self.label}: download broke off after {self.received} of {self.size} bytes "
                f"({type(exc).__name__})"
            ) from None
        finally:
            self.close()
        if self.received != self.size:
            raise DownloadError(
                f"{self.label}: got {self.received} bytes, the source reported {self.size}"
            )

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> Download:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_verified(response: requests.Response, label: str, size: int) -> Download:
    """`response` (sent with stream=True) as a Download, once its status and headers agree."""
    if response.status_code != 200:
        kind = (response.headers.get("Content-Type") or "no content type").split(";")[0]
        response.close()
        raise DownloadError(f"{label}: download answered {response.status_code} ({kind})")
    announced = response.headers.get("Content-Length")
    if announced is not None and announced.isdigit() and int(announced) != size:
        response.close()
        raise DownloadError(
            f"{label}: the server announced {announced} bytes, the source reported {size}"
        )
    return Download(label, size, response)


def storage_session() -> requests.Session:
    """A session for the hosted files (no service credentials), retrying by the one policy."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=urllib3_retry(DOWNLOAD_POLICY, ("GET",)))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def get(session: requests.Session, url: str, label: str, **kwargs: object) -> requests.Response:
    """A streamed GET whose failure never shows the URL (it may carry a signature)."""
    try:
        return session.get(url, stream=True, timeout=TIMEOUT, **kwargs)  # type: ignore[arg-type]
    except requests.RequestException as exc:
        host = urlsplit(url).hostname
        raise DownloadError(
            f"{label}: {host} could not be reached ({type(exc).__name__})"
        ) from None
