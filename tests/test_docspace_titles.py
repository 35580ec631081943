"""Titles: predicted exactly as DocSpace stores them, readable fallbacks, distinct stable sibling names."""

from __future__ import annotations

import unicodedata

import pytest

from docspace_destination.titles import (
    DOTNET_WHITESPACE,
    FOLDER_TITLE_MAX,
    ROOM_TITLE_MAX,
    distinct_titles,
    fit_title,
    render_title,
    sanitize_title,
    utf16_length,
)
from sandbox.names import HOSTILE_NAMES


def test_illegal_characters_become_underscores():
    assert sanitize_title('a/b\\c:d*e?f"g<h>i|j') == "a_b_c_d_e_f_g_h_i_j"


def test_plus_and_tab_are_replaced_too():
    assert sanitize_title("C++\tnotes") == "C___notes"


def test_emoji_outside_the_bmp_becomes_two_underscores():
    assert sanitize_title("Launch 🚀") == "Launch __"


def test_titles_are_trimmed():
    assert sanitize_title("  spaced out  ") == "spaced out"


def test_long_titles_are_cut_to_170_utf16_units():
    assert sanitize_title("x" * 300) == "x" * 170


def test_cut_keeps_an_extension_whose_dot_is_late():
    title = "a" * 160 + ".docx" + "b" * 0
    long = "a" * 200 + ".docx"
    assert sanitize_title(title) == title
    assert sanitize_title(long) == "a" * 165 + ".docx"


def test_cut_ignores_an_early_dot():
    long = "v1.2 " + "z" * 300
    assert sanitize_title(long) == long[:170]


def test_cut_through_an_emoji_leaves_underscores_not_broken_text():
    title = "a" * 169 + "🚀"
    assert sanitize_title(title) == "a" * 169 + "_"


@pytest.mark.parametrize("name", [n for n in HOSTILE_NAMES if n.strip()])
def test_prediction_matches_the_sandbox_server(name):
    from sandbox.docspace_titles import sanitize_title as server_sanitize

    assert sanitize_title(name) == server_sanitize(name)


def test_empty_or_blank_names_get_a_readable_fallback():
    assert render_title("{name}", {"name": "   "}, "1201") == "Untitled (1201)"
    assert render_title("{name}", {"name": None}, "1201") == "Untitled (1201)"


def test_title_templates_can_use_record_fields():
    assert render_title("{name} [{gid}]", {"name": "Plan", "gid": "42"}, "42") == "Plan [42]"


def test_unknown_template_fields_are_left_visible_not_crashing():
    assert render_title("{name} {nope}", {"name": "Plan"}, "42") == "Plan {nope}"


def test_colliding_siblings_get_distinct_titles_and_the_oldest_keeps_the_plain_one():
    titles = distinct_titles(
        [("k2", "1202", "Design"), ("k1", "1201", "Design"), ("k3", "1300", "Other")]
    )
    assert titles == {"k1": "Design", "k2": "Design (1202)", "k3": "Other"}


def test_collision_suffixes_are_the_same_whatever_the_input_order():
    rows = [("a", "111111111", "X"), ("b", "222222222", "X"), ("c", "333333333", "X")]
    assert distinct_titles(rows) == distinct_titles(list(reversed(rows)))


def test_suffix_survives_the_170_unit_cut():
    long = sanitize_title("y" * 300)
    titles = distinct_titles([("a", "1", long), ("b", "2", long)])
    assert titles["b"].endswith(" (2)")
    assert utf16_length(titles["b"]) <= 170
    assert titles["a"] != titles["b"]


def test_prediction_matches_the_sandbox_server_on_generated_titles():
    import random

    from sandbox.docspace_titles import sanitize_title as server_sanitize

    alphabet = [
        "a",
        "Z",
        " ",
        ".",
        "\t",
        "\x1f",
        "\u00a0",
        "\u2003",
        "/",
        ":",
        "*",
        "+",
        '"',
        "<",
        "|",
        "🚀",
        "😀",
        "é",
        "ش",
        "\n",
        "\x85",
        "?",
    ]
    rng = random.Random(5)
    for _ in range(3000):
        title = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 220)))
        assert sanitize_title(title) == server_sanitize(title), repr(title)


def test_the_trimmed_characters_are_exactly_dotnets_whitespace():
    # char.IsWhiteSpace: the Zs, Zl and Zp categories plus U+0009..U+000D and U+0085
    dotnet = {
        chr(c)
        for c in range(0x110000)
        if unicodedata.category(chr(c)) in ("Zs", "Zl", "Zp") or chr(c) in "\t\n\v\f\r\x85"
    }
    assert set(DOTNET_WHITESPACE) == dotnet


def test_dotnet_trim_keeps_unit_separator_characters():
    assert sanitize_title("\x1fname\x1f") == "\x1fname\x1f"
    assert sanitize_title("\u00a0\u2003name\n") == "name"


# -- fitted to the API's [StringLength] limits: the title sent is the title stored (issue 9) ---


@pytest.mark.parametrize("units", [150, 164, 165, 166, 170, 171, 200, 400])
def test_folder_titles_are_cut_to_165_units(units):
    assert fit_title("x" * units, FOLDER_TITLE_MAX) == "x" * min(units, 165)


@pytest.mark.parametrize("units", [150, 170, 171, 400])
def test_room_titles_are_cut_to_170_units(units):
    assert fit_title("x" * units, ROOM_TITLE_MAX) == "x" * min(units, 170)


def test_the_cut_keeps_a_late_extension_like_the_servers_cut():
    assert fit_title("a" * 200 + ".docx", FOLDER_TITLE_MAX) == "a" * 160 + ".docx"
    assert fit_title("v1.2 " + "z" * 300, FOLDER_TITLE_MAX) == ("v1.2 " + "z" * 300)[:165]


def test_an_emoji_cut_in_half_becomes_one_underscore_and_a_whole_one_two():
    assert fit_title("a" * 164 + "🚀", FOLDER_TITLE_MAX) == "a" * 164 + "_"
    assert fit_title("a" * 163 + "🚀", FOLDER_TITLE_MAX) == "a" * 163 + "__"
    assert fit_title("🚀" * 100, FOLDER_TITLE_MAX) == "_" * 165


def test_whitespace_exposed_by_the_cut_is_trimmed_so_the_server_stores_what_we_send():
    assert fit_title("a" * 164 + " b", FOLDER_TITLE_MAX) == "a" * 164


def test_counting_starts_after_the_trim_the_sanitiser_does():
    assert fit_title("   " + "a" * 165, FOLDER_TITLE_MAX) == "a" * 165


def test_collision_suffixes_fit_the_folder_limit():
    long = fit_title("y" * 300, FOLDER_TITLE_MAX)
    titles = distinct_titles([("a", "1201", long), ("b", "1202", long)], FOLDER_TITLE_MAX)
    assert titles["a"] == "y" * 165
    assert titles["b"] == "y" * 158 + " (1202)"
    assert utf16_length(titles["b"]) == 165


def test_names_that_collide_only_after_the_cut_are_told_apart():
    a, b = (fit_title("p" * 170 + tail, FOLDER_TITLE_MAX) for tail in ("one", "two"))
    assert a == b
    titles = distinct_titles([("k1", "111111", a), ("k2", "222222", b)], FOLDER_TITLE_MAX)
    assert titles["k1"] != titles["k2"] and titles["k2"].endswith(" (222222)")


def test_a_fitted_title_is_stored_unchanged_by_the_server_on_generated_titles():
    import random

    from sandbox.docspace_titles import length_error
    from sandbox.docspace_titles import sanitize_title as server_sanitize

    alphabet = ["a", " ", ".", "\t", "\u00a0", "/", ":", "🚀", "é", "\n", "\x85", "?", "\x1f"]
    rng = random.Random(9)
    for _ in range(3000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 420)))
        for limit in (FOLDER_TITLE_MAX, ROOM_TITLE_MAX):
            sent = fit_title(raw, limit)
            assert length_error(sent, limit) is None, repr(raw)  # never a 400
            assert server_sanitize(sent) == sent, repr(raw)  # stored as sent
            assert fit_title(sent, limit) == sent  # a fixed point
