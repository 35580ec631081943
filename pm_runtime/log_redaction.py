"""Credentials never reach a log line: urllib3's request lines have their credential query
parameters masked (`redact_request_logs`), by dlt's list of such parameters and our own."""

from __future__ import annotations

import logging
import re

from dlt.sources.helpers.rest_client.redaction import SENSITIVE_PARAMS as DLT_SENSITIVE_PARAMS
from dlt.sources.helpers.rest_client.redaction import sanitize_url

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
