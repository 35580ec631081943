"""The one HTTP policy: Retry-After in both forms, capped; jittered backoff; write outcomes;
what is retried; and every client (DocSpace, Trello, the Asana SDK and link writer, the
downloads) making the same decisions against the sandbox's fault injection."""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from email.utils import format_datetime
from typing import Any

import pytest
import requests

from asana_source.client import AsanaClient, AsanaError, AsanaUnavailable
from asana_source.link_writer import AsanaLinkWriter
from docspace_destination.client import AmbiguousWriteError as DocSpaceAmbiguous
from docspace_destination.client import DocSpaceClient, DocSpaceError
from pm_runtime.download import get, open_verified, storage_session
from pm_runtime.http_policy import (
    AMBIGUOUS,
    APPLIED,
    COME_BACK_LATER,
    DONE,
    GAVE_UP,
    REFUSED,
    RETRY,
    UNKNOWN,
    AmbiguousWriteError,
    Decision,
    Reply,
    RetryPolicy,
    backoff,
    parse_retry_after,
    retry_after,
    send_with_retries,
    surely_not_sent,
    write_outcome,
)
from pm_runtime.link_writer import WriteRefused
from trello_source.client import TrelloAccessError, TrelloApiError, TrelloClient


def test_retry_after_in_seconds_is_taken_as_given() -> None:
    assert parse_retry_after("7") == 7.0


def test_retry_after_as_an_http_date_is_the_time_until_then() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    when = format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(when, now=now) == 30.0


def test_an_unreadable_retry_after_falls_back_to_the_backoff() -> None:
    assert parse_retry_after("soon") is None
    assert 0 < retry_after({"Retry-After": "soon"}, attempt=0) <= 0.25


def test_a_hostile_retry_after_is_capped() -> None:
    assert retry_after({"retry-after": "86400"}, attempt=0, cap=60) == 60


def test_backoff_grows_with_jitter_below_its_cap() -> None:
    waits = [backoff(5, base=0.25, cap=4.0) for _ in range(50)]
    assert all(2.0 <= w <= 4.0 for w in waits) and len(set(waits)) > 1


def test_a_lost_reply_or_a_5xx_leaves_a_write_unknown_and_a_4xx_refused() -> None:
    assert write_outcome(None) == UNKNOWN
    assert write_outcome(502) == UNKNOWN
    assert write_outcome(429) == REFUSED
    assert write_outcome(404) == REFUSED
    assert write_outcome(201) == APPLIED


# -- the decisions, one behaviour each ------------------------------------------------------


def decide(reply: Reply, idempotent: bool = True, policy: RetryPolicy | None = None) -> Decision:
    failures = 1 if reply.status != 429 else 0
    return (policy or RetryPolicy()).decide(
        reply, idempotent=idempotent, failures=failures, throttles=1 - failures
    )


def test_a_retry_after_is_waited_instead_of_the_backoff() -> None:
    assert decide(Reply(429, {"Retry-After": "7"})) == Decision(RETRY, 7.0, 7.0)
    assert decide(Reply(503, {"retry-after": "3"})).wait == 3.0


def test_a_429_is_retried_for_a_write_too() -> None:
    assert decide(Reply(429), idempotent=False).verdict == RETRY


def test_a_5xx_on_a_write_is_ambiguous_and_on_a_read_retried() -> None:
    assert decide(Reply(502), idempotent=False).verdict == AMBIGUOUS
    assert decide(Reply(502), idempotent=True).verdict == RETRY


def test_a_reply_lost_after_sending_a_write_is_ambiguous() -> None:
    assert decide(Reply(0, reached_server=True), idempotent=False).verdict == AMBIGUOUS


def test_a_connection_that_never_opened_is_retried_even_for_a_write() -> None:
    assert decide(Reply(0, reached_server=False), idempotent=False).verdict == RETRY


def test_a_failure_the_transport_already_retried_is_not_retried_again() -> None:
    assert decide(Reply(0, reached_server=False, transport_retried=True)).verdict == GAVE_UP


def test_a_client_refusal_is_handed_back_not_retried() -> None:
    assert decide(Reply(404), idempotent=False).verdict == DONE


def test_a_retry_after_of_hours_stops_a_policy_that_says_so_and_is_capped_otherwise() -> None:
    daily = Reply(429, {"Retry-After": "36000"})
    stop = RetryPolicy(max_retry_after=60, stop_beyond_max_retry_after=True)
    assert decide(daily, policy=stop) == Decision(COME_BACK_LATER, 0.0, 36000.0)
    assert decide(daily, policy=RetryPolicy(max_retry_after=60)).wait == 60


def test_the_attempt_cap_ends_the_retries_without_a_last_wait() -> None:
    sent: list[int] = []
    waits: list[float] = []

    def send() -> Reply:
        sent.append(1)
        return Reply(503)

    result = send_with_retries(send, RetryPolicy(attempts=4), idempotent=True, sleep=waits.append)
    assert result.verdict == GAVE_UP and len(sent) == 4 and len(waits) == 3


def test_429s_get_their_own_cap_when_the_policy_gives_them_one() -> None:
    replies = iter([Reply(429)] * 5 + [Reply(200)])
    policy = RetryPolicy(attempts=2, throttled_attempts=6, backoff_base=0)
    result = send_with_retries(
        lambda: next(replies), policy, idempotent=False, sleep=lambda _: None
    )
    assert result.verdict == DONE and result.throttles == 5


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_connection_is_known_never_sent_and_a_read_timeout_is_not() -> None:
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(f"http://127.0.0.1:{closed_port()}/", timeout=2)
    assert surely_not_sent(refused.value)
    with socket.socket() as silent:  # accepts, reads, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(requests.Timeout) as timed_out:
            requests.post(f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.3)
    assert not surely_not_sent(timed_out.value)


# -- every client makes the same decisions, over the sandbox ---------------------------------


@pytest.fixture
def docspace(docspace_service: Any) -> Iterator[DocSpaceClient]:
    c = DocSpaceClient(
        docspace_service.base_url, docspace_service.credentials["api_key"], backoff=0
    )
    yield c
    c.close()


def test_docspace_waits_the_retry_after_of_a_429(docspace, docspace_service) -> None:
    docspace_service.faults.burst_429(1, retry_after=1, route="GET /files/rooms")
    started = time.monotonic()
    assert docspace.list_rooms() == []
    assert time.monotonic() - started >= 0.9 and docspace.stats.throttled == 1


def test_docspace_reports_a_lost_reply_to_a_create_as_ambiguous(docspace, docspace_service):
    docspace_service.faults.lose_responses(1.0, route="POST /files/rooms")
    with pytest.raises(DocSpaceAmbiguous):
        docspace.create_room("Maybe", 2)
    assert docspace_service.log.count("POST", "/files/rooms") == 1  # never sent twice
    docspace_service.faults.clear()
    assert [r["title"] for r in docspace.list_rooms()] == ["Maybe"]  # it was applied


def test_docspace_reports_a_5xx_to_a_create_as_ambiguous(docspace, docspace_service) -> None:
    docspace_service.faults.errors(1.0, statuses=(502,), route="POST /files/rooms")
    with pytest.raises(DocSpaceAmbiguous) as caught:
        docspace.create_room("Maybe", 2)
    assert caught.value.status == 502
    assert docspace_service.log.count("POST", "/files/rooms") == 1


def test_docspace_gives_up_a_failing_read_after_its_attempts(docspace, docspace_service):
    docspace_service.faults.errors(1.0, statuses=(503,), route="GET /files/rooms")
    with pytest.raises(DocSpaceError, match="gave up after retries"):
        docspace.list_rooms()
    assert docspace_service.log.count("GET", "/files/rooms") == docspace.max_attempts


def test_docspace_retries_a_create_that_never_reached_the_portal() -> None:
    client = DocSpaceClient(f"http://127.0.0.1:{closed_port()}", "key", backoff=0)
    with pytest.raises(DocSpaceError) as caught:
        client.create_room("Never sent", 2)
    assert not isinstance(caught.value, DocSpaceAmbiguous)
    assert "connection refused: nothing listens on 127.0.0.1" in str(caught.value)
    assert "after 6 tries" in str(caught.value)


@pytest.fixture
def trello(trello_service: Any) -> Iterator[TrelloClient]:
    c = TrelloClient(
        trello_service.base_url,
        trello_service.credentials["api_key"],
        trello_service.credentials["token"],
    )
    c.session._sleep = lambda _: None
    yield c
    c.close()


def test_trello_retries_a_429_on_a_write(trello, trello_service) -> None:
    trello_service.faults.burst_429(1, route="POST /cards/{id}/attachments")
    with pytest.raises(TrelloAccessError):  # the retry reaches Trello, which knows no such card
        trello.request("POST", "/cards/nosuchcard/attachments", url="https://x.example")
    assert trello_service.log.count("POST", "/cards/{id}/attachments") == 2


def test_trello_reports_a_5xx_to_a_write_as_ambiguous(trello, trello_service) -> None:
    trello_service.faults.errors(1.0, statuses=(502,), route="POST /cards/{id}/attachments")
    with pytest.raises(AmbiguousWriteError):
        trello.request("POST", "/cards/c1/attachments", url="https://x.example")
    assert trello_service.log.count("POST", "/cards/{id}/attachments") == 1


def test_trello_gives_up_a_failing_read_after_its_attempts(trello, trello_service) -> None:
    trello_service.faults.errors(1.0, statuses=(503,), route="GET /members/me")
    with pytest.raises(TrelloApiError, match="after 8 tries"):
        trello.get("/members/me")
    assert trello_service.log.count("GET", "/members/me") == 8


def _retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]


def test_an_unreachable_trello_is_one_line_naming_the_cause_and_the_setting(caplog) -> None:
    port = closed_port()
    client = TrelloClient(f"http://127.0.0.1:{port}", "the-key", "the-token")
    client.session._sleep = lambda _: None
    with pytest.raises(TrelloApiError) as caught:
        client.get("/members/me/boards")
    client.close()
    assert str(caught.value) == (
        f"Trello at http://127.0.0.1:{port} cannot be reached (8 tries): connection refused: "
        f"nothing listens on 127.0.0.1:{port} — check sources.trello.base_url"
    )
    # said while it waits, one line a retry; the key and token (in the query) nowhere
    lines = _retry_lines(caplog)
    assert len(lines) == 7 and lines[0].startswith(f"Trello at http://127.0.0.1:{port}: ")
    assert "(try 8 of 8)" in lines[-1]
    assert not [
        r for r in caplog.records if "the-token" in r.getMessage() or "the-key" in r.getMessage()
    ]


def test_an_unreachable_asana_is_one_line_naming_the_cause_and_the_setting(caplog) -> None:
    port = closed_port()
    client = AsanaClient("the-token", f"http://127.0.0.1:{port}", max_retries=2, backoff=0)
    with pytest.raises(AsanaUnavailable) as caught:
        client.list(client.workspaces_api.get_workspaces, opts={})
    client.close()
    assert str(caught.value) == (
        f"Asana at http://127.0.0.1:{port} cannot be reached (3 tries): connection refused: "
        f"nothing listens on 127.0.0.1:{port} — check sources.asana.base_url"
    )
    # our line a retry, not urllib3's "Retrying (PolicyRetry(total=…)) after connection broken"
    assert len(_retry_lines(caplog)) == 2
    assert not [r for r in caplog.records if "PolicyRetry" in r.getMessage()]


def test_an_asana_tried_once_says_1_try() -> None:
    """`sources.asana.max_retries = 0`: one request, worded as one."""
    port = closed_port()
    client = AsanaClient("the-token", f"http://127.0.0.1:{port}", max_retries=0, backoff=0)
    with pytest.raises(AsanaUnavailable, match=r"cannot be reached \(1 try\): connection refused"):
        client.list(client.workspaces_api.get_workspaces, opts={})
    client.close()


@pytest.fixture
def asana(asana_service: Any) -> Iterator[AsanaClient]:
    c = AsanaClient(asana_service.token, asana_service.base_url, max_retries=3, backoff=0)
    yield c
    c.close()


def test_asana_sdk_waits_the_retry_after_of_a_429(asana, asana_service) -> None:
    asana_service.faults.burst_429(1, retry_after=1, route="GET /workspaces")
    started = time.monotonic()
    asana.list(asana.workspaces_api.get_workspaces, opts={})
    assert time.monotonic() - started >= 0.9
    assert asana_service.log.count("GET", "/workspaces") == 2


def test_asana_sdk_gives_up_a_failing_read_after_its_attempts(asana, asana_service) -> None:
    asana_service.faults.errors(1.0, statuses=(503,), route="GET /workspaces")
    with pytest.raises(AsanaError) as caught:
        asana.list(asana.workspaces_api.get_workspaces, opts={})
    assert caught.value.status == 503
    assert asana_service.log.count("GET", "/workspaces") == 4  # max_retries=3: four sends


@pytest.fixture
def asana_links(asana_service: Any) -> Iterator[AsanaLinkWriter]:
    w = AsanaLinkWriter(asana_service.token, asana_service.base_url)
    yield w
    w.close()


def test_asana_link_writer_reports_a_5xx_to_a_post_as_ambiguous(asana_links, asana_service):
    asana_service.faults.errors(1.0, statuses=(502,), route="POST /attachments")
    with pytest.raises(AmbiguousWriteError) as caught:
        asana_links.add("1", "Room", "https://docspace.example/rooms/1")
    assert caught.value.status == 502
    assert asana_service.log.count("POST", "/attachments") == 1


def test_asana_link_writer_retries_a_429_on_a_post(asana_links, asana_service) -> None:
    asana_service.faults.burst_429(1, retry_after=0, route="POST /attachments")
    with pytest.raises(WriteRefused, match="Not a recognized ID"):  # the retry reached Asana
        asana_links.add("1", "Room", "https://docspace.example/rooms/1")
    assert asana_service.log.count("POST", "/attachments") == 2


def test_a_download_is_opened_again_after_a_503_from_the_storage() -> None:
    """The storage sessions of the attachment downloads retry by the same policy."""
    answers = iter([503, 200])

    class Storage(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = next(answers)
            body = b"file" if status == 200 else b""
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            if status == 503:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Storage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/f"
        with storage_session() as session:
            download = open_verified(get(session, url, "test file"), "test file", 4)
            assert b"".join(download.chunks()) == b"file"
    finally:
        server.shutdown()
        server.server_close()
