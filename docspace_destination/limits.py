"""DocSpace's write limits and the defaults a run keeps under them, as plain numbers.

A leaf that imports nothing: the command line's `--help` shows these without loading dlt or
the engine. `config.DocSpaceConfiguration` declares them as the keys' defaults; `apply` checks
the concurrency against `MAX_CONCURRENCY`; `listing` pages by `PAGE_SIZE`.
"""

MAX_CONCURRENCY = 15  # DocSpace rejects a 16th concurrent write per user
DEFAULT_CONCURRENCY = 8  # destination.docspace.concurrency; --concurrency wins
DEFAULT_MAX_WRITES = 9000  # destination.docspace.max_writes; DocSpace allows 10,000 writes a day
PAGE_SIZE = 100  # rooms or entries per listing page (`count`; the portal may cap it lower)
