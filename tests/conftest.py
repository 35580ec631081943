"""Shared fixtures: emulators over real HTTP on 127.0.0.1 and an isolated dlt/DuckDB workspace."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import pm_runtime  # noqa: F401 - before anything imports dlt: it starts lean (pm_runtime.lean_start)

if TYPE_CHECKING:
    from tests.demo_clone import Demo


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (make test): three workers per two cores. Most tests wait on emulators over
    HTTP or on child processes; one worker per core left a quarter of a 2-core CI machine idle
    (suite 12m05s with 2 workers, 10m13s with 3, same tests)."""
    return max(2, (os.cpu_count() or 1) * 3 // 2)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`--dist loadgroup` (make test) under pytest 9: pytest-xdist 3.8 tags a test marked
    `xdist_group` by setting `item._nodeid`, which pytest 9 no longer reads (a node keeps a
    `NodeId` in `item._id`), so each group was spread over all workers. Tag them the way xdist
    means to ("<nodeid>@<group>", what its scheduler splits on); a no-op where xdist did it."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        suffix = "@" + "_".join(sorted(names))
        if names and not item.nodeid.endswith(suffix):
            item._id = type(item._id).parse(item.nodeid + suffix)  # type: ignore[attr-defined]


os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session", autouse=True)
def dlt_reads_no_project_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """dlt reads the `.dlt/*.toml` of the directory it is in once per process, when it first
    resolves a setting. pytest runs from the project's root, whose .dlt/config.toml (the one
    the project ships: its role_map, [watch], ...) thus became the settings of every later
    test of a worker whenever a test outside a workspace came first (test_architecture's
    imports did in 2 workers of 3; a role_map test landing there saw ContentCreator, not the
    value its environment gave). Each worker reads them in an empty directory instead: a
    test's settings are its environment and its workspace."""
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("no-dlt-settings"))
        Container()[PluggableRunContext].reload_providers()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory with its own dlt data dir, so pipelines and data/pm.duckdb are per test."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / ".dlt-data"))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    for key in list(os.environ):
        if key.startswith(("SOURCES__", "DESTINATION__", "STAGING__")):
            monkeypatch.delenv(key)
    return tmp_path


@pytest.fixture
def asana_service() -> Iterator:
    from sandbox import ASANA_TOKEN, EmulatorServer, Service
    from sandbox.asana import AsanaEmulator

    server = EmulatorServer(AsanaEmulator(token=ASANA_TOKEN)).start()
    yield Service(server, {"access_token": ASANA_TOKEN})
    server.stop()


@pytest.fixture
def trello_service() -> Iterator:
    from sandbox import TRELLO_KEY, TRELLO_TOKEN, EmulatorServer, Service
    from sandbox.trello import TrelloEmulator

    server = EmulatorServer(TrelloEmulator(api_key=TRELLO_KEY, token=TRELLO_TOKEN)).start()
    yield Service(server, {"token": TRELLO_TOKEN, "api_key": TRELLO_KEY})
    server.stop()


@pytest.fixture
def docspace_service() -> Iterator:
    from sandbox import DOCSPACE_API_KEY, EmulatorServer, Service
    from sandbox.docspace import DocSpaceEmulator

    server = EmulatorServer(DocSpaceEmulator(api_key=DOCSPACE_API_KEY)).start()
    yield Service(server, {"api_key": DOCSPACE_API_KEY})
    server.stop()


@pytest.fixture
def sandbox() -> Iterator:
    from sandbox import Sandbox

    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """`make demo` in a fresh copy of the project, once per pytest worker (~10 s of CPU).

    Its tests only read what the demo left (printed commands, dlt state, the DuckDB file,
    dashboards): they share one demo and run on one worker (`DEMO_GROUP`).
    """
    from tests.demo_clone import run_demo

    return run_demo(tmp_path_factory.mktemp("clone") / "project")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator:
    """A real PostgreSQL server (Debian's package) for this pytest worker; skips when not installed."""
    from sandbox.postgres_server import start_server

    server = start_server()
    if server is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh, empty database on the test server."""
    return postgres_server.create_database()


STAGINGS = ["duckdb", "postgres"]


@pytest.fixture(params=STAGINGS)
def staging(request, monkeypatch) -> str:
    """Runs the test once on each staging database: the DuckDB file and a real PostgreSQL."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("STAGING__DESTINATION", "postgres")
        monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", url)
    return request.param
