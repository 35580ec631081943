"""DocSpace's title sanitiser, reproduced exactly (`Global.ReplaceInvalidCharsAndTruncate`).

The server stores rooms and folders under a *changed* title, so anything that
wants to find its own rooms again must predict the stored form. The C# code:

    title = title.Trim();
    if (170 < title.Length) {                       // Length counts UTF-16 units
        var pos = title.LastIndexOf('.');
        if (170 - 20 < pos) title = title[..(170 - (title.Length - pos))] + title[pos..];
        else                title = title[..170];
    }
    return Regex.Replace(title, "[\\t*\\+:\\"<>?|\\\\/\\p{Cs}]", "_");  // per UTF-16 unit

Lengths and the regex work on UTF-16 code units, so an emoji outside the BMP is
two surrogate units and becomes ``__``; a cut through a surrogate pair leaves a
lone surrogate that becomes ``_``.
"""

from __future__ import annotations

import unicodedata

MAX_TITLE = 170
_INVALID_UNITS = frozenset(ord(c) for c in '\t*+:"<>?|\\/')
_CSHARP_EXTRA_WHITESPACE = frozenset("\t\n\v\f\r\x85")


def _is_csharp_whitespace(ch: str) -> bool:
    # char.IsWhiteSpace: Zs/Zl/Zp plus U+0009..U+000D and U+0085. Python's str.strip()
    # also strips U+001C..U+001F, which C# keeps, so strip() is not exact.
    return ch in _CSHARP_EXTRA_WHITESPACE or unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def _csharp_trim(title: str) -> str:
    start, end = 0, len(title)
    while start < end and _is_csharp_whitespace(title[start]):
        start += 1
    while end > start and _is_csharp_whitespace(title[end - 1]):
        end -= 1
    return title[start:end]


def sanitize_title(title: str) -> str:
    """The title DocSpace stores for a room or folder created (or renamed) with `title`.

    Raises ValueError where the real server fails (a title over 320 UTF-16 units whose
    last '.' sits after unit 150 makes its Substring length negative → HTTP 500).
    """
    if not title:
        return title
    data = _csharp_trim(title).encode("utf-16-le", "surrogatepass")
    units = [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]
    if len(units) > MAX_TITLE:
        pos = max((i for i, u in enumerate(units) if u == 0x2E), default=-1)
        if pos > MAX_TITLE - 20:
            keep = MAX_TITLE - (len(units) - pos)
            if keep < 0:
                raise ValueError(
                    "title too long for its extension (server-side ArgumentOutOfRange)"
                )
            units = units[:keep] + units[pos:]
        else:
            units = units[:MAX_TITLE]
    cleaned = [0x5F if u in _INVALID_UNITS or 0xD800 <= u <= 0xDFFF else u for u in units]
    return b"".join(u.to_bytes(2, "little") for u in cleaned).decode("utf-16-le")


def utf16_len(text: str) -> int:
    """Length as C# counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# Request validation, before any of the above: ASP.NET's [StringLength] on the request DTOs
# counts the raw string's UTF-16 units (string.Length), before any trim, and the
# [ApiController] on products/ASC.Files/Server/Api/ApiControllerBase.cs turns a failure into an
# automatic 400 — the server does not cut these titles (products/ASC.Files/Server/ApiModels/
# RequestDto/: CreateRoomRequestDto.Title and UpdateRoomRequestDto.Title [StringLength(170)],
# CreateFolder.Title [StringLength(165)] for FoldersController.CreateFolder and RenameFolder).
# CreateRoomFromTemplateDto.Title has no such attribute: those titles are only cut.
ROOM_TITLE_MAX = 170
FOLDER_TITLE_MAX = 165


def length_error(raw: object, limit: int, field: str = "Title") -> str | None:
    """ASP.NET's StringLengthAttribute message when `raw` is longer than `limit` units, else None."""
    if isinstance(raw, str) and utf16_len(raw) > limit:
        return f"The field {field} must be a string with a maximum length of {limit}."
    return None
