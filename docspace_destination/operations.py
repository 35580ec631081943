"""The operations a plan can hold, and the one table that says what each costs and reports.

An operation's entry states, once: when it runs (its phase: unarchive before anything
touches a room, archive after its folders are settled), how many DocSpace writes it
spends against `--max-writes` and the daily limit, and what the summary and the run log
count when it succeeds. The plan's order, the write budget, `ApplyReport`, the summary and
the columns of `docspace_state.runs` all derive from this table, so a new operation (or a
new kind of object with its own) is one entry here.

An `Action` is an operation on one record: what `plan` decides and `apply` executes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docspace_destination.adoption import BY_TITLE

CREATE, MOVE, RENAME, ARCHIVE, UNARCHIVE = "create", "move", "rename", "archive", "unarchive"
ORPHAN, RESTORE, NOOP, BLOCKED = "orphan", "restore", "noop", "blocked"
ADOPT, SKIP = "adopt", "skip"
# documents (docspace_destination.files): a file uploaded into its task's folder; a file whose
# folder moved with its task follows it in the ledger (no DocSpace write: it moved with it)
UPLOAD, FOLLOW = "upload", "follow"

IN_ARCHIVE = " in archive"  # suffix of Action.found for a room adopted from the archive


@dataclass(frozen=True)
class Operation:
    phase: int | None  # apply order; None: nothing to apply
    writes: int  # DocSpace writes it spends (an adopt's depend on how it was found)
    outcome: str | None  # what the summary counts when it succeeds


OPERATIONS: dict[str, Operation] = {  # in the order the summary prints their outcomes
    CREATE: Operation(1, 1, "created"),
    ADOPT: Operation(1, 0, "adopted"),
    RENAME: Operation(1, 1, "renamed"),
    MOVE: Operation(1, 1, "moved"),
    ARCHIVE: Operation(3, 1, "archived"),
    UNARCHIVE: Operation(0, 1, "unarchived"),
    ORPHAN: Operation(2, 0, "orphaned"),  # ledger only: documents are never deleted
    RESTORE: Operation(2, 0, "restored"),
    UPLOAD: Operation(1, 2, "uploaded"),  # 2 for a file under 10 MiB; see Action.writes
    FOLLOW: Operation(1, 0, None),
    NOOP: Operation(None, 0, None),
    SKIP: Operation(None, 0, None),  # skipped records stay skipped run after run
    BLOCKED: Operation(None, 0, None),
}
NOT_CHANGES = (NOOP, SKIP)

# what a run reports, in the order the summary prints it (docspace_state.runs has a column each)
OUTCOMES: tuple[str, ...] = (
    *(op.outcome for op in OPERATIONS.values() if op.outcome),
    "failed",
    "deferred",
    "unchanged",
)


class RecordFailed(Exception):
    """One record cannot be applied; the message says why."""


class BudgetExhausted(Exception):
    """The run's write budget is spent; what is left waits for the next run."""


@dataclass(frozen=True, slots=True)
class Action:
    op: str
    key: str
    entity: str
    kind: str
    depth: int
    title: str
    parent_key: str | None
    archived: bool
    from_key: str | None = None  # a move re-uses the folder recorded under this ledger key
    docspace_id: int | None = None
    rename_to: str | None = None  # a move that also changes the title
    reason: str = ""
    template: str | None = None  # title of the room template a room is created from
    template_id: int | None = None
    # how an adopt found its room: "marker" or "title", + IN_ARCHIVE when it is archived
    found: str | None = None
    size: int | None = None  # an upload's bytes (its writes depend on them)

    @property
    def found_in_archive(self) -> bool:
        return bool(self.found and self.found.endswith(IN_ARCHIVE))

    @property
    def writes(self) -> int:
        if self.op == ADOPT:
            # an archived room is unarchived if the project is active; the marker is added by
            # one tag write, except in the archive (DocSpace refuses tag edits there)
            unarchive = self.found_in_archive and not self.archived
            tag = bool(self.found and self.found.startswith(BY_TITLE)) and (
                unarchive or not self.found_in_archive
            )
            return int(unarchive) + int(tag)
        if self.op == UPLOAD:
            from docspace_destination.file_upload import upload_writes

            return upload_writes(self.size or 0)
        rename = 1 if self.op == MOVE and self.rename_to else 0
        return OPERATIONS[self.op].writes + rename

    @property
    def phase(self) -> int | None:
        return OPERATIONS[self.op].phase

    @property
    def label(self) -> str:
        if self.op == SKIP and self.kind == "file":
            return "skip file"  # listed with its reason (an external link, too large)
        return "create from template" if self.op == CREATE and self.template else self.op

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}
