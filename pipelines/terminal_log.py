"""How log records read on the terminal: a warning reads like the command's own lines.

The command line's own problems print as `warning: …` / `error: …` (`pipelines.preflight`,
`pipelines.command.guarded`); a warning logged on the way (a retry of an unreachable service,
a skipped record) read `WARNING pm_runtime.http: …` beside them. Now both read `warning: …`,
and the logger's name, which is for whoever debugs, shows with `-v` / `-vv` on the INFO and
DEBUG lines only.
"""

from __future__ import annotations

import logging
import sys


class TerminalLines(logging.Formatter):
    """`warning: message` / `error: message`; below WARNING, `INFO name: message`."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {line}"
        return f"{record.levelname} {record.name}: {line}"


def log_to_terminal(verbose: int) -> None:
    """Log records at WARNING and above on stderr (INFO with `-v`, DEBUG with `-vv`); a no-op
    when the process already logs somewhere (a test's capture, a caller's own set-up)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TerminalLines("%(message)s"))
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, handlers=[handler])
