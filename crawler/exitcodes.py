"""Exit codes of the ``citecrawl`` command, one place for the CLI and the README.

Failed URLs are verdicts, not errors: a run that completed exits ``OK`` even when
every source is gone. Cron jobs can act on the rest.
"""

from __future__ import annotations

OK = 0                 # the command completed
INTERNAL = 1           # a bug or an environment failure (disk full, permission); see the log
USAGE = 2              # bad arguments or configuration; nothing was done
ATTENTION = 3          # ``run``: completed, and something needs a person (sources newly gone or changed)
INTERRUPTED = 130      # Ctrl-C / SIGTERM: stopped cleanly, complete records kept, partial report written
LOCKED = 75            # ``run``: another run holds the collection lock (EX_TEMPFAIL; cron retries later)
VERIFY_FAILED = 4      # ``verify``: at least one WARC or index fault

__all__ = ["ATTENTION", "INTERNAL", "INTERRUPTED", "LOCKED", "OK", "USAGE", "VERIFY_FAILED"]
