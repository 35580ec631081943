"""`--watch`: keep DocSpace within seconds of the source, unattended, until SIGTERM/SIGINT.

The whole subsystem, one module a job:

- `process`: the entry (`watch(source, args)`): settings, budgets, the one-watcher lock,
  signals and exit codes;
- `loop`: one cycle — look cheaply, and extract, plan and apply only when something moved;
- `steps`: the extract and the sync a cycle runs (those of a one-off run, interruptible);
- `settings`: `[watch]`, a dlt configspec;
- `budget`: a share of an API's quota over a sliding window;
- `credentials`: notice an edited secrets file;
- `pidlock`: one watcher per pipeline;
- `load_packages`: prune dlt's finished load packages.

The change detector is the source's (`SourceSpec.change_detector`, on the protocol
`pm_runtime.changes`). `watch` is imported from `pipelines.watch.process` by whoever starts a
watcher, so that importing this package for its settings starts nothing.
"""
