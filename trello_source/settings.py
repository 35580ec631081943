"""What the Trello source asks for, and how politely."""

from __future__ import annotations

from typing import Any

DEFAULT_BASE_URL = "https://api.trello.com/1"

# Trello caps every list call at 1000 items; labels and actions default to 50.
PAGE_LIMIT = 1000

# Trello allows 100 requests / 10 s per token; stay under it with a margin for clock skew
# between our send times and the server's window.
REQUESTS_PER_WINDOW = 90
WINDOW_SECONDS = 10.0

# Retries of 429 (without Retry-After), 5xx and dropped connections after the first request
# (`sources.trello.max_retries`).
MAX_RETRIES = 7
BACKOFF_BASE_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 10.0
REQUEST_TIMEOUT_SECONDS = 60.0

BOARD_FIELDS = [
    "name",
    "desc",
    "closed",
    "url",
    "shortUrl",
    "shortLink",
    "dateLastActivity",
    "idOrganization",
    "pinned",
    "starred",
    "memberships",
]
LIST_FIELDS = ["name", "closed", "idBoard", "pos", "subscribed"]
CARD_FIELDS = [
    "name",
    "desc",
    "closed",
    "idBoard",
    "idList",
    "idShort",
    "idMembers",
    "labels",
    "pos",
    "due",
    "dueComplete",
    "start",
    "dateLastActivity",
    "shortLink",
    "shortUrl",
    "url",
]
LABEL_FIELDS = ["idBoard", "name", "color"]
MEMBER_FIELDS = ["username", "fullName", "initials", "email", "confirmed", "memberType"]

# dlt column hints: ISO strings become timestamps, `pos` is always a double (Trello sends
# integers and floats), and tombstone columns exist before the first deletion. Functions,
# because dlt writes the column name into the hint dict it is given.


def timestamp() -> dict[str, Any]:
    return {"data_type": "timestamp", "nullable": True}


def double() -> dict[str, Any]:
    return {"data_type": "double", "nullable": True}


def deletion_columns() -> dict[str, dict[str, Any]]:
    return {"is_deleted": {"data_type": "bool", "nullable": True}, "deleted_at": timestamp()}
