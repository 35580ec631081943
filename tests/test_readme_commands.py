"""The commands README's "What lands in DuckDB" lists work as printed after real runs of both pipelines.

Real runs here: `pipelines/asana_to_docspace.py` and `trello_to_docspace.py` in a fresh copy of
the project, pointed at the emulators by environment variables (as a user's exports would be),
writing the default data/pm.duckdb. Then each command from that README section is pasted into a
shell as it is written there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.demo_clone import DEMO_GROUP, ROOT, clone_project, dashboard, run_as_printed

pytestmark = pytest.mark.xdist_group(DEMO_GROUP)  # `project` made once; dashboards one at a time

SECTION = "## What lands in DuckDB"


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n## ", len(SECTION))]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    from sandbox import Sandbox
    from sandbox.sample import populate

    root = clone_project(tmp_path_factory.mktemp("clone") / "project")
    with Sandbox() as sb:
        populate(sb, size="small")
        env = sb.environment()  # no DLT_DATA_DIR: dlt's state goes where README says, data/dlt
        for script in ("asana_to_docspace.py", "trello_to_docspace.py"):
            done = run_as_printed(root, f".venv/bin/python pipelines/{script}", env, timeout=300)
            assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "data" / "dlt" / "pipelines" / "asana" / "state.json").is_file()
    return root, {}


def test_the_section_lists_queries_the_dashboard_and_dlt_commands() -> None:
    commands = readme_commands()
    assert sum("pm_runtime.query" in c for c in commands) == 4
    assert any(c.startswith("make show PIPELINE=asana") for c in commands)
    assert sum(" dlt pipeline " in c for c in commands) == 4


def test_every_listed_command_except_the_dashboard_works(project) -> None:
    root, env = project
    for command in readme_commands():
        if _is_dashboard(command):
            continue
        done = run_as_printed(root, command, env)
        assert done.returncode == 0, f"{command}\n{done.stdout}{done.stderr}"
        assert done.stdout.strip(), command


def _is_dashboard(command: str) -> bool:
    return "show" in command.split("#")[0].split()


def test_both_listed_dashboard_commands_serve_the_dashboard(project) -> None:
    root, env = project
    shows = [c for c in readme_commands() if _is_dashboard(c)]
    assert len(shows) == 2
    for show in shows:
        with dashboard(root, show, env) as url:
            assert requests.get(url, timeout=10).status_code == 200


def test_the_dashboard_command_leads_dlt_to_data_pm_duckdb(project) -> None:
    # what the dashboard's "Load row counts" runs, in a process started as README's `show` line
    # starts dlt (its environment, from the project directory)
    root, env = project
    (by_hand,) = [c for c in readme_commands() if _is_dashboard(c) and " dlt " in c]
    probe = (
        "import dlt; from dlt._workspace.helpers.dashboard.utils import queries; "
        "print(queries.get_row_counts(dlt.attach('asana'))['tasks'])"
    )
    command = by_hand.split(" dlt pipeline ")[0] + f' .venv/bin/python -c "{probe}"'
    done = run_as_printed(root, command, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.strip()) > 0
    assert not (root / "asana.duckdb").exists()  # not dlt's default file beside the pipeline
