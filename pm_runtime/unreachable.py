"""What a failed connection means to a user, in a few words, for every client's one-line error.

urllib3 and requests describe a closed port as `MaxRetryError("HTTPConnectionPool(host=…,
port=9): Max retries exceeded with url: /1/members/me?key=…&token=… (Caused by
NewConnectionError(…[Errno 111] Connection refused))")`: the cause comes last, after a URL
that carries Trello's credentials in its query. `connection_cause` finds the cause in the
exception chain and says it in the user's terms — unknown host, nothing listening, TLS
trouble, no answer in time — naming only the host and port, never repeating the exception's
own text (so no URL, no query, no token). DocSpace's start-up check, the Asana SDK's calls and
Trello's session all word their "cannot be reached" errors with it.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import urlsplit


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and what it wraps: urllib3's `reason`, requests' first argument, the causes."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        inner = [getattr(e, "reason", None), e.__cause__, e.__context__]
        inner += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
        todo += [i for i in inner if isinstance(i, BaseException)]


class ConnectionFailure(NamedTuple):
    """A send that got no reply: why, in words (`connection_cause`), and whether the service
    was never reached at all (no connection, or no TLS session: a wrong URL or a service that
    is down) rather than lost on the way (a timeout, a reset)."""

    cause: str
    unreachable: bool

    @classmethod
    def of(cls, exc: BaseException, url: str, timeout: float | None = None) -> ConnectionFailure:
        return cls(connection_cause(exc, url, timeout), _never_connected(exc))

    def __str__(self) -> str:
        return self.cause


def _never_connected(exc: BaseException) -> bool:
    from urllib3 import exceptions as u3

    chain = list(_chain(exc))
    texts = " ".join(f"{type(e).__name__} {e}" for e in chain)
    never = (ssl.SSLError, u3.SSLError, u3.NameResolutionError, u3.ConnectTimeoutError)
    return (
        any(isinstance(e, never + (ConnectionRefusedError,)) for e in chain)
        or "Connection refused" in texts
        or "Name or service not known" in texts
    )


def host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def connection_cause(exc: BaseException, url: str, timeout: float | None = None) -> str:
    """Why the connection to `url` failed, e.g. "connection refused: nothing listens on
    127.0.0.1:9"; `timeout` is the client's, to say how long it waited."""
    from urllib3 import exceptions as u3

    host, port = host_and_port(url)
    chain = list(_chain(exc))
    texts = " ".join(f"{type(e).__name__} {e}" for e in chain)
    tls = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    if tls is not None or any(isinstance(e, u3.SSLError) for e in chain):
        # the ssl module's own text names the problem (WRONG_VERSION_NUMBER...), never a URL
        detail = f": {str(tls)[:120]}" if tls is not None else ""
        return (
            "the TLS handshake failed (is it a plain http:// server, or a certificate this "
            f"machine does not trust?){detail}"
        )
    if any(isinstance(e, u3.NameResolutionError) for e in chain) or any(
        marker in texts
        for marker in ("Name or service not known", "getaddrinfo", "name resolution")
    ):
        return f"unknown host {host}"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "Connection refused" in texts:
        return f"connection refused: nothing listens on {host}:{port}"
    waited = f" within {timeout:g} s" if isinstance(timeout, int | float) and timeout else ""
    if any(isinstance(e, u3.ConnectTimeoutError) for e in chain):
        return f"no connection to {host}:{port}{waited}"
    if (
        any(isinstance(e, u3.ReadTimeoutError | TimeoutError) for e in chain)
        or "timed out" in texts
    ):
        return f"no answer{waited}"
    if any(isinstance(e, ConnectionResetError) for e in chain) or "reset by peer" in texts:
        return "the connection was reset"
    if any(isinstance(e, u3.ProtocolError) for e in chain):
        return "the connection was closed without a reply"
    inner = chain[-1] if len(chain) > 1 else exc
    return f"cannot connect ({type(inner).__name__})"
