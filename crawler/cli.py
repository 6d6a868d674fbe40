"""The ``citecrawl`` command line: one sub-command per module in :mod:`crawler.commands`.

Each command module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``; this module builds the parser, turns our own errors into
one line on stderr and the exit codes of :mod:`crawler.exitcodes`, and nothing
else.

Every invocation (``--help``, ``--version`` and ``status`` from cron included) builds the
parser of every command, so a command module's top level imports only what ``add_arguments``
needs; what its work needs (trio, httpx, selectolax, warcio, rich, the pipeline) is imported
inside ``run()``. That keeps start-up near 50 ms of CPU instead of 0.5 s;
tests/test_startup.py fails when a heavy import creeps back.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from crawler import __version__, exitcodes
from crawler.errors import CitecrawlError, ConfigError, RunLocked, UsageError, storage_failure

__all__ = ["build_parser", "entry", "main"]

#: sub-commands in the order ``--help`` lists them
COMMANDS: tuple[str, ...] = ("archive", "run", "status", "scan", "extract", "compare", "index", "verify")

DESCRIPTION = """\
Keep the sources of a news corpus alive: collect every URL the stored article
snapshots cite, fetch them politely, archive them as WARC files, re-extract the
article text and report whether each source still says what the snapshot says.
"""

EPILOG = """\
examples:
  citecrawl archive                               the corpus of config/citecrawl.toml, into ./collection
  citecrawl archive corpus/ --out /srv/coll       a folder of snapshots, into a collection
  citecrawl archive https://example.com/a         single URLs
  citecrawl run --config /etc/citecrawl.toml      the nightly job: only what is due (cron, systemd)
  citecrawl status                                what is due, the last runs, counts per verdict
  citecrawl scan corpus/ --jsonl | jq .url        what a corpus cites, nothing fetched
  citecrawl compare --corpus corpus/ --warcs old/ judge WARCs you already have
  citecrawl verify collection/                    check digests, framing and indexes

Run `citecrawl COMMAND --help` for each command's options and examples.
Exit codes: 0 done (failed URLs are verdicts, not errors), 1 internal error,
2 usage or configuration error, 3 done and something needs attention (run),
4 verification failed (verify), 75 another run holds the lock (run), 130 interrupted.
"""


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"crawler.commands.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citecrawl",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"citecrawl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = _load(name)
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            epilog=getattr(module, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except (ConfigError, UsageError) as exc:
        print(f"citecrawl: error: {exc}", file=sys.stderr)
        return exitcodes.USAGE
    except RunLocked as exc:
        print(f"citecrawl: {exc}", file=sys.stderr)
        return exitcodes.LOCKED
    except CitecrawlError as exc:
        print(f"citecrawl: error: {exc}", file=sys.stderr)
        return exitcodes.INTERNAL
    except KeyboardInterrupt:
        print("citecrawl: interrupted", file=sys.stderr)
        return exitcodes.INTERRUPTED
    except BrokenPipeError:  # `citecrawl scan --jsonl | head`
        sys.stderr.close()
        return exitcodes.OK
    except Exception as exc:
        failure = storage_failure(exc)
        if failure is None:
            raise                       # a bug: the traceback is what we need
        print(f"citecrawl: error: the disk failed: {failure}. Complete WARC records and recorded captures are "
              "kept; free space and run again (unfinished URLs stay due)", file=sys.stderr)
        return exitcodes.INTERNAL


def entry() -> NoReturn:
    """The ``citecrawl`` command (and ``python -m crawler``): :func:`main`, then :func:`exit_now`."""
    exit_now(main())


def exit_now(code: int) -> NoReturn:
    """End the process with ``code`` once its output is flushed, without tearing the interpreter down.

    A command has closed everything it wrote (WARC files, the state store, reports) before it
    returns; what is left is freeing the modules and objects of a run, ~0.2 s of CPU after an
    archive run (the ~25 packages trio, httpx, selectolax, warcio … bring), during which the
    caller waits. So the process ends at once, as with ``os._exit``. Not under coverage.py,
    whose results are written at exit; a command that raised never gets here (the traceback
    and the usual exit apply).
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`citecrawl scan --jsonl | head`), a closed stream
            pass
    if "coverage" in sys.modules:
        raise SystemExit(code)
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
