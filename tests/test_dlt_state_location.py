"""dlt's working state lives with the staging database it describes, never in one folder per user.

Two working directories (two Asana workspaces) on one machine used to share dlt's default folder
(`~/.dlt/pipelines`; `/var/dlt/pipelines` for root whatever HOME says) under the same pipeline
names, and loaded or lost each other's packages. Now each staging database has its own:
`data/dlt/` beside `data/pm.duckdb`, a folder per PostgreSQL database; DLT_DATA_DIR still wins.
A user upgrading gets the old folder taken over by the first run, once, with nothing re-created.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pm_runtime.dlt_state import pipelines_dir
from tests.sync_world import EXPECTED_FLAT, AsanaWorld, duplicates

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "pipelines" / "asana_to_docspace.py"


# -- where it lives ------------------------------------------------------------------------------


def test_by_default_dlt_state_lives_beside_the_duckdb_file(workspace, monkeypatch):
    monkeypatch.delenv("DLT_DATA_DIR")
    assert Path(pipelines_dir()) == workspace / "data" / "dlt" / "pipelines"


def test_another_duckdb_file_in_the_same_folder_gets_its_own_state(workspace, monkeypatch):
    monkeypatch.delenv("DLT_DATA_DIR")
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS", "data/second.duckdb")
    assert Path(pipelines_dir()) == workspace / "data" / "dlt-second" / "pipelines"


def test_a_postgres_staging_gets_a_folder_named_by_its_database_not_its_password(
    workspace, monkeypatch
):
    monkeypatch.delenv("DLT_DATA_DIR")
    monkeypatch.setenv("STAGING__DESTINATION", "postgres")
    monkeypatch.setenv(
        "DESTINATION__POSTGRES__CREDENTIALS", "postgresql://loader:s3cret@db.example:5433/pm"
    )
    folder = Path(pipelines_dir())
    assert folder == workspace / "data" / "dlt" / "postgres-db.example-5433-pm" / "pipelines"
    assert "s3cret" not in str(folder) and "loader" not in str(folder)


def test_dlt_data_dir_still_wins_when_set(workspace, monkeypatch):
    monkeypatch.setenv("DLT_DATA_DIR", str(workspace / "elsewhere"))
    assert Path(pipelines_dir()) == workspace / "elsewhere" / "pipelines"


# -- two working directories at once -------------------------------------------------------------


def _env(home: Path, sandbox_env: dict[str, str]) -> dict[str, str]:
    """A user's shell: no DLT_DATA_DIR, a HOME of its own (root's dlt default ignores HOME)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SOURCES__", "DESTINATION__", "STAGING__")) and k != "DLT_DATA_DIR"
    }
    return {**env, **sandbox_env, "HOME": str(home), "PYTHONPATH": str(ROOT)}


def _run_both(dirs: list[Path], envs: list[dict[str, str]]) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, str(SCRIPT)],
            cwd=d,
            env=e,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for d, e in zip(dirs, envs, strict=True)
    ]
    for proc in procs:
        out = proc.communicate(timeout=300)[0]
        assert proc.returncode == 0, out[-3000:]
        assert "Traceback" not in out


@pytest.mark.slow
def test_two_working_directories_at_once_each_reach_their_own_docspace(tmp_path, monkeypatch):
    from sandbox import Sandbox

    monkeypatch.delenv("DLT_DATA_DIR", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    dirs = [tmp_path / "acme", tmp_path / "globex"]
    with Sandbox() as acme, Sandbox() as globex:
        worlds = [AsanaWorld(acme).build(), AsanaWorld(globex).build()]
        envs = [_env(home, sb.environment()) for sb in (acme, globex)]
        for d in dirs:
            d.mkdir()
        _run_both(dirs, envs)
        for world in worlds:
            assert world.tree() == EXPECTED_FLAT
        for world, name in zip(worlds, ("Acme only", "Globex only"), strict=True):
            world.asana.add_task(name, [(world.ids["alpha"], world.ids["todo"])])
        _run_both(dirs, envs)
        assert set(worlds[0].tree()["Alpha"]) == {"Build", "Design", "Shared", "Acme only"}
        assert set(worlds[1].tree()["Alpha"]) == {"Build", "Design", "Shared", "Globex only"}
        for world in worlds:
            assert duplicates(world.docspace) == []
    for d in dirs:
        for name in ("asana", "asana_docspace"):
            assert (d / "data" / "dlt" / "pipelines" / name / "state.json").is_file()


# -- upgrading from dlt's default folder ---------------------------------------------------------


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> AsanaWorld:
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    return AsanaWorld(sandbox).build()


def _synced_with_old_layout(world: AsanaWorld, monkeypatch, old_data: Path) -> Path:
    """A run of the previous version: dlt's state in dlt's default folder (here `old_data`)."""
    monkeypatch.setenv("DLT_DATA_DIR", str(old_data))
    assert world.run().code == 0
    monkeypatch.delenv("DLT_DATA_DIR")
    old = old_data / "pipelines"
    monkeypatch.setattr("pm_runtime.dlt_state.legacy_pipelines_dir", lambda: old)
    return old


def test_the_first_run_after_upgrading_takes_the_old_state_over_and_recreates_nothing(
    world, workspace, monkeypatch
):
    old = _synced_with_old_layout(world, monkeypatch, workspace / "old-home-dlt")
    writes = world.writes()
    world.asana.add_task("After the upgrade", [(world.ids["beta"], world.ids["beta_s"])])
    run = world.run()
    assert run.code == 0, run.output
    moved = [line for line in run.output.splitlines() if "moved from" in line]
    assert moved == [
        f"dlt state of asana, asana_docspace moved from {old} to data/dlt/pipelines "
        "(it now lives with its staging database; see README, 'Where state lives')"
    ]
    assert world.writes() == writes + 1  # the new task's folder, nothing else
    assert (workspace / "data" / "dlt" / "pipelines" / "asana" / "state.json").is_file()
    assert not (old / "asana").exists()
    again = world.run()
    assert "moved from" not in again.output and world.writes() == writes + 1


def test_old_state_that_describes_another_staging_database_is_left_where_it_is(
    world, workspace, monkeypatch
):
    old = _synced_with_old_layout(world, monkeypatch, workspace / "old-home-dlt")
    # another working directory on the same machine, with its own (empty) staging database
    other = workspace / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    run = world.run("--plan")
    assert "moved from" not in run.output
    assert (old / "asana" / "state.json").is_file()
    assert (other / "data" / "dlt" / "pipelines" / "asana").is_dir()


# -- a crashed run's package ---------------------------------------------------------------------


def test_the_shortcut_for_no_package_left_sees_what_dlt_sees_at_every_step(workspace):
    """A re-sync reads dlt's folders instead of building a dlt pipeline (~50 ms): it must never
    say "no package" while dlt has one to normalize or load (dlt's layout could change)."""
    import dlt

    from pm_runtime.dlt_state import holds_no_package

    name = "shortcut_probe"
    assert holds_no_package(name)  # no folder yet
    pipeline = dlt.pipeline(name, destination="duckdb", pipelines_dir=pipelines_dir())
    pipeline.extract([{"id": 1}], table_name="rows")
    assert pipeline.has_pending_data and not holds_no_package(name)  # extracted
    pipeline.normalize()
    assert pipeline.has_pending_data and not holds_no_package(name)  # normalized, not loaded
    pipeline.load()
    assert not pipeline.has_pending_data and holds_no_package(name)  # loaded
