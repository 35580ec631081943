"""A real browser on `dlt pipeline asana show`: "Load row counts" shows the demo's task count.

Headless Chromium from the system (`apt-get install chromium`, /usr/bin/chromium), driven by
Playwright; no browser download. Skipped, with the reason, where Chromium is missing; CI
(.ci/run) installs it first. A screenshot of the row counts is saved under
data/test-artifacts/ and its path printed.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.demo_clone import DEMO_GROUP, ROOT, Demo, dashboard

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", ROOT / "data" / "test-artifacts"))
SCREENSHOT = ARTIFACTS / "dashboard-row-counts.png"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# marimo's first render can take a while on a busy machine; a flake costs more than a slow pass
PAGE_TIMEOUT_MS = 180_000
COUNTS_WAIT_S = 60

pytestmark = [
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"no Chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run does)",
    ),
    pytest.mark.xdist_group(DEMO_GROUP),  # `demo`: conftest's, shared
]


def _cells_of_row(page, name: str) -> list[str]:
    """The texts of the table-list row whose name cell is `name` (empty when not rendered)."""
    row = page.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
    try:
        cells = row.first.get_by_role("cell")
        return [cells.nth(i).inner_text(timeout=5_000).strip() for i in range(cells.count())]
    except Exception:  # re-rendered while reading: try again
        return []


def test_load_row_counts_in_the_dashboard_shows_the_task_count(demo: Demo) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    tasks = str(demo.loaded()["tasks"])
    (show,) = [s for s in demo.next_steps() if s.startswith("make show")]
    with dashboard(demo.root, show) as url, playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1300})
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            page.goto(url, timeout=PAGE_TIMEOUT_MS)
            page.get_by_role("cell", name="tasks", exact=True).first.wait_for()
            counts: list[str] = []
            # the button's value lives for one run of its cell; a re-run racing the first click
            # shows the list without counts, so click again until the counts stay
            for _ in range(5):
                page.get_by_role("button", name="Load row counts").click()
                deadline = time.monotonic() + COUNTS_WAIT_S
                while tasks not in counts and time.monotonic() < deadline:
                    time.sleep(0.5)
                    counts = _cells_of_row(page, "tasks")
                time.sleep(2)
                counts = _cells_of_row(page, "tasks")
                if tasks in counts:
                    break
            assert tasks in counts, f"tasks row shows {counts}, expected {tasks} rows"
            assert page.get_by_role("columnheader", name="row_count").count() >= 1
            page.get_by_text("Dataset: Browse Data and State").first.evaluate(
                "element => element.scrollIntoView({block: 'start'})"
            )
            time.sleep(0.5)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    print(f"\ndashboard screenshot: {SCREENSHOT}")
    assert SCREENSHOT.stat().st_size > 10_000
    shutil.copy(SCREENSHOT, demo.root / "data" / SCREENSHOT.name)  # beside the demo's data too
