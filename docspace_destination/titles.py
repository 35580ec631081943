"""Folder and room titles: rendered from templates, sanitised exactly as DocSpace stores them,
made distinct among siblings with a deterministic suffix.

DocSpace (`Global.ReplaceInvalidCharsAndTruncate`) trims, cuts to 170 UTF-16 units
(keeping an extension whose dot lies after unit 150), then replaces every unit
matching ``[\\t*+:"<>?|\\\\/\\p{Cs}]`` with ``_`` — so an emoji becomes ``__``.
Predicting the stored title lets us find our folders again by exact title.
"""

from __future__ import annotations

import string
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping

MAX_UNITS = 170
KEEP_EXTENSION_AFTER = 150
_INVALID_UNITS = frozenset(ord(c) for c in '\t*+:"<>?|\\/')


def _units(text: str) -> list[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def _text(units: list[int]) -> str:
    return b"".join(u.to_bytes(2, "little") for u in units).decode("utf-16-le", "surrogatepass")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _is_dotnet_whitespace(ch: str) -> bool:
    # .NET char.IsWhiteSpace: Zs/Zl/Zp plus U+0009..U+000D and U+0085; Python's strip() also
    # removes U+001C..U+001F, which DocSpace keeps
    return ch in "\t\n\v\f\r\x85" or unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def _dotnet_trim(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_dotnet_whitespace(text[start]):
        start += 1
    while end > start and _is_dotnet_whitespace(text[end - 1]):
        end -= 1
    return text[start:end]


def sanitize_title(title: str) -> str:
    """The title DocSpace will store for `title`."""
    units = _units(_dotnet_trim(title))
    if len(units) > MAX_UNITS:
        dot = max((i for i, u in enumerate(units) if u == ord(".")), default=-1)
        if dot > KEEP_EXTENSION_AFTER:
            ext = units[dot:]
            units = units[: MAX_UNITS - len(ext)] + ext
        else:
            units = units[:MAX_UNITS]
    cleaned = [ord("_") if u in _INVALID_UNITS or 0xD800 <= u <= 0xDFFF else u for u in units]
    return _text(cleaned)


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_title(template: str, fields: Mapping[str, object], fallback_id: str) -> str:
    """Render a title template (`{name}`, `{gid}`, `{id}`...); empty names become `Untitled (<id>)`."""
    name = str(fields.get("name") or "")
    if not _dotnet_trim(name):
        return f"Untitled ({fallback_id})"
    values = _Fields({k: "" if v is None else v for k, v in fields.items()})
    rendered = string.Formatter().vformat(template, (), values)
    return rendered if _dotnet_trim(rendered) else f"Untitled ({fallback_id})"


def _with_suffix(title: str, suffix: str) -> str:
    """Append `suffix` so that it survives DocSpace's 170-unit cut."""
    room = MAX_UNITS - utf16_length(suffix)
    base = title
    while utf16_length(base) > room:
        base = base[:-1]
    return sanitize_title(base.rstrip() + suffix)


def _id_order(source_id: str) -> tuple[int, str]:
    # Asana gids and Trello ids both grow with creation time: older records keep the plain title
    return (len(source_id), source_id)


def distinct_titles(siblings: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """Map key → final title for one parent's children given (key, source_id, sanitised title).

    The oldest record keeps the plain title; the others get ` (<last 6 of id>)`,
    which depends only on the record itself, so names are the same on every run.
    """
    by_title: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key, source_id, title in siblings:
        by_title[title].append((key, source_id))
    result: dict[str, str] = {}
    taken = set(by_title)
    for title, members in by_title.items():
        members.sort(key=lambda m: _id_order(m[1]))
        result[members[0][0]] = title
        for key, source_id in members[1:]:
            candidate = _with_suffix(title, f" ({source_id[-6:]})")
            if candidate in taken:
                candidate = _with_suffix(title, f" ({source_id})")
            taken.add(candidate)
            result[key] = candidate
    return result
