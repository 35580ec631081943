"""`--sandbox` demos start data/sandbox afresh, so a second one beside the first must not."""

from __future__ import annotations

import pytest

from pipelines.flags import SANDBOX_DIR
from pm_runtime.sync_lock import file_sync_lock
from sandbox.demo import DemoRunning, embedded_sandbox


def test_a_second_demo_beside_the_first_stops_and_leaves_its_state_alone(workspace):
    loaded = SANDBOX_DIR / "pm.duckdb"
    loaded.parent.mkdir(parents=True)
    loaded.write_bytes(b"the first demo's staging")
    with (
        file_sync_lock(SANDBOX_DIR, "demo"),  # as the first demo holds it
        pytest.raises(DemoRunning, match="another --sandbox demo is running"),
        embedded_sandbox(),
    ):
        pytest.fail("the second demo started")
    assert loaded.read_bytes() == b"the first demo's staging"
