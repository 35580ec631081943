"""Every failure is one line with its cause, and no setting mistake reaches DocSpace.

One table, one row per mistake a new user makes (issue 18's table, and the cases that were
already right, so they stay right). Each row runs the real entry point against one shared
sandbox and checks what the user sees: the exit code, the line that names the key, service or
cause, no traceback anywhere in the output, and no DocSpace write during that run (from the
sandbox's request log). Most rows run the command line in-process; the few that depend on
process start-up (dlt reading a broken TOML file, dlt's own log lines) run as subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox import ASANA_TOKEN, DOCSPACE_API_KEY, Sandbox
from tests.sync_world import AsanaWorld

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
SECRETS = (ASANA_TOKEN, DOCSPACE_API_KEY, "s3cret-pw")


@dataclass(frozen=True)
class Case:
    id: str
    env: dict[str, str] = field(default_factory=dict)
    argv: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()  # all in the line that says what went wrong
    code: int = 1
    setup: Callable[[Path], None] | None = None
    where: str = "last"  # the line checked: "last", or "any" (a warning before a plan)
    command: str = "asana"  # asana | trello | move_staging | query: the entry point
    subprocess: bool = False
    faults: Callable[[Sandbox], None] | None = None  # injected for this case only
    writes: int | None = 0  # None: any number (a run that is meant to apply)


def _file(path: str, content: bytes | str, mode: int | None = None) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
        if mode is not None:
            target.chmod(mode)

    return make


def _staged_duckdb(root: Path) -> None:
    import duckdb

    (root / "data").mkdir(exist_ok=True)
    con = duckdb.connect(str(root / "data" / "pm.duckdb"))
    con.execute("CREATE SCHEMA asana_data; CREATE TABLE asana_data.projects (gid TEXT)")
    con.close()


UNSET = "<unset>"
DS = "DESTINATION__DOCSPACE__"
CLOSED = "http://127.0.0.1:1"
PG_CLOSED = "postgresql://pm:s3cret-pw@127.0.0.1:1/pm"

CASES = [
    # --- the staging database
    Case(
        "duckdb-random-bytes",
        setup=_file("data/pm.duckdb", os.urandom(5000)),
        expect=("pm.duckdb", "not a valid DuckDB database", "adopted"),
        subprocess=True,
    ),
    Case(
        "duckdb-empty-file",
        setup=_file("data/pm.duckdb", b""),
        expect=("pm.duckdb", "not a valid DuckDB database"),
    ),
    Case(
        "duckdb-folder-is-a-file",
        env={"DESTINATION__DUCKDB__CREDENTIALS": "blocker/pm.duckdb"},
        setup=_file("blocker", "not a folder"),
        expect=("cannot use", "blocker", "a file where a folder is needed"),
    ),
    Case(
        "postgres-closed-port",
        env={"STAGING__DESTINATION": "postgres", "DESTINATION__POSTGRES__CREDENTIALS": PG_CLOSED},
        expect=("PostgreSQL at 127.0.0.1:1", "refused", "DESTINATION__POSTGRES__CREDENTIALS"),
    ),
    Case(
        "postgres-without-credentials-blames-postgres",
        env={"STAGING__DESTINATION": "postgres"},
        expect=("Missing PostgreSQL credentials", "DESTINATION__POSTGRES__CREDENTIALS"),
    ),
    Case(
        "staging-destination-unknown",
        env={"STAGING__DESTINATION": "sqlite"},
        expect=("staging.destination", "sqlite"),
    ),
    # --- the source
    Case(
        "asana-max-workers-zero",
        env={"SOURCES__ASANA__MAX_WORKERS": "0"},
        expect=("sources.asana.max_workers", "at least 1"),
    ),
    Case(
        "asana-unknown-workspace",
        env={"SOURCES__ASANA__WORKSPACES": '["Nowhere"]'},
        expect=("sources.asana.workspaces", "Nowhere"),
    ),
    Case(
        "asana-workspaces-not-a-list",
        env={"SOURCES__ASANA__WORKSPACES": "Acme"},
        expect=("workspaces", "must be a list", "'Acme'"),
    ),
    Case(
        "trello-unknown-board",
        command="trello",
        env={"SOURCES__TRELLO__BOARD_IDS": '["5f1e0000000000000000beef"]'},
        expect=("sources.trello.board_ids", "5f1e0000000000000000beef"),
    ),
    Case(
        "asana-max-retries-not-a-number",  # dlt's own reading of the type: the key named in full
        env={"SOURCES__ASANA__MAX_RETRIES": "many"},
        expect=("sources.asana.max_retries must be a whole number, got 'many'",),
    ),
    Case(
        "trello-answering-503",  # sources.trello.max_retries: one try, then the one line
        command="trello",
        env={"SOURCES__TRELLO__MAX_RETRIES": "0"},
        faults=lambda sb: sb.trello.faults.errors(1.0, statuses=(503,)),
        expect=("Trello kept failing on GET ", "/members/me/boards: 503 server error after 1 try"),
    ),
    Case(
        "trello-max-retries-negative",
        command="trello",
        env={"SOURCES__TRELLO__MAX_RETRIES": "-1"},
        expect=("sources.trello.max_retries must be at least 0, got -1",),
    ),
    Case(
        "asana-unknown-project",
        env={"SOURCES__ASANA__PROJECTS": '["Gamma"]'},
        expect=("sources.asana.projects", "Gamma"),
    ),
    Case(
        "asana-answering-500",
        env={"SOURCES__ASANA__MAX_RETRIES": "0"},
        faults=lambda sb: sb.asana.faults.errors(1.0, statuses=(500,)),
        expect=("resource workspaces", "Asana answered 500 to get_workspaces"),
    ),
    Case(
        "asana-closed-port",  # each retry one line of ours while it waits (not urllib3's, twice)
        env={"SOURCES__ASANA__BASE_URL": CLOSED, "SOURCES__ASANA__MAX_RETRIES": "2"},
        expect=(
            f"Asana at {CLOSED} cannot be reached (3 tries)",
            "connection refused: nothing listens on 127.0.0.1:1",
            "sources.asana.base_url",
        ),
        subprocess=True,
    ),
    Case(
        "asana-token-rejected",  # already right
        env={"SOURCES__ASANA__ACCESS_TOKEN": "wrong"},
        expect=("Asana rejected the access token (401)",),
    ),
    Case(
        "asana-without-token",
        env={"SOURCES__ASANA__ACCESS_TOKEN": UNSET},
        expect=("Missing Asana credentials", "SOURCES__ASANA__ACCESS_TOKEN"),
    ),
    # --- DocSpace, checked before the source is read
    Case(
        "docspace-closed-port",
        env={DS + "BASE_URL": CLOSED},
        expect=(CLOSED, "connection refused", "destination.docspace.base_url"),
    ),
    Case(
        "docspace-unknown-host",
        env={DS + "BASE_URL": "https://docspace.invalid"},
        expect=("https://docspace.invalid", "unknown host docspace.invalid"),
    ),
    Case(
        "docspace-https-to-http-server",
        env={DS + "BASE_URL": "https://{docspace_host}"},
        expect=("TLS",),
    ),
    Case(
        "docspace-answering-503",
        faults=lambda sb: sb.docspace.faults.errors(1.0, statuses=(503,)),
        expect=("DocSpace at http://127.0.0.1:", "answered 503", "try again later"),
    ),
    Case(
        "docspace-base-url-with-a-path",
        env={DS + "BASE_URL": "{docspace}/some/path"},
        expect=("destination.docspace.base_url", "portal root"),
    ),
    Case(
        "docspace-key-rejected",  # already right, now before the source load
        env={DS + "API_KEY": "wrong"},
        expect=("rejected the API key (401)", "destination.docspace.api_key"),
    ),
    Case(
        "docspace-plain-http-refused",  # already right
        env={DS + "BASE_URL": "http://docspace.example.com"},
        expect=("destination.docspace.base_url", "plain http"),
    ),
    Case(
        "docspace-without-key",
        env={DS + "API_KEY": UNSET},
        expect=("Missing DocSpace API key", "DESTINATION__DOCSPACE__API_KEY"),
    ),
    # --- [destination.docspace] settings
    Case(
        "room-title-typo",
        env={DS + "ROOM_TITLE": "{nam}"},
        expect=("destination.docspace.room_title", "{nam}", "did you mean {name}"),
    ),
    Case(
        "folder-title-unknown-field",
        env={DS + "FOLDER_TITLE": "{title}"},
        expect=("destination.docspace.folder_title", "{title}"),
    ),
    Case(
        "room-title-unclosed",
        env={DS + "ROOM_TITLE": "{name"},
        expect=("destination.docspace.room_title", "not a valid template"),
    ),
    Case(
        "room-title-positional",
        env={DS + "ROOM_TITLE": "{0}"},
        expect=("destination.docspace.room_title", "positional"),
    ),
    Case(
        "room-type-unknown-number",
        env={DS + "ROOM_TYPE": "99"},
        expect=("destination.docspace.room_type", "99"),
    ),
    Case("layout-empty", env={DS + "LAYOUT": ""}, expect=("destination.docspace.layout", "empty")),
    Case(
        "folder-title-empty",
        env={DS + "FOLDER_TITLE": ""},
        expect=("destination.docspace.folder_title", "empty"),
    ),
    Case(
        "layout-unknown",  # already right
        env={DS + "LAYOUT": "tree"},
        expect=("destination.docspace.layout", "tree"),
    ),
    Case(
        "tags-not-a-list",
        env={DS + "TAGS": "notalist"},
        expect=("destination.docspace.tags", "list"),
    ),
    Case(
        "concurrency-not-whole",
        env={DS + "CONCURRENCY": "8.5"},
        expect=("destination.docspace.concurrency", "whole number"),
    ),
    Case(
        "private-not-a-bool",  # already right
        env={DS + "PRIVATE": "maybe"},
        expect=("destination.docspace.private", "true or false"),
    ),
    Case(
        "misspelt-key-in-environment",
        env={DS + "LAYUOT": "grouped"},
        argv=("--plan",),
        code=2,
        where="any",
        expect=("warning", "destination.docspace.layuot", "did you mean layout"),
    ),
    Case(
        "misspelt-key-in-config-toml",
        setup=_file(".dlt/config.toml", '[destination.docspace]\nlayuot = "grouped"\n'),
        argv=("--plan",),
        code=2,
        where="any",
        expect=("warning", "destination.docspace.layuot", "did you mean layout"),
    ),
    Case(
        "config-toml-syntax-error",
        setup=_file(".dlt/config.toml", "[destination.docspace\nlayout = 1\n"),
        expect=("config.toml", "line 1"),
        subprocess=True,
    ),
    Case(
        "secrets-toml-readable-by-others",
        setup=_file(".dlt/secrets.toml", "", mode=0o644),
        argv=("--plan",),
        code=2,
        where="any",
        expect=("warning", "secrets.toml", "chmod 600"),
    ),
    # --- [watch]
    Case(
        "watch-quota-zero",
        env={"WATCH__ASANA_QUOTA": "0"},
        argv=("--watch",),
        expect=("watch.asana_quota", "more than 0"),
    ),
    Case(
        "watch-quota-negative",
        env={"WATCH__ASANA_QUOTA": "-150"},
        argv=("--watch",),
        expect=("watch.asana_quota",),
    ),
    Case(
        "watch-quota-not-a-number",
        env={"WATCH__DOCSPACE_QUOTA": "abc"},
        argv=("--watch",),
        expect=("watch.docspace_quota", "'abc'"),
    ),
    Case(
        "watch-keep-load-packages-negative",
        env={"WATCH__KEEP_LOAD_PACKAGES": "-1"},
        argv=("--watch",),
        expect=("watch.keep_load_packages", "at least 0"),
    ),
    Case(
        "staging-lock-timeout-negative",  # already right
        env={"STAGING__LOCK_TIMEOUT": "-5"},
        expect=("staging.lock_timeout",),
    ),
    # --- the other entry points
    Case(
        "move-staging-closed-port",
        command="move_staging",
        env={"DESTINATION__POSTGRES__CREDENTIALS": PG_CLOSED},
        setup=_staged_duckdb,
        expect=("PostgreSQL at 127.0.0.1:1", "refused"),
        subprocess=True,
    ),
    Case(
        "move-staging-missing-file",
        command="move_staging",
        env={"DESTINATION__POSTGRES__CREDENTIALS": PG_CLOSED},
        expect=("pm.duckdb does not exist",),
    ),
    Case(
        "move-staging-without-credentials",
        command="move_staging",
        setup=_staged_duckdb,
        expect=("Missing PostgreSQL credentials",),
    ),
    Case(
        "move-staging-corrupt-duckdb",
        command="move_staging",
        env={"DESTINATION__POSTGRES__CREDENTIALS": PG_CLOSED},
        setup=_file("data/pm.duckdb", b""),
        expect=("not a valid DuckDB database",),
    ),
    Case(
        "query-corrupt-duckdb",
        command="query",
        setup=_file("data/pm.duckdb", b"garbage" * 100),
        expect=("not a valid DuckDB database",),
    ),
    # --- the happy path stays quiet: no dlt warnings about untyped columns
    Case("a-clean-run", code=0, expect=("DocSpace sync summary",), where="any", writes=None),
]


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        AsanaWorld(sb).build()
        yield sb


def _environment(sb: Sandbox, case: Case, workspace: Path) -> dict[str, str]:
    env = {
        **sb.environment(),
        "DLT_DATA_DIR": str(workspace / ".dlt-data"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
    }
    for key, value in case.env.items():
        if "{docspace" in value:
            value = value.format(
                docspace=sb.docspace.root_url, docspace_host=sb.docspace.root_url.split("//")[1]
            )
        env[key] = value
    return env


def _argv(case: Case) -> list[str]:
    if case.command == "move_staging":
        return ["--to", "postgres"]
    if case.command == "query":
        return ["SELECT 1"]
    return list(case.argv)


def _run_in_process(case: Case) -> int:
    if case.command == "move_staging":
        from pm_runtime.move_staging import main as move

        return move(_argv(case))
    if case.command == "query":
        from pm_runtime.query import main as query

        return query(_argv(case))
    from pipelines.command import main

    return main(case.command, _argv(case))


def _run_subprocess(case: Case, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    entry = {
        "asana": [str(ROOT / "pipelines" / "asana_to_docspace.py")],
        "move_staging": ["-m", "pm_runtime.move_staging"],
        "query": ["-m", "pm_runtime.query"],
    }[case.command]
    done = subprocess.run(
        [PYTHON, *entry, *_argv(case)],
        cwd=cwd,
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, in the order a terminal shows it
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_failure_is_one_line_naming_its_cause_and_writes_nothing(
    case: Case, shared: Sandbox, workspace: Path, monkeypatch, capsys, request
) -> None:
    if case.id == "duckdb-folder-is-a-file" and sys.platform == "win32":
        pytest.skip("POSIX paths")
    env = _environment(shared, case, workspace)
    if case.setup:
        case.setup(workspace)
    writes = shared.docspace.log.writes()
    if case.faults:
        case.faults(shared)
        request.addfinalizer(shared.asana.faults.clear)
        request.addfinalizer(shared.docspace.faults.clear)
    unset = [k for k, v in env.items() if v == UNSET]
    if case.subprocess:
        env = {k: v for k, v in env.items() if k not in unset}
        code, output = _run_subprocess(case, env, workspace)
    else:
        for key, value in env.items():
            if key in unset:
                monkeypatch.delenv(key, raising=False)
            else:
                monkeypatch.setenv(key, value)
        code = _run_in_process(case)
        captured = capsys.readouterr()
        output = captured.out + captured.err
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == case.code, output
    assert "Traceback" not in output
    assert "could not have their types inferred" not in output
    assert "PolicyRetry" not in output  # urllib3's retry lines: ours say it in one line each
    # a warning logged on the way reads as the command's own lines do (`warning: …`)
    assert not [line for line in lines if line.startswith(("WARNING ", "ERROR "))], output
    checked = lines[-1:] if case.where == "last" else lines
    assert any(all(e in line for e in case.expect) for line in checked), output
    if case.code == 1:
        assert lines[-1].startswith("error: "), output
    assert not [s for s in SECRETS if s in output]
    if case.writes is not None:
        assert shared.docspace.log.writes() - writes == case.writes


def test_a_wrong_postgresql_password_names_the_server_and_never_the_password(
    workspace, shared, postgres_url, monkeypatch, capsys
) -> None:
    from pipelines.command import main

    user, rest = postgres_url.split("://", 1)[1].split(":", 1)
    wrong = postgres_url.replace(f"{user}:{rest.split('@')[0]}@", f"{user}:s3cret-pw@")
    for key, value in shared.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("STAGING__DESTINATION", "postgres")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", wrong)
    writes = shared.docspace.log.writes()
    assert main("asana", []) == 1
    output = capsys.readouterr()
    last = output.out.strip().splitlines()[-1]
    assert last.startswith("error: PostgreSQL at 127.0.0.1:"), last
    assert "password authentication failed" in last
    assert "s3cret-pw" not in output.out + output.err
    assert "Traceback" not in output.out + output.err
    assert shared.docspace.log.writes() == writes
