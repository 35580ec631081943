"""The test source's own write-back client: links kept on its notebooks, in memory."""

from __future__ import annotations

from pm_runtime.link_writer import Attachment


class NotebookLinks:
    """The test source's own write-back client: links kept on its notebooks, in memory."""

    def __init__(self) -> None:
        self.links: dict[str, list[Attachment]] = {}
        self.calls = 0

    def list(self, parent: str) -> list[Attachment]:
        self.calls += 1
        return list(self.links.get(parent, []))

    def add(self, parent: str, name: str, url: str) -> Attachment:
        self.calls += 1
        made = Attachment(f"{parent}-{len(self.links.get(parent, []))}", name, frozenset({url}))
        self.links.setdefault(parent, []).append(made)
        return made

    def delete(self, parent: str, attachment_id: str) -> None:
        self.calls += 1
        self.links[parent] = [a for a in self.links.get(parent, []) if a.id != attachment_id]

    def close(self) -> None:
        pass


WRITER = NotebookLinks()  # one notes account for the tests: they read what was written to it
