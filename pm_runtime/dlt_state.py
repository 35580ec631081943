"""Where dlt keeps a pipeline's working state: with the staging database it describes.

dlt's default folder (`~/.dlt/pipelines`, `/var/dlt/pipelines` for root whatever HOME says) is
one per user, keyed only by the pipeline name. Two working directories (two workspaces) or two
staging databases on one machine would then share `asana`'s state and pending load packages:
one checkout loads the other's package into its own DuckDB, or reports "unchanged" while
tasks never arrive. So each staging database gets its own dlt data folder:

- DuckDB: `dlt/` beside the file (`data/pm.duckdb` → `data/dlt/pipelines/asana`), or
  `dlt-<stem>/` for a file named other than `pm.duckdb`, so two files in one folder never share;
- PostgreSQL / MotherDuck: `data/dlt/<kind>-<host>-<port>-<database>/` under the working directory,
  keyed by where the database is (never by who logs in: no user name, no password).

`DLT_DATA_DIR` still wins when set (dlt's own rule: pipelines under `$DLT_DATA_DIR/pipelines`).
It is read from the environment, not through a configspec: it is dlt's process switch (dlt
reads it from the environment only), not a setting under a config section.

Upgrading from a version that used dlt's default folder: the first run of a pipeline whose new
folder does not exist yet takes the old one over (`take_over_legacy_state`), once, saying so in
one line — but only when that state describes this staging database (its recorded destination
type, and its last state or one of its loads is in this database), so another checkout's state is
never adopted. Nothing is re-created in DocSpace either way: the ledger lives in the staging
database, not in dlt's folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from pm_runtime.errors import ConfigurationError

DATA_DIR_ENV = "DLT_DATA_DIR"
DEFAULT_DUCKDB_NAME = "pm.duckdb"


def _safe(part: object) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(part)).strip("_") or "default"


def _server_key(warehouse: str) -> str:
    """`postgres-<host>-<port>-<database>` from dlt's resolved credentials (no user, no password)."""
    from dlt.common.configuration import resolve_configuration
    from dlt.common.configuration.exceptions import ConfigurationException

    if warehouse == "postgres":
        from dlt.destinations.impl.postgres.configuration import PostgresCredentials as Creds
    else:
        from dlt.destinations.impl.motherduck.configuration import (  # type: ignore[assignment]
            MotherDuckCredentials as Creds,
        )
    try:
        creds = resolve_configuration(Creds(), sections=("destination", warehouse))
    except ConfigurationException:
        raise ConfigurationError(
            f"the {warehouse} staging database has no credentials: set "
            f"DESTINATION__{warehouse.upper()}__CREDENTIALS (or [destination.{warehouse}] "
            "credentials in .dlt/secrets.toml)"
        ) from None
    parts = [warehouse]
    if warehouse == "postgres":
        parts += [_safe(creds.host), _safe(creds.port)]
    parts.append(_safe(creds.database))
    return "-".join(parts)


def staging_data_dir() -> Path:
    """The dlt data folder that belongs to the configured staging database (see module doc)."""
    from pm_runtime.staging import staging_database_path
    from pm_runtime.staging_database import configured_destination

    warehouse = configured_destination()
    if warehouse == "duckdb":
        db = Path(staging_database_path())
        return db.parent / ("dlt" if db.name == DEFAULT_DUCKDB_NAME else f"dlt-{_safe(db.stem)}")
    return Path.cwd() / "data" / "dlt" / _server_key(warehouse)


def pipelines_dir() -> str:
    """The folder dlt keeps pipelines' working state in: `$DLT_DATA_DIR/pipelines` when set,
    else `<staging_data_dir()>/pipelines`."""
    if os.environ.get(DATA_DIR_ENV):
        from dlt.common.pipeline import get_dlt_pipelines_dir

        return get_dlt_pipelines_dir()
    return str(staging_data_dir() / "pipelines")


