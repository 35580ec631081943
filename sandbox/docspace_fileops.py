"""DocSpace file operations (move, archive, unarchive) as the server runs them: later, in order.

`PUT /files/fileops/move` and `PUT /files/rooms/{id}/archive|unarchive` only
*publish* an operation (`FileMoveCopyOperationsManager.Publish`,
products/ASC.Files/Core/Services/WCFService/FileOperations/FileOperationsManager.cs);
a background queue runs it a moment later (`DistributedTaskQueue`). Here an
operation is `Created` (status 0) for the first half of `fileop_seconds`,
`Running` (1) for the second half, and its effect is applied at once when it
completes (2), on the next request or state call after that (the emulator
"ticks" lazily). With `fileop_seconds = 0` it runs inside the request that
publishes it.

What a move does per folder follows `FileMoveCopyOperation<T>.MoveOrCopyFoldersAsync`
(FileMoveCopyOperation.cs), with `conflictResolveType` Skip=0, Overwrite=1, Duplicate=2:

- destination = current parent: Skip/Overwrite do nothing; Duplicate looks up
  the (oldest) same-titled folder in the destination — normally the folder itself —,
  creates a new folder under `GetAvailableTitleAsync`'s title (``Title (1)``),
  moves the contents into it and deletes the emptied original.
- destination ≠ current parent: Duplicate is a plain move (no conflict look-up);
  Skip/Overwrite look for a same-titled folder in the destination
  (`FolderDao.GetFolderAsync(title, parentId)`, oldest first) and, if there is
  one, merge into it recursively (`UseRecursiveOperation` is true for DocSpace's
  own storage) and delete the original once it is empty; else a plain move.
- a room (archive/unarchive) never looks for a conflict: a plain move, or nothing.

Files follow `MoveOrCopyFilesAsync`: Duplicate moves without looking; Skip leaves
a file whose title the destination already has where it is (so its folder is not
empty and survives a merge); Overwrite replaces the destination's file and drops
the moved one. Title equality is exact here; on MySQL the collation may compare
case-insensitively (not verified).

Errors found when the operation runs (the destination is gone or archived, a
folder into its own subfolder) end it with HTTP 200 and the message in `error`,
as `CheckGeneralPermissionsAsync(..., check: false)` does. Not emulated: the
server runs the same checks once more when publishing
(`CopyPermissionsCheck.RunPermissionCheckAsync`, check: true) and then answers
the PUT itself with 403/404.
"""

from __future__ import annotations

import re
import time

from sandbox.docspace_store import DocSpaceStore, File, FileOp, Folder

SKIP, OVERWRITE, DUPLICATE = 0, 1, 2
CONFLICT_RESOLVE_TYPES = {"Skip": SKIP, "Overwrite": OVERWRITE, "Duplicate": DUPLICATE}
MOVE, COPY, DELETE = 0, 1, 2  # FileOperationType
CREATED, RUNNING, COMPLETED = 0, 1, 2  # DistributedTaskStatus

# Global.GetAvailableTitleAsync's regex: ` (n)` before an extension, at the end
_NUMBERED = re.compile(r"( \(([0-9]+)\)(\.[^.]*)?)$")


