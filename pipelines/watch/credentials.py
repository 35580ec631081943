"""Notice when the credentials a long-running process started with are edited.

dlt reads `.dlt/secrets.toml` once per process, so a watcher would go on with the old
token after someone rotates it. This compares a fingerprint of the relevant sections
(never the values themselves) whenever a secrets file's mtime moves; environment
variables cannot change under a running process, so the files are all there is to watch.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any


class SecretsFingerprint:
    def __init__(self, files: list[Path], sections: list[str]) -> None:
        self.files = files
        self.sections = sections
        self._mtimes = self._stat()
        self._digest = self._fingerprint()

    def _stat(self) -> list[float | None]:
        return [f.stat().st_mtime if f.exists() else None for f in self.files]

    def _fingerprint(self) -> str:
        found: list[Any] = []
        for f in self.files:
            try:
                doc = tomllib.loads(f.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                found.append(None)
                continue
            for dotted in self.sections:
                node: Any = doc
                for part in dotted.split("."):
                    node = node.get(part) if isinstance(node, dict) else None
                found.append(node)
        return hashlib.sha256(json.dumps(found, sort_keys=True, default=str).encode()).hexdigest()

    def changed(self) -> Path | None:
        """The first secrets file whose relevant content differs from the start, else None."""
        mtimes = self._stat()
        if mtimes == self._mtimes:
            return None
        self._mtimes = mtimes
        digest = self._fingerprint()
        if digest == self._digest:
            return None
        return next((f for f in self.files if f.exists()), self.files[0])


def secrets_files() -> list[Path]:
    """The secrets.toml files dlt reads: the project's `.dlt/` and the global dlt dir."""
    import dlt

    ctx = dlt.current.run_context()
    out = [Path(ctx.settings_dir) / "secrets.toml"]
    global_dir = Path(ctx.global_dir) / "secrets.toml"
    if global_dir != out[0]:
        out.append(global_dir)
    return out
