"""Uploading a document exactly once: look, write the intent, download, upload, record.

For each `upload` action (docspace_destination.files):

1. Look in the folder (a GET listing). If the ledger holds an intent for this attachment
   (a run that died or lost a reply after it started sending), a file there with the
   intent's title (or the server's "(n)" variant of it), its size, created by this API key's
   user after the intent was written, and not another record's, IS that upload: it is
   adopted, nothing is sent. A file is never committed partly: under 10 MiB the one chunk
   carries all of it, above that only the finalize creates the file — so what the look finds
   is whole.
2. Choose the title: the planned one, or its first free "(n)" variant when a file the tool
   did not upload has it (DocSpace would otherwise make ours a new VERSION of theirs). Our
   siblings' titles in the folder are taken too.
3. Reserve the session's writes against `--max-writes` (deferred, not failed, once spent).
4. Download the attachment just before (Asana's download URL lives minutes) into a temp file,
   streamed and checked against the size the source reported (`pm_runtime.download`).
5. Write the intent (title, size, time) to the ledger, synchronously — then send the session
   (`file_upload.Uploader`). After a 5xx or a lost reply the loop goes back to 1. (The new
   uploads of an apply step have their titles chosen and intents written in one transaction
   before the step starts (`_write_ahead`): one DuckDB write per upload would serialise them.)
6. Record the file id. A SIGKILL anywhere leaves at most the intent, and the next run starts at 1.

The temp file is deleted as soon as the upload is over; a 200 MB attachment is on disk, never
in memory (the upload reads it 10 MiB at a time).
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from docspace_destination.client import AmbiguousWriteError, DocSpaceClient, DocSpaceError
from docspace_destination.file_titles import free_title, same_title, split_extension
from docspace_destination.file_upload import Uploader, parse_api_date
from docspace_destination.files import size_label
from docspace_destination.ledger import APPLIED, PENDING, LedgerEntry
from docspace_destination.operations import FOLLOW, UPLOAD, Action, RecordFailed
from pm_runtime.errors import DownloadError
from pm_runtime.source_spec import AttachmentOpener, SourceSpec

if TYPE_CHECKING:
    from docspace_destination.apply import Applier

UPLOAD_ATTEMPTS = 3
# a file created this long before the intent still counts as ours: the portal's clock and
# ours may differ a little (the intent is written before the session is even created)
CLOCK_SKEW = timedelta(minutes=5)
INTENT = "upload"


class Documents:
    """What uploads need beyond the applier: the upload session, the source's downloads."""

    def __init__(self, client: DocSpaceClient, spec: SourceSpec) -> None:
        self.uploader = Uploader(client)
        self.spec = spec
        self._opener: AttachmentOpener | None = None
        self._lock = threading.Lock()
        self.downloads = 0

    def opener(self) -> AttachmentOpener:
        with self._lock:
            if self._opener is None:
                if self.spec.attachment_download is None:
                    raise RecordFailed(f"{self.spec.name} has no attachment download")
                self._opener = self.spec.attachment_download()
            return self._opener

    @contextmanager
    def downloaded(self, a: Action) -> Iterator[IO[bytes]]:
        """The attachment's bytes in a temp file, checked against the size the source reported."""
        attachment_id = a.entity.rsplit(":", 1)[-1]
        # keys are <source>:<kind>:<id>[@<placement>]: the task's (card's) own id
        parent_id = (a.parent_key or "").rsplit(":", 1)[-1].split("@", 1)[0]
        with tempfile.TemporaryFile(prefix="docspace-upload-") as tmp:
            try:
                with self.opener().open(attachment_id, parent_id) as download:
                    with self._lock:
                        self.downloads += 1
                    for chunk in download.chunks():
                        tmp.write(chunk)
            except DownloadError as exc:
                raise RecordFailed(str(exc)) from None
            if tmp.tell() != (a.size or 0):
                raise RecordFailed(f"downloaded {tmp.tell()} bytes, the source reported {a.size}")
            tmp.seek(0)
            yield tmp

    def close(self) -> None:
        if self._opener is not None:
            self._opener.close()


def intent_of(size: int, at: datetime) -> str:
    return f"{INTENT}:{size}:{at.isoformat()}"


