"""A sync loads neither dlt's `dlthub` plugin nor pandas.

`dlt[hub]` installs `dlthub` for the dashboard (`dlt pipeline <name> show`). Wherever it is
installed, `import dlt` imports it (through `dlt.hub`) and dlt's plugin manager loads every
`dlt` entry point: about a second and 70 MB per process, pulling in pyarrow, numpy and ibis.
And duckdb imports pandas (and numpy, ~0.4 s) the first time a query binds a parameter, to
check whether the value is a DataFrame. A sync uses none of them: the sources yield dicts,
Arrow is loaded only where rows are written (parquet, the ledger, the plan's delivery).

So before anything imports dlt, this process hides those packages: an import finder first
in `sys.meta_path` answers ModuleNotFoundError for them, which `dlt.hub`, dlt's pandas
helpers, duckdb and pyarrow all take for "not installed" (`sys.modules[name] = None` would
not do: pyarrow's Cython import takes the None for the module). It also sets dlt's switch
`DLT_DISABLE_PLUGINS`, which keeps dlt's plugin manager to its built-in plugin (dlt 1.31,
`dlt/common/configuration/plugins.py`).

The dashboard is another process, started by the `dlt` command (`make show`), which imports
nothing of ours and loads the plugin as usual; a `dlt` command started from a sync inherits
`DLT_DISABLE_PLUGINS` and keeps every built-in command (`pipeline … show/info/trace`).
And it ends lean (`lean_exit`): an interpreter's shutdown collects garbage over every object
still alive, which after dlt, duckdb and our modules is ~0.15 s of a one-second process for
nothing (the memory goes back to the system with the process). Freezing what is alive just
before the end (`gc.freeze`) keeps those objects out of the last collections; atexit handlers,
thread joins, flushes and refcount frees all still run. Only a process about to end calls it (the
entry scripts, the load child): a long-lived caller (a test calling `main`) must not freeze.

`PM_LEAN_START=0` turns all of this off, for a setup whose sync needs a plugin or pandas. It
is an environment variable read directly, not a configspec: it must be known before dlt (and
its configuration providers) may be imported.
"""

from __future__ import annotations

import gc
import importlib.abc
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

HIDDEN_PACKAGES = ("dlthub", "pandas")
SWITCH_ENV = "PM_LEAN_START"


class HiddenPackages(importlib.abc.MetaPathFinder):
    """Answers "not installed" for the hidden packages and their submodules."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if fullname.partition(".")[0] in HIDDEN_PACKAGES:
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (not loaded in a sync; {SWITCH_ENV}=0 loads it)",
                name=fullname,
            )


def _switched_off() -> bool:
    return os.environ.get(SWITCH_ENV, "1").lower() in ("0", "false", "no")


def lean_start() -> None:
    """Hide what a sync does not use; a no-op once dlt is loaded (too late to matter)."""
    if "dlt" in sys.modules or _switched_off():
        return
    if any(isinstance(f, HiddenPackages) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, HiddenPackages())
    os.environ.setdefault("DLT_DISABLE_PLUGINS", "true")


def lean_exit(code: int | None) -> NoReturn:
    """End this process with `code`, its last garbage collections spared (see the module)."""
    if not _switched_off():
        gc.freeze()
    sys.exit(code)
