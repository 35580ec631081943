"""A DocSpace file and its versions, as the emulator stores them (files_file rows, DbFile.cs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.docspace_blobs import Blob
from sandbox.docspace_titles import sanitize_title


@dataclass
class Version:
    """One row of files_file (DbFile): a version of a file; the last one is the current one."""

    version: int
    version_group: int
    title: str
    size: int  # ContentLength: what the upload declared, not what was counted
    blob: Blob
    comment: str | None
    created: float  # CreateOn: the file's, carried over to every version
    updated: float  # ModifiedOn: when this version was saved
    created_by: str
    updated_by: str  # ModifiedBy: who saved this version


@dataclass
class File:
    """A file; its fields are the current version's, `history` holds every version."""

    id: int
    title: str
    folder_id: int
    created: float
    updated: float
    seq: int
    created_by: str
    size: int = 0
    version: int = 1
    version_group: int = 1
    comment: str | None = None
    updated_by: str = ""
    blob: Blob = field(default_factory=lambda: Blob((), 0))
    encrypted: bool = False
    locked_by: str | None = None  # a user's lock (LockerManager); others cannot edit
    editing: bool = False  # open in the editor (FileTrackerHelper.IsEditingAsync)
    history: list[Version] = field(default_factory=list)

    def snapshot(self) -> Version:
        return Version(
            self.version,
            self.version_group,
            self.title,
            self.size,
            self.blob,
            self.comment,
            self.created,
            self.updated,
            self.created_by,
            self.updated_by or self.created_by,
        )


def dotnet_extension(title: str) -> str:
    """Path.GetExtension: from the last '.', empty when there is none or it is the last char."""
    pos = title.rfind(".")
    return title[pos:] if 0 <= pos < len(title) - 1 else ""


def stored_file_title(title: str) -> str:
    """The title FileDao.SaveFileAsync writes: sanitised, then
    FileUtility.ReplaceFileExtension(title, GetFileExtension(title)) — the stem
    (Path.GetFileNameWithoutExtension) + "." + the lower-cased extension."""
    title = sanitize_title(title)
    pos = title.rfind(".")
    stem = title[:pos] if pos >= 0 else title
    return stem + "." + dotnet_extension(title).strip().lower().lstrip(".")


def size_text(size: int) -> str:
    """CommonFileSizeComment.FilesSizeToString: "{size:#,0.##} {bytes|KB|MB|GB|TB}"."""
    names = ["bytes", "KB", "MB", "GB", "TB"]
    power, value = 0, float(size)
    while value >= 1024 and power < len(names) - 1:
        value /= 1024
        power += 1
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {names[power]}"


__all__ = ["File", "Version", "dotnet_extension", "size_text", "stored_file_title"]
