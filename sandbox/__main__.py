"""`python -m sandbox serve [--seed N] [--sample small|demo|none]`: serve the three emulators.

`python -m sandbox demo asana|trello [flags]`: the pipeline's command line with those flags,
against embedded emulators with sample data (what `--sandbox` of the pipelines runs).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["demo"]:  # its flags are the pipeline's own: parsed by the pipeline's parser
        from sandbox.demo import main as demo

        return demo(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser(
        "serve", help="serve Asana, Trello and DocSpace emulators until interrupted"
    )
    serve.add_argument("--seed", type=int, default=0, help="seed of the sample data (default 0)")
    serve.add_argument(
        "--sample",
        choices=["none", "small", "demo"],
        default="demo",
        help="sample data to load (default demo)",
    )
    sub.add_parser(
        "demo",
        help="run `pipelines/<source>_to_docspace.py <flags>` against embedded emulators "
        "with sample data: demo asana|trello [flags]",
    )
    args = parser.parse_args(argv)

    from sandbox import Sandbox
    from sandbox.sample import populate

    sb = Sandbox(seed=args.seed).start()
    if args.sample != "none":
        populate(sb, size=args.sample, seed=args.seed)
    for s in sb.services:
        creds = " ".join(f"{k}={v}" for k, v in s.credentials.items())
        print(f"{s.emulator.service:9} {s.base_url}  {creds}", flush=True)
    print("\n# point the pipelines here:", flush=True)
    for k, v in sb.environment().items():
        print(f"export {k}={v}", flush=True)
    print("\nserving; Ctrl-C to stop", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    sb.stop()
    return 0


def guarded_main(argv: list[str] | None = None) -> int:
    """`main`, with any failure (a port in use...) as one `error:` line; `-vv` shows the traceback."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        return main(argv)
    except Exception as exc:
        if "-vv" in argv:
            raise
        from pm_runtime.failures import describe_failure

        print(f"error: {describe_failure(exc)}")
        return 1


if __name__ == "__main__":
    from pm_runtime.lean_start import lean_exit

    lean_exit(guarded_main())  # as the entry scripts end: without the last collections
