"""`python -m sandbox demo <source> [flags]` is the demo with or without `--sandbox`."""

from __future__ import annotations

from tests.demo_clone import clone_project, run_as_printed


def test_the_demo_command_plans_against_its_own_emulators_without_the_sandbox_flag(
    tmp_path,
) -> None:
    # it once checked the settings before its emulators were up: "Missing DocSpace portal URL"
    root = clone_project(tmp_path / "project")
    done = run_as_printed(root, ".venv/bin/python -m sandbox demo asana --plan", timeout=300)
    assert "error" not in done.stdout, done.stdout
    assert done.returncode == 2, done.stdout + done.stderr  # a first run: changes to make
    assert "Plan for asana" in done.stdout
