"""The test source's own `--watch` change detector (`pm_runtime.changes`), scripted."""

from __future__ import annotations

from pm_runtime.changes import Changes


class CredentialsRejected(Exception):
    """What the notes API answers once the test is done: a watcher stops on it (exit 1)."""


class NotebookChanges:
    """The test source's own change detector: one change, then rejected credentials."""

    def __init__(self) -> None:
        self.polls = 0
        self.closed = False

    def poll(self) -> Changes:
        self.polls += 1
        if self.polls > 1:
            raise CredentialsRejected("the notes token was revoked")
        return Changes(what=["notebook 'Field notes'"], requests=1)

    def requests_per_poll(self) -> int:
        return 1

    def is_credentials_error(self, exc: BaseException) -> bool:
        return isinstance(exc, CredentialsRejected)

    def close(self) -> None:
        self.closed = True


MADE: list[NotebookChanges] = []  # every detector a watcher asked for, for the tests to inspect


def notebook_changes() -> NotebookChanges:
    MADE.append(NotebookChanges())
    return MADE[-1]
