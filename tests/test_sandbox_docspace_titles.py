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
    renamed = api.ok(api.put(f"/files/folder/{folder['id']}", {"title": "x" * 300}))
    assert renamed["title"] == "x" * 170


def test_a_whitespace_only_room_title_is_rejected_with_400(api: DocSpaceApi) -> None:
    response = api.post("/files/rooms", {"title": "   ", "roomType": 2})
    assert response.status_code == 400
    assert response.json()["status"] == 1
