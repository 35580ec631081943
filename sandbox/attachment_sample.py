"""Sample attachments for the Asana and Trello samples: every shape the document copy must handle.

- small uploaded files of common types;
- one large file (~25 MB) that needs three 10 MiB upload chunks;
- one external link (Google Drive; on Asana also a plain URL);
- two uploaded files with the same name on one task/card;
- optionally one oversize file (120 MB, over the default 100 MB limit) — free here, since
  content is generated while it streams (sandbox.attachment_files), never stored.

Everything is recorded by role so tests compute exact counts and SHA-256s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.asana import AsanaEmulator
    from sandbox.trello import TrelloEmulator

LARGE = 25 * 1024 * 1024 + 12_345  # three 10 MiB chunks, the last one partial
OVERSIZE = 120 * 1024 * 1024
SMALL = [
    (
        "Brief.docx",
        48_213,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("Budget.xlsx", 20_480, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("Logo.png", 7_301, "image/png"),
]
PAIR = ("Minutes.pdf", (12_000, 15_500), "application/pdf")
LARGE_FILE = ("Recording.mp4", "video/mp4")
OVERSIZE_FILE = ("Archive.zip", "application/zip")
DRIVE_LINK = ("Design doc", "https://docs.google.com/document/d/1sAmPlE/edit")


def add_asana_attachments(
    em: AsanaEmulator, tasks: list[str], oversize: bool = False
) -> dict[str, list[str]]:
    """Attachments on the first tasks of `tasks` (at least three); gids by role."""
    out: dict[str, list[str]] = {"uploads": [], "links": [], "large": [], "oversize": []}
    first, second, third = tasks[0], tasks[1], tasks[2]
    for name, size, mime in SMALL:
        out["uploads"].append(em.add_file_attachment(first, name, size, mime_type=mime))
    for size in PAIR[1]:
        out["uploads"].append(em.add_file_attachment(second, PAIR[0], size, mime_type=PAIR[2]))
    out["large"].append(
        em.add_file_attachment(third, LARGE_FILE[0], LARGE, mime_type=LARGE_FILE[1])
    )
    out["links"].append(em.add_link_attachment(second, *DRIVE_LINK, host="gdrive"))
    out["links"].append(
        em.add_link_attachment(third, "Status page", "https://status.example.com", host="external")
    )
    if oversize:
        out["oversize"].append(
            em.add_file_attachment(third, OVERSIZE_FILE[0], OVERSIZE, mime_type=OVERSIZE_FILE[1])
        )
    return out


def add_trello_attachments(
    em: TrelloEmulator, cards: list[str], oversize: bool = False
) -> dict[str, list[str]]:
    """The same shapes on the first cards of `cards` (at least three); ids by role."""
    out: dict[str, list[str]] = {"uploads": [], "links": [], "large": [], "oversize": []}
    first, second, third = cards[0], cards[1], cards[2]
    for name, size, mime in SMALL:
        out["uploads"].append(em.add_file_attachment(first, name, size, mime))
    for size in PAIR[1]:
        out["uploads"].append(em.add_file_attachment(second, PAIR[0], size, PAIR[2]))
    out["large"].append(em.add_file_attachment(third, LARGE_FILE[0], LARGE, LARGE_FILE[1]))
    out["links"].append(em.add_attachment(second, DRIVE_LINK[1], DRIVE_LINK[0])["id"])
    if oversize:
        out["oversize"].append(
            em.add_file_attachment(third, OVERSIZE_FILE[0], OVERSIZE, OVERSIZE_FILE[1])
        )
    return out
