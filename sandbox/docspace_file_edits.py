"""What a person does to a file or folder in DocSpace's web UI: delete it (to the Trash, or
for good), move it to another folder, rename it. Test-facing state API, mixed into the emulator;
the Trash rules here also serve the HTTP routes (DELETE/GET files/folder/{id}, GET files/{id}).

Read in the server code (ONLYOFFICE/DocSpace-server, master after v3.7.2-server):

- Delete (FileDeleteOperation, products/ASC.Files/Core/Services/WCFService/FileOperations/
  FileDeleteOperation.cs): unless `immediately`, a file whose root is not already the Trash
  (FileDao.UseTrashForRemove) is MOVED to the Trash of the user who deletes it
  (`_trashId = folderDao.GetFolderIDTrashAsync(true)`, the current user's; FileDao.MoveFileAsync).
  It keeps its id; its `folderId` becomes that Trash folder and its `rootFolderType` Trash (3,
  FolderType.TRASH in Core/Core/Entries/Folder.cs). With `immediately` (or when the Trash is
  emptied) the row is deleted: FileDao.DeleteFileAsync.
- Reading it afterwards, `GET file/{id}` (FilesHelperBase.GetFileInfoAsync ->
  FileStorageService.GetFileAsync): no row -> ItemNotFoundException "The required file was not
  found" -> 404; a row the caller cannot read -> InvalidOperationException "You don't have enough
  permission to view the file" -> 403 (common/ASC.Api.Core/Middleware/ResponseWrapper.cs maps
  InvalidOperationException to Forbidden). In the Trash, FileSecurity (Core/Core/Security/
  FileSecurity.cs, `case FolderType.TRASH`) lets a user read only what is in HIS OWN Trash
  (`Equals(e.RootId, myTrashId)`) — an administrator included. So a file a colleague deleted is
  403 to the API key's user, and one that user deleted is 200 with rootFolderType 3.
- A folder goes the same way (FileDeleteOperation.DeleteFoldersAsync: `immediately` is the
  request's flag or `!FolderDao.UseTrashForRemoveAsync(folder)`, false for a folder already in
  a Trash; otherwise `FolderDao.MoveFolderAsync(folder.Id, _trashId)`, which re-parents the
  folder and rebuilds the tree rows of its subfolders: the subtree and its files go along, ids
  kept). `GET files/folder/{id}` (FileStorageService.GetFolderAsync) and the listing `GET
  files/{id}` (GetFolderItemsAsync) check FileSecurity.CanReadAsync the same way: a folder in a
  colleague's Trash is 403 ("You don't have enough permission to view the folder content"), in
  one's own Trash 200 with `rootFolderType` 3 and `parentId` the Trash. In a Trash FileSecurity
  allows only Read, Delete and Move, so creating a folder inside a trashed one, or renaming
  one (FileStorageService.FolderRenameAsync: CanRenameAsync), is 403. Move is allowed to the
  Trash's owner only: `PUT fileops/move` out of one's own Trash is the server's restore
  (FileMoveCopyOperation publishes FolderRestored); out of a colleague's the operation ends
  with "You don't have enough permission to move the folder" (CanMoveAsync).
- The emulator's portal has one API user (`me`); a Trash folder per user is made when first
  needed (the server's GetFolderIDTrashAsync(createIfNotExists: true)). A Trash is a root
  folder (parent 0), so everything in it has rootFolderType 3 as on the server. [simplified]
  The Trash's origin fields (originId, originTitle: EntryManager.SetOriginsAsync, filled only
  when the Trash itself is listed) and its auto-delete date are not emulated.
"""

from __future__ import annotations

from sandbox.docspace_file import File, stored_file_title
from sandbox.docspace_store import DocSpaceStore, Folder

FOLDER_TYPE_TRASH = 3  # FolderType.TRASH (products/ASC.Files/Core/Core/Entries/Folder.cs)


class FileEditsApi(DocSpaceStore):
    """A person's hand on files: trash, delete for good, move, rename."""

    def _trash_of(self, user_id: str) -> Folder:
        for folder in self._children(0):
            if folder.folder_type == FOLDER_TYPE_TRASH and folder.created_by == user_id:
                return folder
        trash = self._new_folder("Trash", 0, "root", folder_type=FOLDER_TYPE_TRASH)
        trash.created_by = user_id
        return trash

    def in_a_trash(self, entry: File | Folder) -> bool:
        folder = self._folders[entry.folder_id] if isinstance(entry, File) else entry
        return self._root(folder).folder_type == FOLDER_TYPE_TRASH

    def in_someone_elses_trash(self, entry: File | Folder) -> bool:
        """FileSecurity, `case FolderType.TRASH`: only the Trash's owner may read it."""
        folder = self._folders[entry.folder_id] if isinstance(entry, File) else entry
        root = self._root(folder)
        return root.folder_type == FOLDER_TYPE_TRASH and root.created_by != self.me.id

    def _user_id(self, email: str | None) -> str:
        if email is None:
            return self.me.id
        user = self.user_by_email(email) or self.add_user(email)  # type: ignore[attr-defined]
        return str(user.id)

    def trash_file(self, file: int | File, by: str | None = None) -> Folder:
        """`by` (an email; default the API key's user) deletes the file: it moves, id and all,
        into that person's Trash. Returns the Trash folder."""
        with self.lock:
            current = self._files[file.id if isinstance(file, File) else file]
            trash = self._trash_of(self._user_id(by))
            self._set_file_folder(current, trash.id)
            return trash

    def trash_folder(self, folder: int | Folder, by: str | None = None) -> Folder:
        """`by` (an email; default the API key's user) deletes the folder: it moves, id,
        subfolders and files all, into that person's Trash. Returns the Trash folder."""
        with self.lock:
            return self._trash_folder(
                self._get(folder.id if isinstance(folder, Folder) else folder), self._user_id(by)
            )

    def _trash_folder(self, folder: Folder, user_id: str) -> Folder:
        trash = self._trash_of(user_id)
        self._set_parent(folder, trash.id)
        return trash

    def delete_file(self, file: int | File) -> None:
        """The file is deleted for good (deleted `immediately`, or its Trash emptied)."""
        with self.lock:
            current = self._files.pop(file.id if isinstance(file, File) else file)
            self._docs.get(current.folder_id, {}).pop(current.id, None)
            self._touch()

    def move_file(self, file: int | File, folder: int | Folder) -> File:
        """A person moves the file into another folder (it keeps its id)."""
        with self.lock:
            current = self._files[file.id if isinstance(file, File) else file]
            dest = self._get(folder.id if isinstance(folder, Folder) else folder)
            self._set_file_folder(current, dest.id)
            return current

    def rename_file(self, file: int | File, title: str) -> File:
        """A person renames the file in place (the title only; no new version)."""
        with self.lock:
            current = self._files[file.id if isinstance(file, File) else file]
            current.title = stored_file_title(title)
            current.seq = self._touch()
            return current
