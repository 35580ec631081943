"""SIGKILL during apply at 6 points spread over the run: one more run always leaves the exact tree, no duplicates.

Two runs are killed: one made of creates, and one made of moves, renames and an
archive over folders that hold documents (file operations run in the background
there, so kills land while a move is still on its way).
"""

from __future__ import annotations

import copy
import re
import shutil

import pytest

from sandbox import DOCSPACE_API_KEY, EmulatorServer
from sandbox.docspace import DocSpaceEmulator
from sandbox.sample import populate
from tests.sigkill import (
    forget_docspace_side,
    fresh_docspace,
    kill_count,
    kill_points,
    sync_killed_after,
)
from tests.sync_world import AsanaWorld, duplicates

KILLS = kill_count(6)  # one in each sixth of the run's writes (`tests.sigkill.kill_points`)


def _tree(emulator: DocSpaceEmulator) -> dict:
    return {r.title: emulator.tree(r.id) for r in emulator.rooms("any")}


@pytest.mark.slow
def test_sigkill_at_random_points_during_apply_never_duplicates_or_loses_anything(
    workspace, staging, sandbox, monkeypatch
):
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    # the sample's archived projects too (their create-then-archive steps are kill points)
    monkeypatch.setenv("DESTINATION__DOCSPACE__ARCHIVED_PROJECTS", "mirror")
    populate(sandbox, size="small")
    world = AsanaWorld(sandbox)
    assert world.run("--extract-only").code == 0

    # the tree a run without crashes builds
    clean = fresh_docspace()
    monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", clean.root_url)
    assert world.run("--sync-only").code == 0
    expected, total_writes = _tree(clean.emulator), clean.emulator.log.writes()
    clean.stop()
    assert total_writes > 20

    resumed = 0
    for attempt, kill_after in enumerate(kill_points(7, total_writes, KILLS)):
        forget_docspace_side(workspace)
        server = fresh_docspace()
        sync_killed_after(server, kill_after)

        monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", server.root_url)
        run = world.run("--sync-only")
        assert run.code == 0, f"kill #{attempt} after {kill_after} writes: {run.output}"
        resumed += "interrupted run first" in run.output
        assert duplicates(server.emulator) == [], f"kill #{attempt} after {kill_after} writes"
        assert _tree(server.emulator) == expected, f"kill #{attempt} after {kill_after} writes"
        server.stop()
    # most kills land inside dlt's load step and leave a package that the next run finishes first
    assert resumed > 0


# -- a run made of moves, renames and an archive ---------------------------------------------


def _state_names() -> list[str]:
    from sandbox.docspace_store import DocSpaceStore

    probe = DocSpaceStore.__new__(DocSpaceStore)
    probe._init_store(0)
    return list(vars(probe))


def _snapshot(emulator: DocSpaceEmulator) -> dict:
    """The whole portal (rooms, folders, documents, users...), to start each attempt from."""
    with emulator.lock:
        return copy.deepcopy({name: getattr(emulator, name) for name in _state_names()})


def _docspace_from(state: dict, fileop_seconds: float) -> EmulatorServer:
    emulator = DocSpaceEmulator(api_key=DOCSPACE_API_KEY)
    for name, value in copy.deepcopy(state).items():
        setattr(emulator, name, value)
    emulator.fileop_seconds = fileop_seconds
    emulator.faults.latency(0.01)
    return EmulatorServer(emulator).start()


def _reorganise(asana, ids: dict[str, str]) -> None:
    """Moves (some with a new title, one swap, one next to a namesake), renames, an archive."""
    p = ids
    asana.move_task(p["t0_0"], p["p1"])
    asana.move_task(p["t0_1"], p["p2"])
    asana.move_task(p["t1_0"], p["p0"])
    asana.move_task(p["t2_1"], p["p3"])  # into the project archived in the same run
    asana.move_task(p["swap_a"], p["p1"])  # two folders titled "Review" change rooms
    asana.move_task(p["swap_b"], p["p0"])
    asana.move_task(p["build_old"], p["p2"])  # beside a newer "Build": that one is renamed
    asana.move_task(p["t3_0"], p["p0"])
    asana.rename_task(p["t0_2"], "Renamed in place")
    asana.rename_task(p["t1_1"], "Also renamed")
    asana.rename_task(p["t2_0"], "Moved and renamed")
    asana.move_task(p["t2_0"], p["p0"])
    asana.rename_project(p["p1"], "Project One (renamed)")
    asana.archive_project(p["p3"])


