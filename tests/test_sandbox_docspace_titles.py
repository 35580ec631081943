"""The DocSpace emulator stores titles exactly as Global.ReplaceInvalidCharsAndTruncate does."""

from __future__ import annotations

import pytest

from sandbox.docspace_titles import sanitize_title, utf16_len
from tests.sandbox_docspace_api import DocSpaceApi


@pytest.fixture
def api(docspace_service) -> DocSpaceApi:
    return DocSpaceApi(docspace_service)


def test_each_illegal_character_becomes_an_underscore() -> None:
    assert sanitize_title('a/b\\c:d*e?f"g<h>i|j+k\tl') == "a_b_c_d_e_f_g_h_i_j_k_l"


def test_an_emoji_outside_the_bmp_becomes_two_underscores() -> None:
    assert sanitize_title("Launch 🚀 plan") == "Launch __ plan"


def test_characters_inside_the_bmp_are_kept() -> None:
    assert sanitize_title("Ünïcödé naïve café — خطة") == "Ünïcödé naïve café — خطة"


def test_a_300_character_title_is_cut_to_170() -> None:
    assert sanitize_title("x" * 300) == "x" * 170


def test_the_extension_is_kept_when_the_last_dot_is_after_unit_150() -> None:
    title = "r" * 160 + ".final" + "e" * 20 + ".docx"
    stored = sanitize_title(title)
    assert stored == "r" * 160 + ".fina" + ".docx"
    assert utf16_len(stored) == 170


def test_a_last_dot_before_unit_150_is_cut_plainly() -> None:
    title = "report.v2 " + "x" * 200
    assert sanitize_title(title) == title[:170]


def test_the_title_is_trimmed_before_it_is_cut() -> None:
    assert sanitize_title("   " + "y" * 170 + "   ") == "y" * 170
    assert sanitize_title("  leading and trailing  ") == "leading and trailing"


def test_length_counts_utf16_units_so_emoji_count_twice() -> None:
    stored = sanitize_title("🚀" * 100)  # 200 UTF-16 units
    assert stored == "_" * 170


def test_a_cut_through_a_surrogate_pair_leaves_one_underscore() -> None:
    stored = sanitize_title("a" * 169 + "🚀" + "b")
    assert stored == "a" * 169 + "_"


def test_trim_follows_csharp_whitespace_not_python() -> None:
    # U+001F is whitespace for Python's strip() but not for C#'s Trim()
    assert sanitize_title("\x1fname\x1f") == "\x1fname\x1f"
    assert sanitize_title("\u00a0\u2003name\n") == "name"


def test_whitespace_only_becomes_empty() -> None:
    assert sanitize_title("   ") == ""


def test_the_server_stores_a_room_under_its_sanitised_title(api: DocSpaceApi) -> None:
    room = api.create_room("  Q3 🚀 plan: a/b  ")
    assert room["title"] == "Q3 __ plan_ a_b"
    assert api.emulator.room(room["id"]).title == "Q3 __ plan_ a_b"


def test_a_folder_rename_is_sanitised_too(api: DocSpaceApi) -> None:
    room = api.create_room("Room")
    folder = api.create_folder(room["id"], "draft")
    renamed = api.ok(api.put(f"/files/folder/{folder['id']}", {"title": " Q3: a/b 🚀 "}))
    assert renamed["title"] == "Q3_ a_b __"


# -- [StringLength] validation of the raw request title (issue 9, section 1) -------------------


def test_a_room_title_over_170_units_is_rejected_with_400_not_cut(api: DocSpaceApi) -> None:
    response = api.post("/files/rooms", {"title": "r" * 171, "roomType": 2})
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 1 and body["statusCode"] == 400
    assert "maximum length of 170" in body["response"]["errors"]["Title"][0]
    assert api.emulator.count_rooms() == 0
    assert (
        api.ok(api.post("/files/rooms", {"title": "r" * 170, "roomType": 2}))["title"] == "r" * 170
    )


def test_a_room_rename_over_170_units_is_rejected_with_400(api: DocSpaceApi) -> None:
    room = api.create_room("Room")
    assert api.put(f"/files/rooms/{room['id']}", {"title": "r" * 171}).status_code == 400
    assert api.emulator.room(room["id"]).title == "Room"


def test_a_folder_title_over_165_units_is_rejected_on_create_and_rename(api: DocSpaceApi) -> None:
    room = api.create_room("Room")
    assert api.post(f"/files/folder/{room['id']}", {"title": "f" * 166}).status_code == 400
    folder = api.create_folder(room["id"], "f" * 165)
    assert folder["title"] == "f" * 165
    assert api.put(f"/files/folder/{folder['id']}", {"title": "g" * 166}).status_code == 400
    assert [f.title for f in api.emulator.folders(room["id"])] == ["f" * 165]


def test_title_length_is_counted_in_utf16_units_before_trimming(api: DocSpaceApi) -> None:
    room = api.create_room("Room")
    # 160 units of text plus 6 spaces: 166 raw units is too long even though the trimmed title fits
    assert (
        api.post(f"/files/folder/{room['id']}", {"title": "a" * 160 + " " * 6}).status_code == 400
    )
    # 82 emoji are 164 units (2 each): one more and it is over
    assert api.post(f"/files/folder/{room['id']}", {"title": "🚀" * 82}).status_code == 200
    assert api.post(f"/files/folder/{room['id']}", {"title": "🚀" * 83}).status_code == 400


def test_room_from_template_titles_are_cut_not_rejected(api: DocSpaceApi) -> None:
    template = api.emulator.add_template("T")
    job = api.ok(
        api.post("/files/rooms/fromtemplate", {"templateId": template.id, "title": "t" * 300})
    )
    assert api.emulator.room(job["roomId"]).title == "t" * 170


def test_a_whitespace_only_room_title_is_rejected_with_400(api: DocSpaceApi) -> None:
    response = api.post("/files/rooms", {"title": "   ", "roomType": 2})
    assert response.status_code == 400
    assert response.json()["status"] == 1