def parse_intent(intent: str | None) -> tuple[int, datetime] | None:
    if not intent or not intent.startswith(INTENT + ":"):
        return None
    _, size, at = intent.split(":", 2)
    return int(size), datetime.fromisoformat(at)


def _title_matches(stored: str, title: str) -> bool:
    """`stored` is `title` as DocSpace keeps it: case aside, a "(n)" the server added when a
    same-titled file appeared first, a "." it puts after a title without extension."""
    if same_title(stored.rstrip("."), title.rstrip(".")):
        return True
    stem, ext = split_extension(title)
    pattern = re.escape(stem) + r" \(\d+\)" + re.escape(ext) + r"\.?"
    return re.fullmatch(pattern, stored, re.IGNORECASE) is not None


class FileSteps:
    """The `file` kind's steps: upload (exactly once) and follow (ledger only)."""

    def __init__(self, run: Applier) -> None:
        self.run = run
        self._files: dict[int, list[dict[str, Any]]] = {}  # listed before this step's uploads
        self._chosen: dict[int, set[str]] = defaultdict(set)  # titles our uploads use, per folder
        self._folder_locks: dict[int, threading.Lock] = defaultdict(threading.Lock)
        self._lock = threading.Lock()
        self._prepared: set[str] = set()  # uploads whose intent this run wrote ahead, in a batch
        self.steps = {UPLOAD: self.upload, FOLLOW: self.follow}

    @property
    def documents(self) -> Documents:
        docs = getattr(self.run, "documents", None)
        if docs is None:
            raise RecordFailed('attachments = "copy" is not set for this run')
        return docs  # type: ignore[no-any-return]

    def prefetch(self, pool: ThreadPoolExecutor, todo: list[Action]) -> None:
        """List, in parallel, the folders this step uploads into; note their planned titles."""
        folders = set()
        for a in todo:
            if a.op != UPLOAD:
                continue
            fid = self.run.id_of(a.parent_key)
            if fid is None:
                continue
            with self._lock:
                self._chosen[fid].add(a.title.casefold())
            if fid not in self.run.fresh and fid not in self._files:
                folders.add(fid)

        def fetch(fid: int) -> None:
            try:
                self._files[fid] = self.documents.uploader.files(fid)
            except (DocSpaceError, RecordFailed):
                pass  # the upload lists again and reports the error on its own record

        list(pool.map(fetch, sorted(folders)))
        self._write_ahead([a for a in todo if a.op == UPLOAD])

    def _write_ahead(self, uploads: list[Action]) -> None:
        """Choose the titles and write the intents of the step's new uploads in one transaction
        (a DuckDB write each would serialise the uploads). An upload whose earlier intent is
        still in the ledger is left to `upload`, which looks in the folder first."""
        now = datetime.now(UTC)
        batch: list[LedgerEntry] = []
        for a in uploads:
            fid = self.run.id_of(a.parent_key)
            entry = self.run.entries.get(a.key)
            if fid is None or (entry is not None and (entry.intent or entry.docspace_id)):
                continue
            if fid not in self.run.fresh and fid not in self._files:
                continue  # not listed: `upload` lists and looks on its own
            title = self._choose(a, fid, self._files.get(fid, []))
            base = entry or self.run.entry(a, status=PENDING, attempts=0)
            batch.append(
                base.evolve(
                    title=title,
                    parent_id=fid,
                    status=PENDING,
                    attempts=base.attempts + 1,
                    intent=intent_of(a.size or 0, now),
                )
            )
        self.run.note_intents(batch)
        self._prepared.update(e.key for e in batch)

    def _choose(self, a: Action, folder_id: int, listing: list[dict[str, Any]]) -> str:
        """The planned title, or its first "(n)" no file in the folder and no sibling upload has."""
        with self._folder_locks[folder_id]:
            with self._lock:
                others = self._chosen[folder_id] - {a.title.casefold()}
            taken = [str(f.get("title") or "") for f in listing] + sorted(others)
            title = free_title(a.title, taken)
            with self._lock:
                self._chosen[folder_id].add(title.casefold())
        return title

    def _listing(self, folder_id: int, first: bool) -> list[dict[str, Any]]:
        if first and folder_id in self.run.fresh:
            return []
        if first and folder_id in self._files:
            return self._files[folder_id]
        return self.documents.uploader.files(folder_id)

    def _ours(self, entry: LedgerEntry, listing: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The file an earlier attempt at `entry`'s intent left in the folder, if any."""
        intent = parse_intent(entry.intent)
        if intent is None or not entry.title:
            return None
        size, at = intent
        me = self.documents.uploader.me()
        # file ids other records have (files are numbered apart from folders)
        claimed = self.run.file_ids_beside(entry)
        for f in sorted(listing, key=lambda f: int(f["id"])):
            created = parse_api_date(f.get("created"))
            if (
                int(f["id"]) not in claimed
                and _title_matches(str(f.get("title") or ""), entry.title)
                and int(f.get("pureContentLength") or 0) == size
                and str((f.get("createdBy") or {}).get("id")) == me
                and created is not None
                and created >= at - CLOCK_SKEW
            ):
                return f
        return None

    def _done(self, a: Action, entry: LedgerEntry, found: dict[str, Any], folder_id: int) -> None:
        self.run.save(
            entry.evolve(
                docspace_id=int(found["id"]),
                parent_id=folder_id,
                title=str(found.get("title") or entry.title),
                status=APPLIED,
                intent=None,
                last_error=None,
            )
        )

    def upload(self, a: Action) -> str:
        run = self.run
        folder_id = run.id_of(a.parent_key)
        if folder_id is None:
            raise RecordFailed(f"its folder {a.parent_key} is not in DocSpace yet")
        entry = run.entries.get(a.key)
        if entry is not None and entry.status == APPLIED and entry.docspace_id is not None:
            return "unchanged"
        if a.writes > run.settings.max_writes:
            # deferred, it would wait for ever: no run of this size can send it
            raise RecordFailed(
                f"needs {a.writes} DocSpace writes (a {size_label(a.size or 0)} file in chunks), "
                f"more than --max-writes {run.settings.max_writes} allows in one run; "
                "run once with a higher --max-writes"
            )
        docs = self.documents
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            # written ahead by this step (`_write_ahead`): nothing can be there yet
            prepared = attempt == 1 and a.key in self._prepared and entry is not None
            if prepared:
                title = str(entry.title)  # type: ignore[union-attr]
            else:
                listing = self._look_in(a, folder_id, first=attempt == 1)
                if entry is not None and entry.intent:
                    found = self._ours(entry, listing)
                    if found is not None:
                        self._done(a, entry, found, folder_id)
                        return "adopted"
                title = self._choose(a, folder_id, listing)
            run.reserve(a.writes)
            size = a.size or 0
            with docs.downloaded(a) as content:
                if not prepared:
                    base = entry or run.entry(a, status=PENDING, attempts=0)
                    entry = run.note_intent(
                        base.evolve(
                            title=title,
                            parent_id=folder_id,
                            status=PENDING,
                            attempts=base.attempts + 1,
                        ),
                        intent_of(size, datetime.now(UTC)),
                    )
                assert entry is not None
                try:
                    file_id = docs.uploader.upload(folder_id, title, size, content)
                except AmbiguousWriteError:
                    if attempt == UPLOAD_ATTEMPTS:
                        raise
                    continue
            if file_id is not None:
                self._done(a, entry, file_id, folder_id)
                return "uploaded"
            found = self._ours(entry, docs.uploader.files(folder_id))
            if found is None:
                raise RecordFailed("uploaded, but the file is not in its folder")
            self._done(a, entry, found, folder_id)
            return "uploaded"
        raise RecordFailed("gave up uploading")

    def _look_in(self, a: Action, folder_id: int, first: bool) -> list[dict[str, Any]]:
        try:
            return self._listing(folder_id, first)
        except DocSpaceError as exc:
            if exc.status == 404:
                raise RecordFailed(
                    f"its folder {a.parent_key} (id {folder_id}) no longer exists in DocSpace"
                ) from None
            raise

    def follow(self, a: Action) -> str:
        """The task's folder moved (it keeps its id): its files' rows move to the new key."""
        run = self.run
        old = run.entries.get(a.from_key) if a.from_key else None
        if old is None:
            return "unchanged"  # a replay: already followed
        moved = run.entry(
            a,
            docspace_id=old.docspace_id,
            parent_id=old.parent_id,
            title=old.title,
            status=old.status,
            attempts=old.attempts,
        )
        run.save(moved)
        if old.key != a.key:
            run.forget(old.key)
        return "unchanged"
