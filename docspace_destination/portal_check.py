"""DocSpace checked first: one cheap read before the source is extracted, failing in seconds.

A typo in `base_url` or a revoked key would otherwise surface only after the whole source
load, and after ~20 s of the client's retries. `check_portal` sends one
`GET /api/2.0/files/rooms?count=1` — the rooms listing the sync needs anyway (so it checks the
key's rooms scope too), the cheapest request the API key must be allowed to make
(FilesControllerHelper / VirtualRoomsController.GetRoomsFolderAsync, `count` pages it down to
one room) — without retries (but two quick ones on a 5xx or 429) and with a short timeout, and turns what went wrong into one line
naming the portal URL and the cause. It writes nothing.
"""

from __future__ import annotations

import json

import urllib3
from urllib3 import exceptions as u3

from docspace_destination.client import DocSpaceAuthError
from pm_runtime.errors import UserFacingError
from pm_runtime.http_policy import Reply, RetryPolicy, send_with_retries
from pm_runtime.transport import require_secure_url
from pm_runtime.unreachable import connection_cause

CHECK_PATH = "/files/rooms?count=1&searchArea=0"
CHECK_TIMEOUT = 5.0
BUSY_ATTEMPTS = 3  # 0.5 s + 1 s of waiting at most: a typo costs seconds, a blip is ridden out
# a busy portal (5xx, 429) gets two more tries, by the one HTTP policy; a Retry-After is
# believed up to a second
BUSY_POLICY = RetryPolicy(
    attempts=BUSY_ATTEMPTS, backoff_base=0.5, backoff_cap=1.0, max_retry_after=1.0
)
KEY = "destination.docspace.base_url"


class PortalUnreachable(UserFacingError):
    """The DocSpace portal did not answer as a DocSpace API (wrong URL, down, not DocSpace)."""


def check_portal(base_url: str, api_key: str, timeout: float = CHECK_TIMEOUT) -> None:
    """Raise a one-line UserFacingError unless `base_url` is a DocSpace portal that accepts
    `api_key`; one GET, no retries, no write."""
    root = require_secure_url(base_url, KEY).removesuffix("/api/2.0")
    pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=timeout))

    def send_once() -> Reply:
        # a connection error is not turned into a Reply: it is reported at once, not retried
        resp = pool.request(
            "GET",
            f"{root}/api/2.0{CHECK_PATH}",
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            redirect=False,
        )
        return Reply(resp.status, resp.headers, value=resp)

    try:
        resp = send_with_retries(send_once, BUSY_POLICY, idempotent=True).reply.value
    except u3.HTTPError as exc:
        cause = connection_cause(exc, root, timeout)
        raise PortalUnreachable(
            f"DocSpace at {root} cannot be reached: {cause} — check {KEY}"
        ) from None
    finally:
        pool.clear()
    where = f"DocSpace at {root}"
    if resp.status == 401:
        raise DocSpaceAuthError(
            f"{where} rejected the API key (401): check destination.docspace.api_key"
        )
    if resp.status == 403:
        raise DocSpaceAuthError(
            f"{where} refused to list rooms with this API key (403): give the key the rooms and "
            "files scopes (read and write)"
        )
    if resp.status == 404 or 300 <= resp.status < 400:
        moved = resp.headers.get("Location")
        raise PortalUnreachable(
            f"{where} has no DocSpace API at /api/2.0 ({resp.status}"
            + (f", redirects to {moved}" if moved else "")
            + f"): {KEY} must be the portal root, e.g. https://yourname.onlyoffice.com"
        )
    if resp.status >= 500 or resp.status == 429:
        raise PortalUnreachable(
            f"{where} answered {resp.status} to GET /api/2.0/files/rooms: the portal is busy or "
            "down; try again later"
        )
    try:
        data = json.loads(resp.data or b"null")
    except ValueError:
        data = None
    if not isinstance(data, dict) or "response" not in data:
        raise PortalUnreachable(
            f"{where} answered {resp.status} but not as DocSpace's API: {KEY} must be the "
            "portal root"
        )
