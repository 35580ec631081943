"""Keep dlt's finished load packages from piling up under a long-running watcher.

dlt keeps every loaded package (schema, state, job files: ~200 KB per cycle here) in
`<pipeline dir>/load/loaded/` forever; a one-off run per day never notices, a watcher
applying a change a minute would add hundreds of MB a day. Only the newest `keep`
packages stay (`[watch] keep_load_packages`). They are history only: what was loaded is in
the destination (and its `_dlt_loads` table), and a package that is not finished is never
in `loaded/`.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def prune_loaded_packages(pipeline_dir: Path, keep: int) -> int:
    """Delete all but the newest `keep` loaded packages; returns how many were deleted."""
    loaded = pipeline_dir / "load" / "loaded"
    if not loaded.is_dir():
        return 0

    def load_id(p: Path) -> float:
        try:
            return float(p.name)
        except ValueError:
            return float("inf")  # not a package we know: never delete it

    packages = sorted((p for p in loaded.iterdir() if p.is_dir()), key=load_id)
    old = [p for p in packages[: max(0, len(packages) - keep)] if load_id(p) != float("inf")]
    for p in old:
        shutil.rmtree(p, ignore_errors=True)
    return len(old)
