"""Documents follow their tasks (issue 20): Asana attachments copied into the task's folder,
exactly once, over real HTTP against the sandbox (the real command line, in-process)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from sandbox.faults import FaultRule
from tests.staged import staged_rows
from tests.sync_world import AsanaWorld

MIB = 1024 * 1024


class DocumentWorld(AsanaWorld):
    """The sync world with attachments: uploads, a link, a large file, a same-named pair."""

    def attach(self, task: str, name: str, size: int) -> str:
        gid = self.asana.add_file_attachment(self.ids[task], name, size)
        self.ids[name] = gid
        return gid

    def build(self) -> DocumentWorld:
        super().build()
        self.attach("design", "spec.pdf", 20_000)
        self.attach("design", "Big Drawing.PNG", 23 * MIB)  # three chunks
        self.attach("build", "notes.txt", 0)  # empty: one empty chunk
        self.attach("shared", "plan.xlsx", 5_000)  # in two projects: two folders
        self.asana.add_link_attachment(self.ids["build"], "Roadmap", "https://docs.google.com/d/1")
        return self

    def folder(self, room: str, *path: str) -> Any:
        folder = self.docspace.find_room(room)
        for title in path:
            folder = next(f for f in self.docspace.folders(folder.id) if f.title == title)
        return folder

    def files(self, room: str, *path: str) -> dict[str, str]:
        """{title: sha256 of the current content} of the files in a folder."""
        folder = self.folder(room, *path)
        return {
            f.title: hashlib.sha256(self.docspace.file_content(f)).hexdigest()
            for f in self.docspace.files(folder.id)
        }

    def sha(self, name: str) -> str:
        return self.asana.attachment_sha256(self.ids[name])

    def all_files(self) -> list[Any]:
        out = []
        for room in self.docspace.rooms("any"):
            stack = [room.id]
            while stack:
                fid = stack.pop()
                out += self.docspace.files(fid)
                stack += [f.id for f in self.docspace.folders(fid)]
        return out

    def downloads(self) -> int:
        return self.sb.asana.log.count("GET", "/s3/*") + self.sb.asana.log.count(
            "GET", "/attachments/*"
        )


def copying_world(sandbox, monkeypatch) -> DocumentWorld:
    """The sample tasks and attachments, the pipelines pointed at `sandbox`, copying on."""
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DESTINATION__DOCSPACE__ATTACHMENTS", "copy")
    monkeypatch.setenv("DESTINATION__DOCSPACE__ATTACHMENT_MAX_MB", "30")
    return DocumentWorld(sandbox).build()


@pytest.fixture
def world(workspace, sandbox, monkeypatch) -> DocumentWorld:
    return copying_world(sandbox, monkeypatch)


def test_every_uploaded_attachment_is_in_its_task_folder_with_equal_content(world):
    run = world.run()
    assert run.code == 0, run.output
    assert world.files("Alpha", "Design") == {
        "spec.pdf": world.sha("spec.pdf"),
        "Big Drawing.png": world.sha("Big Drawing.PNG"),
    }
    assert world.files("Alpha", "Build") == {"notes.txt": world.sha("notes.txt")}
    # a task in two projects: its file is in both rooms' folders
    assert world.files("Alpha", "Shared") == {"plan.xlsx": world.sha("plan.xlsx")}
    assert world.files("Beta", "Shared") == {"plan.xlsx": world.sha("plan.xlsx")}
    assert "uploaded" in run.output


def test_a_link_attachment_is_not_copied_and_the_plan_says_why(world):
    plan = world.run("--plan", "-v")
    assert plan.code == 2, plan.output
    assert "'Roadmap'" in plan.output and "skipped (external link)" in plan.output
    run = world.run()
    assert "not copied       1  (attachments: 1 external link" in run.output
    assert "Roadmap" not in world.files("Alpha", "Build")


def test_an_attachment_over_the_limit_is_skipped_with_its_size(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__ATTACHMENT_MAX_MB", "10")
    plan = world.run("--plan", "-v")
    assert "skipped (23.0 MB > limit of 10 MB)" in plan.output
    assert world.run().code == 0
    assert set(world.files("Alpha", "Design")) == {"spec.pdf"}


def test_the_plan_groups_uploads_with_their_count_and_bytes(world):
    plan = world.run("--plan")
    total = 20_000 + 23 * MIB + 0 + 2 * 5_000
    assert "upload" in plan.output and " 5  (" in plan.output, plan.output
    assert f"{total / MIB:.1f} MB into 4 folder(s)" in plan.output
    assert world.writes() == 0


def test_a_rerun_makes_no_writes_and_no_downloads(world):
    assert world.run().code == 0
    writes = world.writes()
    assert world.downloads() > 0
    world.sb.asana.log.clear()
    again = world.run()
    assert again.code == 0, again.output
    assert world.writes() == writes
    assert world.downloads() == 0
    assert world.run("--plan").code == 0


def test_writes_per_file_are_the_minimum_the_session_allows(world):
    assert world.run().code == 0
    uploads = world.sb.docspace.log
    # 4 small files: session + one chunk; the 23 MiB file: session + 3 chunks + finalize
    assert uploads.count("POST", "/files/*/session") == 5
    assert uploads.count("POST", "/files/*/session/*/upload") == 4 + 3
    assert uploads.count("PUT", "/files/*/session/*/finalize") == 1


def test_same_named_attachments_on_one_task_get_distinct_stable_titles(world):
    first = world.attach("build", "Minutes.pdf", 100)
    second = world.attach("build", "minutes.PDF", 200)
    assert world.run().code == 0
    files = world.docspace.files(world.folder("Alpha", "Build").id)
    sizes = {f.title: f.size for f in files}
    assert sizes["Minutes.pdf"] == 100 and sizes["minutes (2).pdf"] == 200
    assert first < second
    world.run()
    assert len(world.docspace.files(world.folder("Alpha", "Build").id)) == len(files)


def test_a_file_a_person_put_there_first_is_never_changed(world):
    assert world.run().code == 0
    folder = world.folder("Alpha", "Build")
    theirs = world.docspace.add_file(
        folder.id, "report.pdf", b"their own", author="ann@example.com"
    )
    world.attach("build", "report.pdf", 300)
    assert world.run().code == 0
    assert world.docspace.file_versions(theirs) == [1]
    assert world.docspace.file_content(theirs) == b"their own"
    titles = {f.title for f in world.docspace.files(folder.id)}
    assert {"report.pdf", "report (2).pdf"} <= titles
    assert world.files("Alpha", "Build")["report (2).pdf"] == world.sha("report.pdf")


def test_a_deleted_attachment_leaves_its_file_orphaned_in_the_ledger(world):
    assert world.run().code == 0
    world.asana.remove_attachment(world.ids["spec.pdf"])
    assert world.run().code == 0
    assert "spec.pdf" in world.files("Alpha", "Design")
    rows = staged_rows(
        "SELECT status FROM docspace_state.ledger WHERE key LIKE ?",
        [f"asana:file:{world.ids['spec.pdf']}@%"],
    )
    assert rows == [("orphaned",)]


def test_a_moved_task_takes_its_files_along(world):
    assert world.run().code == 0
    world.asana.move_task(world.ids["design"], world.ids["beta"], world.ids["beta_s"])
    run = world.run()
    assert run.code == 0, run.output
    assert set(world.files("Beta", "Design")) == {"spec.pdf", "Big Drawing.png"}
    writes = world.writes()
    assert world.run().code == 0
    assert world.writes() == writes  # nothing uploaded again after the move


def test_lost_replies_and_server_errors_on_uploads_leave_no_duplicate_and_no_partial_file(
    world,
):
    for n in range(6):
        world.attach("ship", f"doc{n}.bin", 3_000 + n)
    world.attach("ship", "large.bin", 12 * MIB)
    faults = world.docspace.faults
    faults.add(FaultRule(route="POST /files/*/session*", lost_response_rate=0.15))
    faults.add(FaultRule(route="PUT /files/*/session*", lost_response_rate=0.15))
    faults.add(FaultRule(route="POST /files/*/session*", error_rate=0.10))
    log = world.sb.docspace.log
    # the faults are drawn at random: run until both kinds struck (three runs, most times)
    for _ in range(12):
        world.run()
        if log.count(route="/files/*/session*", outcome="lost") and log.count(
            route="/files/*/session*", outcome="fault"
        ):
            break
    faults.clear()
    assert log.count(route="/files/*/session*", outcome="lost") > 0
    assert log.count(route="/files/*/session*", outcome="fault") > 0
    run = world.run()
    assert run.code == 0, run.output
    names = [f.title for f in world.all_files()]
    assert len(names) == len(set(names)) + 1  # plan.xlsx is in two rooms
    expected = {f"doc{n}.bin": world.sha(f"doc{n}.bin") for n in range(6)}
    expected["large.bin"] = world.sha("large.bin")
    assert world.files("Beta", "Ship") == expected
    for f in world.all_files():
        assert world.docspace.file_versions(f) == [1], f.title


def _count(output: str, outcome: str) -> int:
    import re

    found = re.search(rf"^\s+{outcome}\s+(\d+)", output, flags=re.M)
    return int(found.group(1)) if found else 0


def test_max_writes_defers_uploads_and_counts_every_upload_request(world):
    uploads_done = []
    for _ in range(20):
        before = world.writes()
        run = world.run("--max-writes", "5")
        assert run.code == 0, run.output
        assert _count(run.output, "failed") == 0, run.output
        assert world.writes() - before <= 5  # sessions and chunks count like any write
        uploads_done.append(_count(run.output, "uploaded"))
        if _count(run.output, "deferred") == 0:
            break
    else:
        pytest.fail("20 runs of --max-writes 5 did not copy every document")
    assert sum(uploads_done) == 5
    assert world.files("Alpha", "Design") == {
        "spec.pdf": world.sha("spec.pdf"),
        "Big Drawing.png": world.sha("Big Drawing.PNG"),
    }


def test_a_file_needing_more_writes_than_max_writes_allows_fails_saying_what_it_needs(world):
    # the 23 MiB drawing needs a session, 3 chunks and a finalize: 5 writes, never 4
    for _ in range(20):
        run = world.run("--max-writes", "4")
        if _count(run.output, "deferred") == 0:
            break
    else:
        pytest.fail(f"20 runs of --max-writes 4 did not get through:\n{run.output}")
    assert run.code == 1
    assert "needs 5 DocSpace writes (a 23.0 MB file in chunks)" in run.output
    assert "more than --max-writes 4 allows in one run" in run.output
    assert set(world.files("Alpha", "Design")) == {"spec.pdf"}  # the others were copied
    assert world.run().code == 0
    assert set(world.files("Alpha", "Design")) == {"spec.pdf", "Big Drawing.png"}


def test_the_daily_limit_defers_uploads_and_a_later_run_finishes_them(world):
    world.docspace.limits.writes_per_day = 12  # rooms and folders, then the limit mid-uploads
    run = world.run()
    assert run.code == 3, run.output
    assert "daily write limit reached" in run.output
    assert _count(run.output, "failed") == 0
    world.docspace.reset_limits()
    world.docspace.limits.writes_per_day = None
    last = world.run()
    assert last.code == 0, last.output
    assert set(world.files("Alpha", "Design")) == {"spec.pdf", "Big Drawing.png"}
    assert len(world.all_files()) == 5


def test_a_download_that_breaks_off_uploads_nothing_and_the_next_run_copies_it(world):
    world.asana.files.cut_at = 1000  # every download stops after 1000 bytes
    run = world.run()
    assert run.code == 1
    assert "FAILED" in run.output and "spec.pdf" in run.output and "broke off" in run.output
    # nothing half-downloaded reached DocSpace (the empty notes.txt needs no bytes)
    assert [f.title for f in world.all_files()] == ["notes.txt"]
    assert world.sb.docspace.log.count("POST", "/files/*/session") == 1
    world.asana.files.cut_at = None
    assert world.run().code == 0
    assert world.files("Alpha", "Design")["spec.pdf"] == world.sha("spec.pdf")


def test_the_tools_own_docspace_links_on_tasks_are_not_attachments_to_copy(world, monkeypatch):
    monkeypatch.setenv("DESTINATION__DOCSPACE__WRITE_BACK", "true")
    monkeypatch.setenv("DESTINATION__DOCSPACE__WRITE_BACK_TASKS", "true")
    assert world.run().code == 0  # puts "DocSpace room" / "DocSpace folder" links on Asana
    plan = world.run("--plan", "-v")  # stages them as attachments of the tasks
    assert plan.code == 0, plan.output
    assert "DocSpace folder" not in plan.output and "DocSpace room" not in plan.output
    assert "skip file                 1" in plan.output  # only the Roadmap link
    staged = staged_rows("SELECT count(*) FROM asana_data.attachments WHERE name LIKE 'DocSpace %'")
    assert staged[0][0] > 0  # the links are there, staged like any attachment
