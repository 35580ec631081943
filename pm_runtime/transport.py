"""Tokens travel only over https, except to loopback addresses (the sandbox), and never into
a log line (`redact_request_logs`)."""

from __future__ import annotations

import ipaddress
import logging
import re
from urllib.parse import urlsplit

from dlt.sources.helpers.rest_client.redaction import SENSITIVE_PARAMS as DLT_SENSITIVE_PARAMS
from dlt.sources.helpers.rest_client.redaction import sanitize_url

from pm_runtime.errors import ConfigurationError

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_secure_url(url: str, key: str) -> str:
    """Return `url` without a trailing slash, or raise naming the config `key` if it would leak a token."""
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ConfigurationError(f"{key} has an invalid port: {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"{key} must be an http(s) URL, got {url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigurationError(
            f"{key} uses plain http to {parts.hostname}: credentials are only sent over https "
            "(plain http is allowed for loopback addresses only)"
        )
    return url.strip().rstrip("/")


# Query parameters that are credentials: dlt's list (api_key, token, key, access_token, ...)
# plus the signature of a presigned download URL, itself a short-lived credential.
SIGNATURE_PARAMS = frozenset({"X-Amz-Signature", "X-Amz-Credential", "Signature"})
SENSITIVE_PARAMS = frozenset(DLT_SENSITIVE_PARAMS) | SIGNATURE_PARAMS
_IN_TEXT = re.compile(
    r"(?i)\b(" + "|".join(re.escape(p) for p in sorted(SENSITIVE_PARAMS)) + r")=[^&\s\"']*"
)


def redact_url_secrets(text: str) -> str:
    """A URL (dlt's `sanitize_url`) or a line of text with every credential parameter `***`."""
    if "?" in text and not any(c.isspace() for c in text):
        return sanitize_url(text, set(SENSITIVE_PARAMS))
    return _IN_TEXT.sub(lambda m: f"{m.group(1)}=***", text)


class RedactUrlSecrets(logging.Filter):
    """urllib3 logs every request line, query string included, at DEBUG (`-vv`): Trello's key
    and token and a presigned URL's signature travel there, so they are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url_secrets(a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str):
            record.msg = redact_url_secrets(record.msg)
        return True


def redact_request_logs() -> None:
    """Install the filter on the loggers that print request lines (once)."""
    for name in ("urllib3.connectionpool", "requests"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactUrlSecrets) for f in logger.filters):
            logger.addFilter(RedactUrlSecrets())