def _build_world(asana) -> dict[str, str]:
    ids: dict[str, str] = {}
    ws = asana.add_workspace("Acme")
    for n in range(4):
        ids[f"p{n}"] = asana.add_project(f"Project {n}", ws)
        for t in range(4):
            ids[f"t{n}_{t}"] = asana.add_task(f"Task {n}.{t}", [(ids[f"p{n}"], None)])
        asana.add_task(f"Step of {n}.0", parent=ids[f"t{n}_0"])
    ids["swap_a"] = asana.add_task("Review", [(ids["p0"], None)])
    ids["swap_b"] = asana.add_task("Review", [(ids["p1"], None)])
    ids["build_old"] = asana.add_task("Build", [(ids["p0"], None)])
    ids["build_new"] = asana.add_task("Build", [(ids["p2"], None)])
    return ids


def _folders_with_documents(emulator: DocSpaceEmulator) -> dict[int, set[str]]:
    """Every folder below a room: id -> titles of its documents."""
    out = {}
    stack = [r.id for r in emulator.rooms("any")]
    while stack:
        for child in emulator.folders(stack.pop()):
            out[child.id] = {f.title for f in emulator.files(child.id)}
            stack.append(child.id)
    return out


def _layout(emulator: DocSpaceEmulator) -> dict:
    """{room title (+ " [archived]"): nested folder and document titles}."""
    archived = {r.id for r in emulator.rooms("archive")}
    return {
        r.title + (" [archived]" if r.id in archived else ""): emulator.tree(r.id)
        for r in emulator.rooms("any")
    }


def _numbered_copies(emulator: DocSpaceEmulator) -> list[str]:
    with emulator.lock:
        # GetAvailableTitleAsync's ` (n)`; our own sibling suffix has six characters
        return [f.title for f in emulator._folders.values() if re.search(r" \(\d{1,5}\)$", f.title)]


@pytest.mark.slow
def test_sigkill_during_moves_renames_and_an_archive_keeps_every_folder_and_document(
    workspace, sandbox, monkeypatch
):
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    world = AsanaWorld(sandbox)
    ids = _build_world(world.asana)
    start = fresh_docspace()
    monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", start.root_url)
    assert world.run().code == 0
    for folder_id in _folders_with_documents(start.emulator):
        start.emulator.add_file(folder_id, f"Notes {folder_id}.docx")
    documents = _folders_with_documents(start.emulator)
    state = _snapshot(start.emulator)
    start.stop()
    _reorganise(world.asana, ids)
    assert world.run("--extract-only").code == 0
    saved = workspace.parent / f"{workspace.name}-saved"
    for part in ("data", ".dlt-data"):
        shutil.copytree(workspace / part, saved / part)

    def restore() -> None:
        for part in ("data", ".dlt-data"):
            shutil.rmtree(workspace / part, ignore_errors=True)
            shutil.copytree(saved / part, workspace / part)

    # the tree one uninterrupted run makes
    clean = _docspace_from(state, 0.1)
    monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", clean.root_url)
    run = world.run("--sync-only")
    assert run.code == 0, run.output
    expected, total_writes = _layout(clean.emulator), clean.emulator.log.writes()
    moves = clean.emulator.log.count("PUT", route="/files/fileops/move")
    clean.stop()
    assert moves >= 8 and "Project 3 [archived]" in expected
    assert _folders_with_documents(clean.emulator) == documents  # nothing lost, ids kept

    for attempt, kill_after in enumerate(kill_points(11, total_writes, KILLS)):
        restore()
        server = _docspace_from(state, 0.1)
        sync_killed_after(server, kill_after)

        monkeypatch.setenv("DESTINATION__DOCSPACE__BASE_URL", server.root_url)
        run = world.run("--sync-only")
        where = f"kill #{attempt} after {kill_after} of {total_writes} writes"
        assert run.code == 0, f"{where}: {run.output}"
        assert _layout(server.emulator) == expected, where
        assert _folders_with_documents(server.emulator) == documents, where
        assert _numbered_copies(server.emulator) == [], where
        server.stop()
