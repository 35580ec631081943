"""Every page of a DocSpace `{files, folders, total}` listing, through dlt's OffsetPaginator.

DocSpace pages with `startIndex`/`count` and tells the `total` (FilesControllerHelper /
VirtualRoomsController.GetRoomsFolderAsync): dlt's `OffsetPaginator` drives the offsets.
The requests themselves go through the client's paced urllib3 transport (`call`), not
dlt's RESTClient, so the paginator is handed a request's parameters and each page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dlt.sources.helpers.rest_client.paginators import OffsetPaginator
from requests import Request

from docspace_destination.limits import PAGE_SIZE


class ListingPaginator(OffsetPaginator):
    """dlt's offset paging as DocSpace answers it: stops on a short page too (the portal
    caps `count`), and a reply without `total` (an older portal) is read to its last page."""

    def __init__(self, limit: int = PAGE_SIZE) -> None:
        super().__init__(
            limit=limit, offset_param="startIndex", limit_param="count", total_path="total"
        )

    def update_state(self, response: Any, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if len(data or []) < self.limit:
            self._has_next_page = False

    def _handle_missing_total(self, response_json: Any) -> None:
        return None

    def _handle_invalid_total(self, total: Any) -> None:
        return None


class _Page:
    """What the paginator reads of a reply: its JSON (here, the envelope's `response`)."""

    def __init__(self, page: dict[str, Any]) -> None:
        self._page = page

    def json(self) -> dict[str, Any]:
        return self._page


def pages(
    get: Callable[[dict[str, Any]], dict[str, Any]],
    params: dict[str, Any] | None = None,
    page_size: int = PAGE_SIZE,
) -> Iterator[dict[str, Any]]:
    """Every page `get(params)` returns, the paging parameters set by the paginator."""
    paginator = ListingPaginator(page_size)
    request = Request(params=dict(params or {}))
    paginator.init_request(request)
    while True:
        page = get(dict(request.params)) or {}
        yield page
        paginator.update_state(_Page(page), (page.get("folders") or []) + (page.get("files") or []))
        if not paginator.has_next_page:
            return
        paginator.update_request(request)