class FileOpsEngine(DocSpaceStore):
    def _publish_move(
        self,
        folder_ids: list[int],
        file_ids: list[int],
        dest_id: int,
        resolve: int,
        hold: bool,
    ) -> FileOp:
        op = FileOp(
            self._uuid(),
            MOVE,
            time.time(),
            self.fileop_seconds,
            folders=list(folder_ids),
            files=list(file_ids),
            dest_id=dest_id,
            resolve=resolve,
            hold=hold,
        )
        self.fileops[op.id] = op
        if op.duration <= 0:
            self._run_fileop(op)
        return op

    def _advance_fileops(self, now: float) -> None:
        # the queue runs operations in the order they were published
        for op in sorted(self.fileops.values(), key=lambda o: o.started):
            if not op.done and now >= op.started + op.duration:
                self._run_fileop(op)

    def _run_fileop(self, op: FileOp) -> None:
        op.done = True
        if op.dest_id is None:
            return  # deletes are applied when requested (not modelled as deferred)
        dest = self._folders.get(op.dest_id)
        folders = [self._folders.get(i) for i in op.folders]
        files = [self._files.get(i) for i in op.files]
        op.error = self._move_error(folders, files, dest)
        if op.error is not None or dest is None:
            return
        for folder in folders:
            assert folder is not None
            moved = self._move_folder_now(folder, dest, op.resolve)
            if moved is not None:
                op.result.append(moved)
        for file in files:
            assert file is not None
            self._move_file_now(file, dest, op.resolve)

    def _move_error(
        self, folders: list[Folder | None], files: list[File | None], dest: Folder | None
    ) -> str | None:
        """CheckGeneralPermissionsAsync / CheckFoldersPermissionsAsync, as run by the operation."""
        if dest is None:
            return "The required folder was not found"
        if dest.kind == "template" or (dest.kind == "root" and dest.folder_type not in (14, 20)):
            return "You don't have enough permission to move the item"
        if any(f is None for f in folders) or any(f is None for f in files):
            return "The required folder was not found"
        for folder in folders:
            assert folder is not None
            if folder.kind == "room":
                if dest.kind != "root":
                    return "You don't have enough permission to move the item"
                continue
            if folder.kind != "folder" or dest.kind == "root":
                return "You don't have enough permission to move the item"
            if self.in_someone_elses_trash(folder):  # type: ignore[attr-defined]
                # FileSecurity, `case FolderType.TRASH`: only the Trash's owner may Move out of
                # it (the owner's move is the server's restore); CanMoveAsync fails the operation
                return "You don't have enough permission to move the folder"
            if self._is_archived(folder) or self._is_archived(dest):
                return "You cannot edit archived rooms"
            if dest.id == folder.id or any(p.id == folder.id for p in self._path(dest)):
                return "The folder cannot be moved to its own subfolder"
        return None

    # -- MoveOrCopyFoldersAsync --------------------------------------------------------

    def _same_titled(self, title: str, parent_id: int) -> Folder | None:
        """FolderDao.GetFolderAsync(title, parentId): the oldest folder with that title."""
        found = [f for f in self._children(parent_id) if f.title == title]
        return min(found, key=lambda f: (f.created, f.id)) if found else None

    def _available_title(self, title: str, parent_id: int, is_file: bool) -> str:
        """Global.GetAvailableTitleAsync: `Title (1)`, `Title (2)`, ... (before a file's extension)."""
        taken = {f.title for f in self._child_files(parent_id)} if is_file else None
        if taken is None:
            taken = {f.title for f in self._children(parent_id)}
        if title not in taken:
            return title
        cut = title.rfind(".") if is_file and "." in title else len(title)
        title = title[:cut] + " (1)" + title[cut:]
        while title in taken:
            title = _NUMBERED.sub(
                lambda m: f" ({int(m.group(2)) + 1}){m.group(3) or ''}", title, count=1
            )
        return title

    def _move_folder_now(self, folder: Folder, dest: Folder, resolve: int) -> int | None:
        """One folder of a move; returns the id the operation reports, None when nothing happened."""
        same_parent = folder.parent_id == dest.id
        if same_parent and resolve != DUPLICATE:
            return None
        if folder.kind == "room" or (not same_parent and resolve == DUPLICATE):
            conflict = None
        else:
            conflict = self._same_titled(folder.title, dest.id)
        if conflict is None:
            self._set_parent(folder, dest.id)
            folder.updated = time.time()
            return folder.id
        if resolve == DUPLICATE:
            # the conflicting folder's row is saved again under a new id and an available title
            target = self._new_folder(
                self._available_title(conflict.title, dest.id, False), dest.id, "folder"
            )
        else:
            target = conflict
        for file in self._child_files(folder.id):
            self._move_file_now(file, target, resolve)
        for child in sorted(self._children(folder.id), key=lambda f: f.id):
            self._move_folder_now(child, target, resolve)
        if not self._children(folder.id) and not self._child_files(folder.id):
            self._remove_tree(folder.id)
        return target.id

    def _move_file_now(self, file: File, dest: Folder, resolve: int) -> None:
        conflict = None
        if resolve != DUPLICATE:
            conflict = next((f for f in self._child_files(dest.id) if f.title == file.title), None)
        if conflict is None:
            if file.folder_id != dest.id:
                self._set_file_folder(file, dest.id)
            return
        if resolve == OVERWRITE and conflict.id != file.id:
            # the destination's file takes the moved file's content as a new version
            self._new_version(conflict, file.blob, size=file.size, comment=None)
            self._docs.get(file.folder_id, {}).pop(file.id, None)
            self._files.pop(file.id, None)
        # Skip: nothing

    # -- test-facing ---------------------------------------------------------------------

    def finish_file_operations(self) -> None:
        """Let the background queue catch up: run every queued operation now."""
        with self.lock:
            for op in sorted(self.fileops.values(), key=lambda o: o.started):
                if not op.done:
                    self._run_fileop(op)
