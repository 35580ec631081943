"""Any failure as one line: `error: <what failed>: <why> [— <what to do>]`, never a traceback.

Every entry point (the pipelines' command line, `pm_runtime.query`, `pm_runtime.move_staging`,
`python -m sandbox`) prints `describe_failure(exc)` for whatever escaped it; `-vv` shows the
traceback instead. dlt wraps a failure several times (PipelineStepFailed → ResourceExtractionError
or a job exception → DestinationConnectionError → the driver's own error), and the outer messages
say only where it happened: this module walks the chain to the innermost cause and says it in the
user's terms — which file, host, service or setting, and what to do about it. Secrets never
appear: URLs are shown without their user info, and no exception here carries a token.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from pm_runtime.errors import UserFacingError

# a section of dlt's configuration → the service whose credentials it holds
SERVICES = {
    "postgres": "PostgreSQL",
    "motherduck": "MotherDuck",
    "duckdb": "DuckDB",
    "docspace": "DocSpace",
}
_URL_USERINFO = re.compile(r"(\w+://)[^/@\s]*@")


def chain(exc: BaseException | None) -> list[BaseException]:
    """`exc` and every exception it wraps, outermost first (causes, contexts, dlt's attributes)."""
    found: list[BaseException] = []
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        found.append(e)
        wrapped = [getattr(e, a, None) for a in ("exception", "job_exception", "inner_exc")]
        wrapped += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
        stack.extend(w for w in wrapped if isinstance(w, BaseException))
        # `raise ... from None` hides the context: what it replaced was said better by `e`
        stack.extend([e.__cause__, None if e.__suppress_context__ else e.__context__])
    return found


def redact(text: str) -> str:
    """`postgresql://user:secret@host/db` → `postgresql://host/db`: no credentials in a line."""
    return _URL_USERINFO.sub(r"\1", text)


def first_line(text: str, limit: int = 300) -> str:
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return redact(lines[0] if lines else "")[:limit]


def _missing_credentials(exc: BaseException, hints: dict[str, str]) -> str | None:
    """dlt's ConfigFieldMissingException, blaming the service whose configuration lacks a value
    (PostgreSQL staging without credentials is PostgreSQL's problem, not the source's)."""
    from dlt.common.configuration.exceptions import ConfigFieldMissingException

    if not isinstance(exc, ConfigFieldMissingException):
        return None
    spec, fields = exc.spec_name, ", ".join(exc.fields)
    for key, service in SERVICES.items():
        if spec.lower().startswith(key):
            return (
                f"Missing {service} credentials ({fields}): set DESTINATION__{key.upper()}__CREDENTIALS "
                f"or credentials under [destination.{key}] in .dlt/secrets.toml"
            )
    source = re.match(r"([A-Z][a-z0-9]+)Source", spec)
    if source:
        service = source.group(1)
        hint = hints.get(service) or " and ".join(
            f"SOURCES__{service.upper()}__{f.upper()}" for f in exc.fields
        )
        return f"Missing {service} credentials ({fields}): set {hint}"
    return f"Missing settings in {spec} ({fields})"


def _duckdb_problem(exc: BaseException) -> str | None:
    text = str(exc)
    path = re.search(r'[Ff]ile "([^"]+)"', text) or re.search(r'database file "([^"]+)"', text)
    where = path.group(1) if path else "the staging database"
    if "not a valid DuckDB database" in text:
        return (
            f"{where} is not a valid DuckDB database — move it aside (or delete it) and run "
            "again: the source is reloaded into a new file; the ledger is lost with it, and rooms "
            "and folders already in DocSpace are adopted on the next run, not duplicated"
        )
    if "Permission denied" in text or "Read-only file system" in text:
        return (
            f"cannot write {where}: {first_line(text.split(':', 1)[-1])} — make its folder "
            "writable, or point DESTINATION__DUCKDB__CREDENTIALS at a writable path"
        )
    return None


def _postgres_problem(exc: BaseException) -> str | None:
    module = type(exc).__module__ or ""
    if not module.startswith(("psycopg2", "psycopg")):
        return None
    text = first_line(str(exc))
    host = re.search(r'server at "([^"]+)"(?:[^,]*), port (\d+)', str(exc))
    where = f"PostgreSQL at {host.group(1)}:{host.group(2)}" if host else "PostgreSQL"
    hint = " — check DESTINATION__POSTGRES__CREDENTIALS (host, port, user, password, database)"
    server = (
        r'connection to server (?:at "[^"]+"(?: \([^)]*\))?, port \d+ |on socket "[^"]+" )?failed:'
    )
    why = re.sub(rf"^{server}\s*", "", text)
    why = re.sub(r"^FATAL:\s*", "", why)
    return f"{where}: {why}{hint}"


def _os_problem(exc: BaseException) -> str | None:
    """A file or folder the run cannot use (read-only, not a folder, full disk...)."""
    if not isinstance(exc, OSError) or not exc.errno:
        return None
    name, why = exc.filename or "", exc.strerror or type(exc).__name__
    if isinstance(exc, FileExistsError | NotADirectoryError):
        why = "it is a file where a folder is needed"
    what = f"cannot use {name}: {why}" if name else why
    return f"{what} — check that folder's permissions, or DESTINATION__DUCKDB__CREDENTIALS"


_KINDS = {"int": "whole number", "float": "number", "bool": "boolean (true or false)"}


def coercion_problem(exc: BaseException, section: str = "") -> str | None:
    """dlt could not read a setting as its type (`SOURCES__ASANA__WORKSPACES=Acme` for a list).

    dlt's exception knows the field, not its section: a caller that knows it (`sources.asana`,
    where the source was made) passes it, so the line names the whole key."""
    if type(exc).__name__ != "ConfigValueCannotBeCoercedException":
        return None
    field, value = getattr(exc, "field_name", "?"), getattr(exc, "field_value", None)
    hint = getattr(exc, "hint", None)
    kind = getattr(hint, "__name__", str(hint))
    example = ' (a list is written ["a", "b"])' if kind == "list" else ""
    key = f"{section}.{field}" if section else f"setting {field}"
    return f"{key} must be a {_KINDS.get(kind, kind)}, got {value!r}{example}"


def _step(exc: BaseException) -> str:
    """Where it happened, from dlt's wrappers: `extracting asana (resource tasks)` or ''."""
    for e in chain(exc):
        pipe = getattr(e, "pipe_name", None) or getattr(e, "resource_name", None)
        if pipe and type(e).__name__.startswith("Resource"):
            source = getattr(getattr(e, "pipeline", None), "pipeline_name", "")
            return f"resource {pipe}" if not source else f"{source} resource {pipe}"
    return ""


def _toml_problem(exc: BaseException) -> str | None:
    if type(exc).__name__ != "TomlProviderReadException":
        return None
    inner = next((c for c in chain(exc)[1:] if "line" in str(c)), None)
    name = getattr(exc, "file_name", "") or "a .dlt TOML file"
    path = getattr(exc, "file_path", None) or f".dlt/{name}"
    return f"{path} is not valid TOML: {first_line(str(inner or exc))}"


def describe_failure(exc: BaseException, hints: dict[str, str] | None = None) -> str:
    """The one line (without `error: `) that says what failed, why, and what to do; `hints`:
    where to set a service's credentials, by its title (`{"Asana": "SOURCES__ASANA__..."}`)."""
    causes = chain(exc)
    for e in causes:
        if isinstance(e, UserFacingError):
            return str(e)
    for e in causes:
        found = _toml_problem(e) or _missing_credentials(e, hints or {}) or coercion_problem(e)
        if found:
            return found
    for e in reversed(causes):  # innermost first: the driver's own words
        for probe in (_duckdb_problem, _postgres_problem, _os_problem):
            found = probe(e)
            if found:
                return found
    inner = causes[-1]
    service, status = getattr(inner, "service", None), getattr(inner, "status", None)
    if service and getattr(inner, "where", None):  # a client's error after its retries
        said = f"{status} {inner.message}" if status else inner.message  # type: ignore[attr-defined]
        return f"{service} {inner.where}: {said}"  # type: ignore[attr-defined]
    where = _step(exc)
    # a builtin's name says what kind of problem it is; a library's own error says it itself
    named = type(inner).__module__ == "builtins" or not str(inner)
    why = first_line(f"{type(inner).__name__}: {inner}" if named else str(inner))
    if where:
        return f"{where}: {why}"
    return f"{why}  (-vv shows the traceback)"


def print_failure(exc: BaseException, stream: TextIO | None = None) -> None:
    print(f"error: {describe_failure(exc)}", file=stream or sys.stdout, flush=True)
