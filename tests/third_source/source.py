"""The test source's dlt source: what a notes API would give."""

from __future__ import annotations

from typing import Any

import dlt


@dlt.source(name="notes")
def notes_source() -> Any:
    """Two notebooks and their pages, as the notes API would give them."""

    @dlt.resource(write_disposition="replace")
    def books() -> Any:
        yield [
            {"id": "1", "title": "Field notes", "closed": False, "owner_email": "ada@example.com"},
            {"id": "2", "title": "Recipes", "closed": False, "owner_email": "grace@example.com"},
        ]

    @dlt.resource(write_disposition="replace")
    def pages() -> Any:
        yield [
            {"id": "10", "book_id": "1", "title": "Day one"},
            {"id": "20", "book_id": "2", "title": "Bread"},
        ]

    return books, pages
