"""File titles: an attachment's name as DocSpace stores it, distinct within its folder.

DocSpace stores a file's title through `Global.ReplaceInvalidCharsAndTruncate` (trim, cut at
170 UTF-16 units, `\\t*+:"<>?|\\/` and surrogates to `_`: the folder rules, see `titles`) and
then `FileDao.SaveFileAsync` writes `ReplaceFileExtension(title, GetFileExtension(title))`:
the stem and the extension lower-cased (products/ASC.Files/Core/Core/Dao/TeamlabDao/FileDao.cs,
v3.7.2; docs/docspace-behaviour.md "DocSpace files and uploads"). We send titles in that
stored form, so the title we record is the title DocSpace shows.

Names are cut to 170 units keeping the extension (the server keeps it only when its dot lies
after unit 150; we cut the stem instead, so `a-very-long-name….pdf` stays a pdf).

Two attachments of one task with the same name get "name.ext", "name (2).ext", … in the
order of their attachment ids (ids grow with time in both sources), so the titles are the
same on every run. A file already in the folder that is not ours is never versioned: our
title steps on to the next free "(n)" (see `free_title`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from docspace_destination.titles import MAX_UNITS, fit_title, utf16_length

EXTENSION_MAX = 20  # longer "extensions" are part of the name (the server's 170-150 window)


def split_extension(title: str) -> tuple[str, str]:
    """(stem, extension with its dot) as Path.GetExtension splits: no extension when there is
    no dot or the dot is the last character."""
    pos = title.rfind(".")
    if pos <= 0 or pos == len(title) - 1 or utf16_length(title[pos:]) > EXTENSION_MAX:
        return title, ""
    return title[:pos], title[pos:]


def stored_title(name: str) -> str:
    """The title DocSpace stores for an upload named `name`, cut to 170 keeping the extension."""
    cleaned = fit_title(name or "", 10_000)  # trim and replace, no cut yet
    stem, ext = split_extension(cleaned)
    ext = ext.lower()
    if utf16_length(stem + ext) > MAX_UNITS:
        stem = fit_title(stem, MAX_UNITS - utf16_length(ext))
    title = stem + ext
    return title or "Untitled"


def numbered(title: str, n: int) -> str:
    """`title` as the n-th of its name: "report.pdf" → "report (2).pdf", within 170 units."""
    if n <= 1:
        return title
    stem, ext = split_extension(title)
    suffix = f" ({n})"
    room = MAX_UNITS - utf16_length(suffix + ext)
    if utf16_length(stem) > room:
        stem = fit_title(stem, room)
    return stem + suffix + ext


def same_title(a: str, b: str) -> bool:
    """DocSpace looks titles up on a utf8_general_ci column: case does not matter."""
    return a.casefold() == b.casefold()


def distinct_file_titles(attachments: Iterable[tuple[str, str]]) -> dict[str, str]:
    """{attachment id: title} for one task's attachments given as (id, name).

    The oldest attachment of a name keeps it, the next is "name (2).ext", and so on; a
    numbered title that another attachment has as its own name is stepped over."""
    names = {aid: stored_title(name) for aid, name in attachments}
    by_title: dict[str, list[str]] = defaultdict(list)
    for attachment_id, title in names.items():
        by_title[title.casefold()].append(attachment_id)
    result: dict[str, str] = {}
    taken = set(by_title)
    for ids in by_title.values():
        ids.sort(key=lambda i: (len(i), i))
        result[ids[0]] = names[ids[0]]
        n = 1
        for aid in ids[1:]:
            n += 1
            candidate = numbered(names[aid], n)
            while candidate.casefold() in taken:
                n += 1
                candidate = numbered(names[aid], n)
            taken.add(candidate.casefold())
            result[aid] = candidate
    return result


def free_title(title: str, taken: Iterable[str]) -> str:
    """`title`, or its first "(n)" variant no file in `taken` has (compared as DocSpace does)."""
    used = {t.casefold() for t in taken}
    if title.casefold() not in used:
        return title
    n = 2
    while True:
        candidate = numbered(title, n)
        if candidate.casefold() not in used:
            return candidate
        n += 1
