"""Everything checked before a run reads the source or writes anything: no setting mistake
reaches DocSpace.

1. `.dlt/config.toml` and `.dlt/secrets.toml` parse (a syntax error names the file and line);
   `secrets.toml` readable by others gets a warning with the `chmod` that fixes it.
2. Unknown keys in our sections (`[destination.docspace]`, `[staging]`, `[watch]`, and the
   `DESTINATION__DOCSPACE__*` / `STAGING__*` / `WATCH__*` variables) get a warning naming the
   closest known key — a misspelt `layuot` would otherwise be ignored without a word.
3. Every setting is read and checked once (each reader raises a ConfigurationError naming the
   key): staging, `[watch]` with --watch, DocSpace's mapping and limits, the opt-in steps.
4. DocSpace answers with this API key (`portal_check`), unless only the source is loaded or a
   watcher starts (a watcher retries a portal that is down rather than exiting).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import tomllib
from collections.abc import Iterable
from pathlib import Path

from pm_runtime.errors import ConfigurationError
from pm_runtime.setting_checks import unknown_key_warnings
from pm_runtime.source_spec import source_names


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def read_toml(path: Path) -> dict:
    """A .dlt TOML file ({} when absent); a syntax error is one line naming the file and line."""
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None


def secrets_file_warning(path: Path) -> str | None:
    """A secrets file others may read: the one line that says so and how to fix it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"{path} can be read by other users of this machine: run chmod 600 {path}"
    return None


def _section_keys(table: dict, sections: Iterable[str], known: set[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in sections:
        node = table
        for part in name.split("."):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            found[name] = list(node)
    return found


def unknown_settings(config: dict, environ: dict[str, str]) -> list[str]:
    """Warnings for keys in our sections that no reader knows, from TOML and the environment."""
    from docspace_destination.config import DOCSPACE_KEYS  # the configspecs' fields
    from pipelines.watch.settings import known_keys as watch_keys
    from pm_runtime.staging_config import STAGING_KEYS

    sources = set(source_names())
    docspace = DOCSPACE_KEYS | sources
    known = {"destination.docspace": docspace, "staging": STAGING_KEYS, "watch": watch_keys()}
    known |= {f"destination.docspace.{s}": DOCSPACE_KEYS for s in sources}
    found = _section_keys(config, known, docspace)
    prefixes = {"DESTINATION__DOCSPACE__": "destination.docspace", "STAGING__": "staging"}
    prefixes["WATCH__"] = "watch"
    for var in environ:
        for prefix, section in prefixes.items():
            if not var.startswith(prefix):
                continue
            parts = var[len(prefix) :].lower().split("__")
            if section == "destination.docspace" and len(parts) > 1:
                if parts[0] == "role_map":
                    continue
                section, parts = f"{section}.{parts[0]}", parts[1:]
            found.setdefault(section, []).append("__".join(parts))
    return unknown_key_warnings(found, known)


def check_files(root: Path = Path(".dlt")) -> dict:
    """Parse the .dlt files (raising on a syntax error), warn about a readable secrets file;
    returns config.toml's content."""
    config = read_toml(root / "config.toml")
    read_toml(root / "secrets.toml")
    warning = secrets_file_warning(root / "secrets.toml")
    if warning:
        _warn(warning)
    return config


def check_before_running(source: str, args: argparse.Namespace) -> None:
    """Raise a one-line error for the first bad setting; DocSpace must answer (see module doc)."""
    from docspace_destination.settings import load_opt_in_settings, load_settings
    from pm_runtime.staging_database import configured_destination
    from pm_runtime.staging_lock import lock_timeout

    if getattr(args, "sandbox", False):
        return
    for warning in unknown_settings(check_files(), dict(os.environ)):
        _warn(warning)
    configured_destination()
    lock_timeout()
    if args.watch:
        from pipelines.watch.settings import read_watch_settings

        read_watch_settings(source, args.interval, args.api_share)
    settings = load_settings(
        source,
        concurrency=args.concurrency,
        max_writes=args.max_writes,
        need_credentials=not args.extract_only,
    )
    load_opt_in_settings(source, settings.apply.room_type)
    if not args.extract_only and not args.watch:
        from docspace_destination.portal_check import check_portal

        check_portal(settings.base_url, settings.api_key)
