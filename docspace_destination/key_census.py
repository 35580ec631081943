"""Which ledger rows no record of the desired tree wants any more, counted in a few bytes a row.

A plan made part by part (`desired.part_count`) needs, before its first part, the ledger rows
whose key no part has: a task moved to a project planned earlier re-uses its old folder (a
move, not a second folder), and what nothing re-uses is orphaned. Only every part together
can tell, and a set of 200,000 keys would cost ~25 MB; here each key is its 8-byte hash in a
sorted array, with a byte for "seen". Two keys of one ledger with the same 64-bit hash are
both marked seen when either is (odds ~10⁻⁹ at 200,000 keys); the cost of that is a moved
task's old folder left where it was and a new one made, never a record lost.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable


class KeyCensus:
    """The ledger's keys, each marked once a desired record has it."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._hashes = array("q", sorted(hash(key) for key in keys))
        self._seen = bytearray(len(self._hashes))
        self._unseen = len(self._hashes)

    def see(self, keys: Iterable[str]) -> None:
        """Mark these keys (desired records' keys) as wanted."""
        hashes, seen = self._hashes, self._seen
        for key in keys:
            h = hash(key)
            i = bisect_left(hashes, h)
            while i < len(hashes) and hashes[i] == h:
                if not seen[i]:
                    seen[i] = 1
                    self._unseen -= 1
                i += 1

    @property
    def all_seen(self) -> bool:
        return self._unseen == 0

    def unseen(self, key: str) -> bool:
        """Whether no desired record has `key`."""
        h = hash(key)
        i = bisect_left(self._hashes, h)
        return not (i < len(self._hashes) and self._hashes[i] == h and self._seen[i])
