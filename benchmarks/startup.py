"""Benchmark: what a sync process costs before it does anything, and the no-op re-sync.

Every figure is a whole process (`python pipelines/asana_to_docspace.py ...`), wall time,
the median of `--repeat` runs, beside baselines measured in the same run:

- `import dlt` as installed (dlt[hub] makes it load the `dlthub` plugin) and without the
  plugin (`dlthub` hidden, `DLT_DISABLE_PLUGINS=true`): the floor any sync pays;
- `python pipelines/asana_to_docspace.py --help`: building the parser reads the source's
  `SourceSpec` and DocSpace's limits, none of which needs dlt;
- the first apply of the `docspace_apply` tree (50 projects × 40 tasks, 20 ms, 15 writes),
  the no-op re-sync after it (0 writes) and `--plan` with nothing to do, each
  `--sync-only` against the DocSpace emulator in another process.

Goals: the no-op re-sync ≤ 25% of the first apply; `--plan` with nothing to do ≤ 1.5× the
plugin-free `import dlt`; `--help` ≤ 0.5 s. The no-op runs are measured again with `PM_LEAN_START=0` (dlt as
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


def median(cmd: list[str], env: dict[str, str], cwd: str, repeat: int, **kw: object) -> float:
    return statistics.median(timed(cmd, env, cwd, **kw) for _ in range(repeat))  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from benchmarks.docspace_apply import RemoteDocSpace, stage
    from sandbox import DOCSPACE_API_KEY

    py = sys.executable
    base_env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"}
    for name in ("DLT_DISABLE_PLUGINS", "PM_DLT_PLUGINS"):
        base_env.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="startup-") as tmp:
        imp = median([py, "-c", "import dlt"], base_env, tmp, args.repeat)
        no_plugin_env = {**base_env, "DLT_DISABLE_PLUGINS": "true"}
        imp_lean = median([py, "-c", NO_PLUGIN], no_plugin_env, tmp, args.repeat)
        help_cmd = [py, str(ROOT / "pipelines" / "asana_to_docspace.py"), "--help"]
        help_s = median(help_cmd, base_env, tmp, args.repeat)

        env = {
            **base_env,
            "DLT_DATA_DIR": f"{tmp}/dlt",
            "DESTINATION__DUCKDB__CREDENTIALS": f"{tmp}/apply.duckdb",
            "RUNTIME__LOG_LEVEL": "ERROR",
        }
        os.environ.update({k: env[k] for k in ("DLT_DATA_DIR", "DESTINATION__DUCKDB__CREDENTIALS")})
        stage(args.projects, args.tasks)
        server = RemoteDocSpace()
        env["DESTINATION__DOCSPACE__BASE_URL"] = server.root_url
        env["DESTINATION__DOCSPACE__API_KEY"] = DOCSPACE_API_KEY
        sync = [py, str(ROOT / "pipelines" / "asana_to_docspace.py"), "--sync-only"]
        sync += ["--concurrency", "15"]
        try:
            first = timed(sync, env, tmp)
            noop = median(sync, env, tmp, args.repeat)
            plan = median([*sync, "--plan"], env, tmp, args.repeat)
            full_env = {**env, "PM_LEAN_START": "0"}  # as before: dlt as installed, pandas
            noop_full = median(sync, full_env, tmp, args.repeat)
            plan_full = median([*sync, "--plan"], full_env, tmp, args.repeat)
            which = (
                subprocess.run(
                    [py, "-c", WHICH_IMPORTS, *sync[1:], "--plan"],
                    env=env,
                    cwd=tmp,
                    capture_output=True,
                    text=True,
                )
                .stdout.strip()
                .splitlines()
            )
        finally:
            stats = server.stop()

    share = noop / first
    share_full = noop_full / first
    vs_import = plan / imp_lean
    print(f"\nstart-up, whole processes, median of {args.repeat} (seconds)")
    print(f"  {'import dlt (as installed: dlthub plugin)':52}{imp:>8.2f}")
    print(f"  {'import dlt without the plugin (baseline)':52}{imp_lean:>8.2f}")
    print(f"  {'pipelines/asana_to_docspace.py --help':52}{help_s:>8.2f}")
    label = f"first apply, {args.projects} × {args.tasks} ({stats['writes']} writes)"
    print(f"  {label:52}{first:>8.2f}")
    print(f"  {'no-op re-sync (0 writes)':52}{noop:>8.2f}")
    print(f"  {'--plan, nothing to do':52}{plan:>8.2f}")
    print(f"  {'no-op re-sync, PM_LEAN_START=0 (plugin, pandas)':52}{noop_full:>8.2f}")
    print(f"  {'--plan, nothing to do, PM_LEAN_START=0':52}{plan_full:>8.2f}")
    print(f"  no-op --plan {which[-1] if which else '(no output)'}")
    print(
        f"  no-op re-sync / first apply = {share:5.1%}  (≤ {MAX_NOOP_SHARE:.0%}) "
        f"{'PASS' if share <= MAX_NOOP_SHARE else 'FAIL'}   (PM_LEAN_START=0: {share_full:.1%})"
    )
    print(
        f"  --plan nothing to do / import dlt without plugin = {vs_import:4.2f}×  "
        f"(≤ {MAX_PLAN_VS_IMPORT}×) {'PASS' if vs_import <= MAX_PLAN_VS_IMPORT else 'FAIL'}"
        f"   (PM_LEAN_START=0: {plan_full / imp_lean:.2f}×)"
    )
    print(
        f"  --help = {help_s:4.2f} s  (≤ {MAX_HELP_SECONDS} s) "
        f"{'PASS' if help_s <= MAX_HELP_SECONDS else 'FAIL'}   ({help_s / imp_lean:.2f}× import dlt)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
