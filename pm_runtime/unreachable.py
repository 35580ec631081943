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
    """A send that got no reply: why, in words, and whether the service was never reached at
    all (no connection, or no TLS session: a wrong URL or a service that is down) rather than
    lost on the way (a timeout, a reset)."""

    cause: str
    unreachable: bool

    @classmethod
    def of(cls, exc: BaseException, url: str, timeout: float | None = None) -> ConnectionFailure:
        """`exc` read once: the first of its causes that matches says both (`connection_cause`)."""
        from urllib3 import exceptions as u3

        host, port = host_and_port(url)
        chain = list(_chain(exc))
        texts = " ".join(f"{type(e).__name__} {e}" for e in chain)

        def found(types: type | tuple[type, ...], *markers: str) -> bool:
            return any(isinstance(e, types) for e in chain) or any(m in texts for m in markers)

        tls = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
        if tls is not None or found(u3.SSLError):
            # the ssl module's own text names the problem (WRONG_VERSION_NUMBER...), never a URL
            detail = f": {str(tls)[:120]}" if tls is not None else ""
            return cls(
                "the TLS handshake failed (is it a plain http:// server, or a certificate this "
                f"machine does not trust?){detail}",
                True,
            )
        if found(
            u3.NameResolutionError, "Name or service not known", "getaddrinfo", "name resolution"
        ):
            return cls(f"unknown host {host}", True)
        if found(ConnectionRefusedError, "Connection refused"):
            return cls(f"connection refused: nothing listens on {host}:{port}", True)
        waited = f" within {timeout:g} s" if isinstance(timeout, int | float) and timeout else ""
        if found(u3.ConnectTimeoutError):
            return cls(f"no connection to {host}:{port}{waited}", True)
        if found((u3.ReadTimeoutError, TimeoutError), "timed out"):
            return cls(f"no answer{waited}", False)
        if found(ConnectionResetError, "reset by peer"):
            return cls("the connection was reset", False)
        if found(u3.ProtocolError):
            return cls("the connection was closed without a reply", False)
        inner = chain[-1] if len(chain) > 1 else exc
        return cls(f"cannot connect ({type(inner).__name__})", False)

    def __str__(self) -> str:
        return self.cause


def host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def connection_cause(exc: BaseException, url: str, timeout: float | None = None) -> str:
    """Why the connection to `url` failed, e.g. "connection refused: nothing listens on
    127.0.0.1:9"; `timeout` is the client's, to say how long it waited."""
    return ConnectionFailure.of(exc, url, timeout).cause
