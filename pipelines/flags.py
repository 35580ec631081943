"""The flags of `python pipelines/<source>_to_docspace.py`, the same for every source."""

from __future__ import annotations

import argparse
from pathlib import Path

from docspace_destination.limits import DEFAULT_CONCURRENCY, DEFAULT_MAX_WRITES, MAX_CONCURRENCY
from pm_runtime.source_spec import SourceSpec, spec_for

SANDBOX_DIR = Path("data") / "sandbox"  # where `python -m sandbox demo` keeps its state


def build_parser(source: str | SourceSpec) -> argparse.ArgumentParser:
    spec = spec_for(source)
    source, title, nouns = spec.name, spec.display_title, spec.nouns
    parser = argparse.ArgumentParser(
        prog=f"python pipelines/{source}_to_docspace.py",
        description=(
            f"Load {title} into DuckDB (pipeline '{source}', dataset '{spec.dataset}'), then make "
            f"ONLYOFFICE DocSpace match it (pipeline '{source}_docspace'): a room per "
            f"{nouns.room}, a folder per {nouns.folder}."
        ),
        epilog="Exit codes: 0 ok / nothing to do, 1 error or failed records, 2 --plan found changes, "
        "3 stopped at DocSpace's daily write limit.",
    )
    # this process's own argv, set by `command.main` (only then may a big run's sync move to a
    # fresh process: `pipelines.fresh_sync`); None for a command line run inside another program
    parser.set_defaults(command_line=None)
    parser.add_argument(
        "--plan",
        action="store_true",
        help="load the source, then print what would change in DocSpace and change nothing "
        "(exit 0: nothing to do, 2: changes pending)",
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="read DocSpace before planning, so hand-made renames, moves and deletions are corrected",
    )
    parser.add_argument(
        "--max-writes",
        type=int,
        metavar="N",
        help=f"stop cleanly after N DocSpace writes; the next run continues (default {DEFAULT_MAX_WRITES}; DocSpace allows 10,000/day)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help=f"concurrent DocSpace writes, 1..{MAX_CONCURRENCY} (default {DEFAULT_CONCURRENCY}; DocSpace rejects more than {MAX_CONCURRENCY})",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--extract-only",
        action="store_true",
        help="only load the source into DuckDB; do not touch DocSpace",
    )
    mode.add_argument(
        "--sync-only",
        action="store_true",
        help="skip the source; plan and apply from what DuckDB already holds",
    )
    parser.add_argument(
        "--skip-if-running",
        action="store_true",
        help="for schedulers: when another run of this pipeline is under way, say so and exit 0 "
        "at once instead of waiting for it (staging.lock_timeout)",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="run everything against embedded local emulators with sample data (no account needed); "
        f"state goes to {SANDBOX_DIR}/",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="keep running: poll the source's change signal every --interval seconds and apply "
        "what changed within seconds (SIGTERM/Ctrl-C stops; see README, 'Running continuously')",
    )
    parser.add_argument(
        "--interval",
        type=float,
        metavar="S",
        help="with --watch: seconds between looks (default 30; stretched to stay within --api-share)",
    )
    parser.add_argument(
        "--api-share",
        type=float,
        metavar="F",
        help="with --watch: share of each API's quota the watcher may use (default 0.5)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail (-vv: debug logs)"
    )
    return parser


def limits_flag_problem(concurrency: int | None, max_writes: int | None) -> str | None:
    """What is wrong with --concurrency / --max-writes, in the command line's words (None: fine);
    checked before anything runs. The same limits in settings are worded by `ApplySettings`."""
    if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
        return (
            f"--concurrency must be between 1 and {MAX_CONCURRENCY} "
            f"(DocSpace rejects more than {MAX_CONCURRENCY} concurrent writes)"
        )
    if max_writes is not None and max_writes < 0:
        return "--max-writes must be 0 or more"
    return None
