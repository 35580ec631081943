"""The emulators' attachments behave as Asana's and Trello's do (sandbox/asana_attachments.py,
sandbox/trello_files.py, and the vendor documentation they cite)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import requests

from sandbox import Service
from sandbox.attachment_files import content_sha256
from tests.contract import validate_response


def asana_get(svc: Service, path: str, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {svc.token}"}
    return requests.get(svc.base_url + path, params=params, headers=headers, timeout=10)


def sha256_of(response: requests.Response) -> str:
    digest = hashlib.sha256()
    for chunk in response.iter_content(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture
def asana_task(asana_service: Service) -> tuple[Service, str]:
    em = asana_service.emulator
    ws = em.add_workspace("W")
    project = em.add_project("P", ws)
    return asana_service, em.add_task("T", [(project, None)])


@pytest.fixture
def trello_card(trello_service: Service) -> tuple[Service, str]:
    em = trello_service.emulator
    board = em.add_board("B")
    return trello_service, em.add_card("C", em.add_list(board, "L"))


def oauth(svc: Service) -> dict[str, str]:
    key, token = svc.credentials["api_key"], svc.credentials["token"]
    return {"Authorization": f'OAuth oauth_consumer_key="{key}", oauth_token="{token}"'}


# -- Asana ------------------------------------------------------------------------------------


def test_asana_download_url_streams_the_files_bytes_with_content_length(asana_task: Any) -> None:
    svc, task = asana_task
    gid = svc.emulator.add_file_attachment(task, "big.bin", 3_000_000)
    record = asana_get(svc, f"/attachments/{gid}").json()["data"]
    assert (record["host"], record["size"]) == ("asana", 3_000_000)
    download = requests.get(record["download_url"], stream=True, timeout=10)  # no Asana token
    assert download.headers["Content-Length"] == "3000000"
    assert sha256_of(download) == content_sha256(int(gid), 3_000_000)


def test_asana_download_url_expires_after_two_minutes_with_s3s_403_xml(asana_task: Any) -> None:
    svc, task = asana_task
    gid = svc.emulator.add_file_attachment(task, "a.pdf", 100)
    url = asana_get(svc, f"/attachments/{gid}").json()["data"]["download_url"]
    svc.emulator.advance_clock(121)
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 403
    assert expired.headers["Content-Type"] == "application/xml"
    assert "<Code>AccessDenied</Code><Message>Request has expired</Message>" in expired.text
    fresh = asana_get(svc, f"/attachments/{gid}").json()["data"]["download_url"]
    assert requests.get(fresh, timeout=10).status_code == 200


def test_asana_download_url_with_a_changed_signature_is_refused(asana_task: Any) -> None:
    svc, task = asana_task
    gid = svc.emulator.add_file_attachment(task, "a.pdf", 100)
    url = asana_get(svc, f"/attachments/{gid}").json()["data"]["download_url"]
    forged = requests.get(url[:-4] + "0000", timeout=10)
    assert forged.status_code == 403 and "SignatureDoesNotMatch" in forged.text


def test_asana_external_attachments_have_a_host_and_url_but_no_size(asana_task: Any) -> None:
    svc, task = asana_task
    gid = svc.emulator.add_link_attachment(task, "Doc", "https://docs.google.com/d/1", "gdrive")
    record = asana_get(svc, f"/attachments/{gid}").json()["data"]
    assert record["host"] == record["resource_subtype"] == "gdrive"
    assert record["view_url"] == "https://docs.google.com/d/1" and "size" not in record


def test_asana_listing_by_parent_is_compact_unless_opt_fields_ask(asana_task: Any) -> None:
    svc, task = asana_task
    gid = svc.emulator.add_file_attachment(task, "a.pdf", 100)
    compact = asana_get(svc, "/attachments", parent=task).json()["data"]
    assert compact == [
        {"gid": gid, "resource_type": "attachment", "name": "a.pdf", "resource_subtype": "asana"}
    ]
    wide = asana_get(svc, "/attachments", parent=task, opt_fields="size,host").json()["data"]
    assert wide == [{"gid": gid, "size": 100, "host": "asana"}]


def test_adding_or_deleting_an_attachment_moves_the_tasks_modified_at(asana_task: Any) -> None:
    svc, task = asana_task
    em = svc.emulator
    before = em.get(task).modified_at
    gid = em.add_file_attachment(task, "a.pdf", 100)
    added = em.get(task).modified_at
    requests.delete(
        f"{svc.base_url}/attachments/{gid}",
        headers={"Authorization": f"Bearer {svc.token}"},
        timeout=10,
    )
    assert before < added < em.get(task).modified_at
    assert asana_get(svc, "/attachments", parent=task).json()["data"] == []


def test_asana_batch_answers_each_action_in_order(asana_task: Any) -> None:
    svc, task = asana_task
    gid = svc.emulator.add_file_attachment(task, "a.pdf", 100)
    actions = [
        {"method": "get", "relative_path": "/attachments", "data": {"parent": task}},
        {"method": "get", "relative_path": "/attachments/1", "options": {"fields": ["name"]}},
    ]
    body = requests.post(
        svc.base_url + "/batch",
        json={"data": {"actions": actions}},
        headers={"Authorization": f"Bearer {svc.token}"},
        timeout=10,
    ).json()
    assert [r["status_code"] for r in body["data"]] == [200, 404]
    assert body["data"][0]["body"]["data"][0]["gid"] == gid


def test_asana_batch_refuses_more_than_ten_actions(asana_task: Any) -> None:
    svc, task = asana_task
    action = {"method": "get", "relative_path": "/attachments", "data": {"parent": task}}
    response = requests.post(
        svc.base_url + "/batch",
        json={"data": {"actions": [action] * 11}},
        headers={"Authorization": f"Bearer {svc.token}"},
        timeout=10,
    )
    assert response.status_code == 400


def test_asana_batch_counts_every_action_against_the_rate_limit(asana_task: Any) -> None:
    svc, task = asana_task
    svc.emulator.limits.requests_per_window = 15
    action = {"method": "get", "relative_path": "/attachments", "data": {"parent": task}}
    post = {
        "json": {"data": {"actions": [action] * 10}},
        "headers": {"Authorization": f"Bearer {svc.token}"},
        "timeout": 10,
    }
    assert requests.post(svc.base_url + "/batch", **post).status_code == 200
    refused = requests.post(svc.base_url + "/batch", **post)  # 20 > 15 in the window
    assert refused.status_code == 429 and refused.headers["Retry-After"]


def test_asana_attachment_record_matches_the_openapi_spec(asana_task: Any) -> None:
    svc, task = asana_task
    gid = svc.emulator.add_file_attachment(task, "a.pdf", 100)
    validate_response(
        "asana", "GET", f"/attachments/{gid}", asana_get(svc, f"/attachments/{gid}").json()
    )


# -- Trello -----------------------------------------------------------------------------------


def test_trello_cards_listing_carries_attachments_inline(trello_card: Any) -> None:
    svc, card = trello_card
    em = svc.emulator
    upload = em.add_file_attachment(card, "plan.pdf", 5_000, "application/pdf")
    em.add_attachment(card, "https://docs.google.com/x", "Drive")
    board = em.cards[card]["idBoard"]
    query = {"key": svc.credentials["api_key"], "token": svc.token}
    cards = requests.get(
        f"{svc.base_url}/boards/{board}/cards/all",
        params={**query, "attachments": "true", "attachment_fields": "bytes,isUpload,name,url"},
        timeout=10,
    ).json()
    atts = cards[0]["attachments"]
    assert [(a["name"], a["isUpload"], a["bytes"]) for a in atts] == [
        ("plan.pdf", True, 5_000),
        ("Drive", False, None),
    ]
    assert atts[0]["url"] == f"{svc.base_url}/cards/{card}/attachments/{upload}/download/plan.pdf"
    assert set(atts[0]) == {"id", "bytes", "isUpload", "name", "url"}


def test_trello_download_refuses_key_and_token_in_the_query_string(trello_card: Any) -> None:
    svc, card = trello_card
    upload = svc.emulator.add_file_attachment(card, "plan.pdf", 5_000)
    url = f"{svc.base_url}/cards/{card}/attachments/{upload}/download/plan.pdf"
    refused = requests.get(
        url, params={"key": svc.credentials["api_key"], "token": svc.token}, timeout=10
    )
    assert (refused.status_code, refused.text) == (401, "unauthorized permission requested")


def test_trello_download_with_the_oauth_header_redirects_to_the_hosted_file(
    trello_card: Any,
) -> None:
    svc, card = trello_card
    upload = svc.emulator.add_file_attachment(card, "plan.pdf", 2_500_000)
    url = f"{svc.base_url}/cards/{card}/attachments/{upload}/download/plan.pdf"
    redirect = requests.get(url, headers=oauth(svc), allow_redirects=False, timeout=10)
    assert redirect.status_code == 302
    hosted = requests.get(redirect.headers["Location"], stream=True, timeout=10)
    assert hosted.headers["Content-Length"] == "2500000"
    assert sha256_of(hosted) == svc.emulator.attachment_sha256(upload)


def test_trello_hosted_file_refuses_a_forwarded_authorization_header(trello_card: Any) -> None:
    svc, card = trello_card
    upload = svc.emulator.add_file_attachment(card, "plan.pdf", 100)
    url = f"{svc.base_url}/cards/{card}/attachments/{upload}/download/plan.pdf"
    followed = requests.get(url, headers=oauth(svc), timeout=10)  # requests keeps it: same host
    assert followed.status_code == 400 and "InvalidArgument" in followed.text
