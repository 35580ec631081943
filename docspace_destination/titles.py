"""Folder and room titles: rendered from templates, fitted to what DocSpace accepts, sanitised
exactly as DocSpace stores them, made distinct among siblings with a deterministic suffix.

DocSpace (`Global.ReplaceInvalidCharsAndTruncate`) trims, cuts to 170 UTF-16 units
(keeping an extension whose dot lies after unit 150), then replaces every unit
matching ``[\\t*+:"<>?|\\\\/\\p{Cs}]`` with ``_`` — so an emoji becomes ``__``.
Before that, the API *validates* the raw request string (`[StringLength]`, UTF-16 units,
before any trim) and answers 400 instead of cutting: room titles at most 170 units
(`CreateRoomRequestDto.Title`, `UpdateRoomRequestDto.Title`), folder titles at most 165
(`CreateFolder.Title`, used by both `FoldersController.CreateFolder` and `RenameFolder`;
products/ASC.Files/Server/ApiModels/RequestDto/, v3.7.2). So we cut first (:func:`fit_title`)
and send the title in its stored form: the title sent is the title stored, and we find our
folders again by exact title.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

# the fields a room or folder title template may use (rendered in `desired.desired_tree`)
TITLE_FIELDS = ("name", "id", "gid", "team")
MAX_UNITS = 170  # the sanitiser's cut (Global.MaxTitle)
KEEP_EXTENSION_AFTER = 150
ROOM_TITLE_MAX = 170  # [StringLength(170)] on room create/update
FOLDER_TITLE_MAX = 165  # [StringLength(165)] on folder create/rename
EXTENSION_WINDOW = (
    MAX_UNITS - KEEP_EXTENSION_AFTER
)  # an extension is kept when its dot is this close to the cut
_INVALID_UNITS = frozenset(ord(c) for c in '\t*+:"<>?|\\/')


def _units(text: str) -> list[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def _text(units: list[int]) -> str:
    return b"".join(u.to_bytes(2, "little") for u in units).decode("utf-16-le", "surrogatepass")


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# .NET char.IsWhiteSpace: Zs/Zl/Zp plus U+0009..U+000D and U+0085 (Python's strip() also
# removes U+001C..U+001F, which DocSpace keeps). Spelled out so a trim is one C call;
# tests/test_docspace_titles.py checks it against unicodedata over every code point.
DOTNET_WHITESPACE = (
    "\t\n\v\f\r\x85 \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _is_dotnet_whitespace(ch: str) -> bool:
    return ch in DOTNET_WHITESPACE


def _dotnet_trim(text: str) -> str:
    return text.strip(DOTNET_WHITESPACE)


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


# what sends a title through the slow path below: a character the sanitiser replaces, or one
# outside the BMP (two UTF-16 units, so len() undercounts and a cut may split it)
_NEEDS_FITTING = re.compile('[\t*+:"<>?|\\\\/\ud800-\udfff\U00010000-\U0010ffff]')


def _already_fitted(title: str, limit: int) -> bool:
    """Most titles need nothing: short, BMP-only, no replaced character, nothing to trim (a
    plan of 200,000 folders fits every title; this spares the per-unit work)."""
    return (
        0 < len(title) <= limit
        and not _is_dotnet_whitespace(title[0])
        and not _is_dotnet_whitespace(title[-1])
        and _NEEDS_FITTING.search(title) is None
    )


def fit_title(title: str, limit: int = ROOM_TITLE_MAX) -> str:
    """The title to send for `title` where the API accepts at most `limit` UTF-16 units.

    Cut the way the server's own sanitiser cuts (trim, then keep an extension whose last dot
    lies within the last 20 units, else a plain cut), then replace what the sanitiser replaces
    and trim what the cut exposed. The result is a fixed point: trimmed, at most `limit` units,
    no character the server changes — so DocSpace stores exactly what we send, and a cut through
    an emoji leaves a predictable ``_`` (a lone surrogate) rather than half a character.
    """
    if _already_fitted(title, limit):
        return title
    units = _units(_dotnet_trim(title))
    if len(units) > limit:
        dot = max((i for i, u in enumerate(units) if u == ord(".")), default=-1)
        ext = units[dot:] if dot > limit - EXTENSION_WINDOW else []
        units = units[: limit - len(ext)] + ext if ext and len(ext) < limit else units[:limit]
    cleaned = [ord("_") if u in _INVALID_UNITS or 0xD800 <= u <= 0xDFFF else u for u in units]
    return _dotnet_trim(_text(cleaned))


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_title(template: str, fields: Mapping[str, object], fallback_id: str) -> str:
    """Render a title template (`{name}`, `{gid}`, `{id}`...); empty names become `Untitled (<id>)`."""
    name = str(fields.get("name") or "")
    if not _dotnet_trim(name):
        return f"Untitled ({fallback_id})"
    values = _Fields({k: "" if v is None else v for k, v in fields.items()})
    rendered = template.format_map(values)  # str.format's grammar, in C (Formatter's is Python)
    return rendered if _dotnet_trim(rendered) else f"Untitled ({fallback_id})"


def _with_suffix(title: str, suffix: str, limit: int) -> str:
    """Append `suffix` so that it survives the `limit`-unit cut (the base is cut, not the suffix)."""
    room = limit - utf16_length(suffix)
    base = title
    while utf16_length(base) > room:
        base = base[:-1]
    return fit_title(_dotnet_trim(base) + suffix, limit)


def _id_order(source_id: str) -> tuple[int, str]:
    # Asana gids and Trello ids both grow with creation time: older records keep the plain title
    return (len(source_id), source_id)


def distinct_titles(
    siblings: Iterable[tuple[str, str, str]], limit: int = ROOM_TITLE_MAX
) -> dict[str, str]:
    """Map key → final title for one parent's children given (key, source_id, fitted title).

    `limit` is the API's title limit for the siblings' kind (rooms 170, folders 165).
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
            candidate = _with_suffix(title, f" ({source_id[-6:]})", limit)
            if candidate in taken:
                candidate = _with_suffix(title, f" ({source_id})", limit)
            taken.add(candidate)
            result[key] = candidate
    return result
