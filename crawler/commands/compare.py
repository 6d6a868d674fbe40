"""``citecrawl compare``: judge a corpus against WARC files that already exist, without fetching.

The same pipeline as ``archive``, with the network replaced by
:class:`archive.replay.WarcReplayTransport`: each cited URL is answered from the
WARC files (ours, or another tool's such as wget or browsertrix), redirects
replay hop by hop, revisits resolve to their original. A URL that is not in the
archive is reported ``unreachable`` with the detail "not in the archive", at once:
nothing is retried or waited for. Nothing is fetched and no WARC is written;
robots.txt is not consulted (nothing goes out), so a URL that robots.txt kept out
of the archive is "not in the archive" here.

With ``archive --capture-only`` first, this is the second half of "capture now,
compare later".
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from crawler import exitcodes
from crawler.commands.archive import REPLAY_POLITENESS, print_summary, replay_transport
from crawler.errors import UsageError

NAME = "compare"
HELP = "compare a corpus with WARC files you already have (no fetching)"
DESCRIPTION = __doc__.split("\n\n", 1)[1] if __doc__ else HELP
EPILOG = """\
examples:
  citecrawl compare --corpus corpus/ --warcs collection/warcs
  citecrawl compare --corpus corpus/ --warcs wget-output/ --out /tmp/compared --json

The report (report.jsonl, report.html) goes to --out (default: the collection folder
of the configuration). Exit codes: 0 done, 2 usage or configuration error, 1 internal error.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", metavar="PATH", action="append", required=True,
                        help="corpus folder or file (repeatable)")
    parser.add_argument("--warcs", metavar="DIR", action="append", required=True,
                        help="WARC files or folders of WARC files to answer from (repeatable)")
    parser.add_argument("--config", metavar="FILE", help="configuration file (thresholds in [compare])")
    parser.add_argument("--out", metavar="DIR", help="where to write the report")
    parser.add_argument("--json", action="store_true", help="print the run summary as one JSON object on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress and no per-URL lines")


def run(args: argparse.Namespace) -> int:
    # here, not at the top: building the parser (every invocation) must not import the pipeline
    import trio

    from crawler.config import load_config
    from crawler.corpus import scan
    from crawler.display import choose_display
    from crawler.pipeline import run_pipeline, scan_requests

    config = load_config(args.config)
    # nothing goes on the network: no gaps or retries, no robots.txt, everything in parallel
    config = config.with_overrides(
        collection={"out": args.out},
        politeness={**REPLAY_POLITENESS, "robots": False, "per_host": 4, "concurrency": 16},
    )
    for path in args.corpus:
        if not Path(path).exists():
            raise UsageError(f"--corpus {path}: no such file or folder")
    transport = replay_transport(args.warcs)
    started = time.monotonic()
    scanned = scan(args.corpus)
    display = choose_display(quiet=args.quiet)
    result = trio.run(lambda: run_pipeline(config, scanned, scan_requests(scanned),
                                           store=None, display=display, transport=transport, write_warcs=False))
    print_summary(result, as_json=args.json, elapsed=time.monotonic() - started)
    return exitcodes.INTERRUPTED if result.partial else exitcodes.OK