def holds_no_package(pipeline_name: str) -> bool:
    """Whether dlt's working folder of `pipeline_name` certainly holds no load package to
    normalize or load: its `normalize/extracted` and `load/normalized` folders are empty or the
    pipeline has no folder yet. `False` means "ask dlt" (`Pipeline.has_pending_data`).

    A sync's check for a package a crashed run left otherwise builds a dlt pipeline first,
    ~50 ms of a one-second re-sync (issue 21). The folder names are dlt 1.31's
    (`Pipeline._normalize_storage_config` / `_load_storage_config`, `NormalizeStorage.EXTRACTED_FOLDER`,
    `LoadStorage.NORMALIZED_FOLDER`); a working folder laid out otherwise is left to dlt.
    """
    from dlt.common.storages import LoadStorage, NormalizeStorage

    working = Path(pipelines_dir()) / pipeline_name
    if not working.exists():
        return True
    for folder in (
        working / "normalize" / NormalizeStorage.EXTRACTED_FOLDER,
        working / "load" / LoadStorage.NORMALIZED_FOLDER,
    ):
        if not folder.is_dir() or any(folder.iterdir()):
            return False
    return True


def legacy_pipelines_dir() -> Path:
    """dlt's default pipelines folder, as it picks it without DLT_DATA_DIR (`run_context.global_dir`:
    /var/dlt for root, else ~/.dlt, or XDG_DATA_HOME/dlt, or a temp dir without a home)."""
    from dlt.common.runtime.run_context import global_dir

    return Path(global_dir()) / "pipelines"


# -- upgrading ------------------------------------------------------------------------------------


def _describes_this_staging(folder: Path, name: str) -> bool:
    """Whether the dlt state in `folder` was loaded into the configured staging database."""
    from pm_runtime.staging_database import configured_destination

    try:
        state = json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return False
    warehouse = configured_destination()
    if state.get("destination_type") != f"dlt.destinations.{warehouse}":
        return False
    dataset = str(state.get("dataset_name") or "")
    if not re.fullmatch(r"\w+", dataset):
        return False
    if warehouse == "duckdb":
        from pm_runtime.staging import staging_database_path

        if not os.path.exists(staging_database_path()):
            return False
    loaded = {p.name for p in (folder / "load" / "loaded").glob("*") if p.is_dir()}
    return _seen_in_staging(dataset, name, str(state.get("_version_hash") or ""), loaded)


def _seen_in_staging(dataset: str, name: str, version_hash: str, load_ids: set[str]) -> bool:
    from pm_runtime.staging import open_staging

    try:
        with open_staging(read_only=True) as con:
            hashes = con.execute(
                f"SELECT version_hash FROM {dataset}._dlt_pipeline_state WHERE pipeline_name = ?",
                [name],
            ).fetchall()
            if version_hash and (version_hash,) in hashes:
                return True
            if not load_ids:
                return False
            rows = con.execute(f"SELECT load_id FROM {dataset}._dlt_loads").fetchall()
    except Exception:  # no such dataset or table here: not this staging's state
        return False
    return bool(load_ids & {str(r[0]) for r in rows})


def take_over_legacy_state(
    source: str, names: tuple[str, ...], say: Callable[[str], None] = print
) -> bool:
    """Move `names` (the source's pipeline first) from dlt's old default folder into this
    staging's folder, once: only when DLT_DATA_DIR is unset, the new folder has none of them yet,
    and the source pipeline's old state describes this staging database. True when moved."""
    if os.environ.get(DATA_DIR_ENV):
        return False
    new, old = Path(pipelines_dir()), legacy_pipelines_dir()
    if new.resolve() == old.resolve() or any((new / n).exists() for n in names):
        return False
    if not (old / source / "state.json").is_file() or not _describes_this_staging(
        old / source, source
    ):
        return False
    new.mkdir(parents=True, exist_ok=True)
    moved = [n for n in names if (old / n).is_dir()]
    try:
        for n in moved:
            _move_folder(old / n, new / n)
    except OSError as exc:
        say(
            f"could not move dlt state from {old} to {_shown(new)} ({exc.strerror or exc}); "
            "dlt restores it from the staging database instead"
        )
        return False
    say(
        f"dlt state of {', '.join(moved)} moved from {old} to {_shown(new)} "
        "(it now lives with its staging database; see README, 'Where state lives')"
    )
    return True


def _move_folder(source: Path, target: Path) -> None:
    """A rename; across file systems a copy that appears whole or not at all, then the removal."""
    try:
        os.rename(source, target)
        return
    except OSError:
        pass
    partial = target.with_name(f".{target.name}.moving")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        shutil.copytree(source, partial, symlinks=True)
        os.rename(partial, target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(source, ignore_errors=True)


def _shown(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative
