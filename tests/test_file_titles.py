"""File titles as DocSpace stores them, distinct and stable per task (docspace_destination.file_titles)."""

from __future__ import annotations

from docspace_destination.file_titles import distinct_file_titles, free_title, stored_title
from docspace_destination.titles import utf16_length


def test_a_title_is_cleaned_like_a_folder_title_with_its_extension_lower_cased():
    assert stored_title("  Q3: plan+budget.XLSX ") == "Q3_ plan_budget.xlsx"


def test_a_long_name_is_cut_to_170_keeping_its_extension():
    title = stored_title("a" * 300 + ".pdf")
    assert utf16_length(title) == 170 and title.endswith("a.pdf")


def test_an_emoji_cut_in_half_never_leaves_half_a_character():
    title = stored_title("😀" * 100 + ".png")
    assert utf16_length(title) <= 170 and title.endswith(".png")
    title.encode("utf-8")  # no lone surrogate


def test_same_named_attachments_are_numbered_in_id_order_whatever_the_listing_order():
    titles = distinct_file_titles([("1205", "Minutes.pdf"), ("1203", "minutes.PDF")])
    assert titles == {"1203": "minutes.pdf", "1205": "Minutes (2).pdf"}
    assert distinct_file_titles([("1203", "minutes.PDF"), ("1205", "Minutes.pdf")]) == titles


def test_a_numbered_title_steps_over_an_attachment_that_has_that_name():
    titles = distinct_file_titles([("1", "a.pdf"), ("2", "a.pdf"), ("3", "a (2).pdf")])
    assert titles == {"1": "a.pdf", "2": "a (3).pdf", "3": "a (2).pdf"}


def test_a_title_taken_by_someone_elses_file_moves_to_the_next_free_number():
    assert free_title("report.pdf", ["Report.pdf", "report (2).pdf"]) == "report (3).pdf"
    assert free_title("report.pdf", ["other.pdf"]) == "report.pdf"
