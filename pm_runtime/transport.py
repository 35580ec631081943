"""Tokens travel only over https, except to loopback addresses (the sandbox); and never into
a log line (`pm_runtime.log_redaction`, apart: it needs dlt's list of credential parameters,
and with it dlt's REST client and `requests`, which a plan or a DocSpace call does not)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

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
