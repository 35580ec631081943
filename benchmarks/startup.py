"""Benchmark: what a sync process costs before it does anything, and the no-op re-sync.

Every figure is a whole process (`python pipelines/asana_to_docspace.py ...`), wall time,
the median of `--repeat` runs, beside baselines measured in the same run:

- `import dlt` as installed (dlt[hub] makes it load the `dlthub` plugin) and without the
  plugin (`dlthub` hidden, `DLT_DISABLE_PLUGINS=true`): the floor any sync pays;
- `python pipelines/asana_to_docspace.py --help`: building the parser reads the source's
  `SourceSpec` and DocSpace's limits, none of which needs dlt;
- the first apply of the `docspace_apply` tree (50 projects × 40 tasks, 20 ms, 15 writes),
  `--repeat` times, each of a fresh tree to a fresh portal (the median shown), the no-op
  re-sync after the last (0 writes) and `--plan` with nothing to do, each `--sync-only`
  against the DocSpace emulator in another process;
- `--sync-only --plan` with nothing to do on the demo (`make demo`'s sample and settings:
  templates, members, documents copied), after one full run of the demo.

The repeated figures are taken in turn (baseline, ours, baseline, ours ...), so that a machine
busy with something else slows each of them alike and the ratios stay comparable.

Goals: the no-op re-sync ≤ 25% of the first apply; `--plan` with nothing to do on the demo
≤ 1.5× the plugin-free `import dlt` (issue 21; also shown on the bigger 50 × 40 tree); `--help` ≤ 0.5 s. The no-op runs are measured again with `PM_LEAN_START=0` (dlt as
installed, pandas loaded: how a sync started before `pm_runtime.lean_start`). Also prints which of dlthub, pandas, pyarrow, ibis, numpy the
no-op `--plan` process imported.

    python -m benchmarks.startup [--projects 50] [--tasks 40] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_NOOP_SHARE = 0.25
MAX_PLAN_VS_IMPORT = 1.5
MAX_HELP_SECONDS = 0.5
HEAVY = ("dlthub", "pandas", "pyarrow", "ibis", "numpy")
NO_PLUGIN = "import sys; sys.modules['dlthub'] = None; import dlt"
# runs the command line as `python pipelines/asana_to_docspace.py` does, then lists heavy imports
WHICH_IMPORTS = (
    "import runpy, sys; sys.argv = sys.argv[1:]\n"
    "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
    "except SystemExit as e:\n    code = e.code\n"
    f"print('imported:', sorted({{m.split('.')[0] for m, v in sys.modules.items() if v}} & {set(HEAVY)!r}))"
)


def timed(cmd: list[str], env: dict[str, str], cwd: str, ok: tuple[int, ...] = (0,)) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if out.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} exited {out.returncode}:\n{out.stderr[-2000:]}")
    return seconds


Run = tuple[list[str], dict[str, str]]


def interleaved(runs: dict[str, Run], cwd: str, repeat: int) -> dict[str, float]:
    """The median seconds of each run, the runs taken in turn `repeat` times."""
    seconds: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeat):
        for label, (cmd, env) in runs.items():
            seconds[label].append(timed(cmd, env, cwd))
    return {label: statistics.median(s) for label, s in seconds.items()}


def imported_by(cmd: Sequence[str], env: dict[str, str], cwd: str) -> str:
    lines = subprocess.run(
        [cmd[0], "-c", WHICH_IMPORTS, *cmd[1:]], env=env, cwd=cwd, capture_output=True, text=True
    ).stdout.splitlines()
    return lines[-1] if lines else "(no output)"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from benchmarks.docspace_apply import RemoteDocSpace, stage
    from sandbox import DOCSPACE_API_KEY, Sandbox
    from sandbox.demo import demo_environment
    from sandbox.sample import populate

    py = sys.executable
    script = str(ROOT / "pipelines" / "asana_to_docspace.py")
    base_env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"}
    for name in ("DLT_DISABLE_PLUGINS", "PM_DLT_PLUGINS"):
        base_env.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp, Sandbox() as sandbox:
        sync = [py, script, "--sync-only", "--concurrency", "15"]
        # the first apply `--repeat` times, each of a fresh tree to a fresh portal (its median
        # is the share's denominator); the no-op runs use the last tree
        firsts, server = [], None
        for attempt in range(args.repeat):
            if server is not None:
                server.stop()
            env = {
                **base_env,
                "DLT_DATA_DIR": f"{tmp}/dlt-{attempt}",
                "DESTINATION__DUCKDB__CREDENTIALS": f"{tmp}/apply-{attempt}.duckdb",
                "RUNTIME__LOG_LEVEL": "ERROR",
            }
            staged = ("DLT_DATA_DIR", "DESTINATION__DUCKDB__CREDENTIALS")
            os.environ.update({k: env[k] for k in staged})
            stage(args.projects, args.tasks)
            server = RemoteDocSpace()
            env["DESTINATION__DOCSPACE__BASE_URL"] = server.root_url
            env["DESTINATION__DOCSPACE__API_KEY"] = DOCSPACE_API_KEY
            firsts.append(timed(sync, env, tmp))
        first = statistics.median(firsts)
        full_env = {**env, "PM_LEAN_START": "0"}  # as before: dlt as installed, pandas
        populate(sandbox, size="demo")
        demo_env = {**base_env, **demo_environment(sandbox, Path(tmp) / "demo")}
        demo_env["RUNTIME__LOG_LEVEL"] = "ERROR"
        demo_plan = [py, script, "--sync-only", "--plan"]
        try:
            timed([py, script], demo_env, tmp)  # the demo's run: extract, sync, documents
            t = interleaved(
                {
                    "import dlt": ([py, "-c", "import dlt"], base_env),
                    "import dlt, no plugin": (
                        [py, "-c", NO_PLUGIN],
                        {**base_env, "DLT_DISABLE_PLUGINS": "true"},
                    ),
                    "--help": ([py, script, "--help"], base_env),
                    "no-op": (sync, env),
                    "plan": ([*sync, "--plan"], env),
                    "demo plan": (demo_plan, demo_env),
                    "no-op, full": (sync, full_env),
                    "plan, full": ([*sync, "--plan"], full_env),
                    "demo plan, full": (demo_plan, {**demo_env, "PM_LEAN_START": "0"}),
                },
                tmp,
                args.repeat,
            )
            which = imported_by([*sync, "--plan"], env, tmp)
        finally:
            stats = server.stop()

    floor = t["import dlt, no plugin"]
    share, share_full = t["no-op"] / first, t["no-op, full"] / first
    print(f"\nstart-up, whole processes, median of {args.repeat} taken in turn (seconds)")
    rows = [
        ("import dlt (as installed: dlthub plugin)", t["import dlt"]),
        ("import dlt without the plugin (baseline)", floor),
        ("pipelines/asana_to_docspace.py --help", t["--help"]),
        (f"first apply, {args.projects} × {args.tasks} ({stats['writes']} writes)", first),
        ("  (each first apply)", *sorted(firsts)),
        ("no-op re-sync (0 writes)", t["no-op"]),
        ("--plan, nothing to do", t["plan"]),
        ("--plan, nothing to do, on the demo", t["demo plan"]),
        ("no-op re-sync, PM_LEAN_START=0 (plugin, pandas)", t["no-op, full"]),
        ("--plan, nothing to do, PM_LEAN_START=0", t["plan, full"]),
        ("--plan on the demo, PM_LEAN_START=0", t["demo plan, full"]),
    ]
    for label, *seconds in rows:
        print(f"  {label:52}" + "".join(f"{s:>8.2f}" for s in seconds))
    print(f"  no-op --plan {which}")
    print(
        f"  no-op re-sync / first apply = {share:5.1%}  (≤ {MAX_NOOP_SHARE:.0%}) "
        f"{verdict(share <= MAX_NOOP_SHARE)}   (PM_LEAN_START=0: {share_full:.1%})"
    )
    demo = t["demo plan"] / floor
    print(
        f"  --plan nothing to do on the demo / import dlt without plugin = {demo:4.2f}×  "
        f"(≤ {MAX_PLAN_VS_IMPORT}×) {verdict(demo <= MAX_PLAN_VS_IMPORT)}"
        f"   (PM_LEAN_START=0: {t['demo plan, full'] / floor:.2f}×)"
    )
    tree = t["plan"] / floor
    print(
        f"  --plan nothing to do, {args.projects} × {args.tasks} / import dlt without plugin = "
        f"{tree:4.2f}×  (≤ {MAX_PLAN_VS_IMPORT}×) {verdict(tree <= MAX_PLAN_VS_IMPORT)}"
        f"   (PM_LEAN_START=0: {t['plan, full'] / floor:.2f}×)"
    )
    help_s = t["--help"]
    print(
        f"  --help = {help_s:4.2f} s  (≤ {MAX_HELP_SECONDS} s) "
        f"{verdict(help_s <= MAX_HELP_SECONDS)}   ({help_s / floor:.2f}× import dlt)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
