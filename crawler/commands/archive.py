"""``citecrawl archive``: scan, fetch, archive, extract, compare and report, once, by hand."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from crawler import exitcodes
from crawler.commands.options import add_fetch_options, config_from_args
from crawler.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from archive.replay import WarcReplayTransport
    from crawler.config import Config
    from crawler.corpus import ScanResult
    from crawler.pipeline import PipelineResult
    from crawler.state import StateStore

# The pipeline (trio, httpx, selectolax, warcio, rich) is imported inside the functions that
# use it: every `citecrawl` invocation, `--help` and `status` included, imports this module to
# build its parser (tests/test_startup.py keeps it that way).

NAME = "archive"
HELP = "fetch every URL a corpus cites, archive it as WARC and report what changed"
DESCRIPTION = """\
Scan PATH (folders, files) and URLs, fetch every cited URL politely, write the
exchanges into WARC files, re-extract each article and compare it with the stored
snapshot. Results stream: pages are judged as they arrive.

The collection folder (--out) gets warcs/*.warc.gz, indexes/*.cdxj, state.sqlite,
report.jsonl and report.html. Ctrl-C once finishes the fetches in flight and writes a
partial report; twice stops at once. Complete WARC records are always kept.
"""
EPILOG = """\
examples:
  citecrawl archive                                  the corpus of the configuration file
  citecrawl archive corpus/ --out /srv/collection    a folder, into a collection
  citecrawl archive https://example.com/news/1       single URLs
  citecrawl archive corpus/ --replay old/warcs       no network: answer from WARC files
  citecrawl archive corpus/ --capture-only --out c/  capture now (gone, moved, blocked are still
  citecrawl compare --corpus corpus/ --warcs c/warcs   reported); compare with the snapshots later
  citecrawl archive tests/corpus --resolve news.test:80:127.0.0.1 --allow-network 127.0.0.0/8

exit codes: 0 completed (failed URLs are verdicts), 1 internal error, 2 usage or
configuration error, 75 another run holds the collection's lock, 130 interrupted
(partial report written).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH|URL",
                        help="corpus folders, snapshot files or URLs (default: corpus.paths of the configuration)")
    add_fetch_options(parser)
    parser.add_argument("--replay", metavar="DIR", action="append", default=[],
                        help="answer requests from the WARC files in DIR instead of the network (repeatable)")
    parser.add_argument("--capture-only", action="store_true",
                        help="fetch and archive without reading the pages: 2xx answers are reported 'fetched'; "
                             "judge them later with 'citecrawl compare --warcs OUT/warcs' (about half the CPU)")
    parser.add_argument("--json", action="store_true", help="print the run summary as one JSON object on stdout")
    parser.add_argument("--quiet", action="store_true", help="no progress and no per-URL lines")


def inputs_of(args: argparse.Namespace, config: Config) -> list[str]:
    inputs = list(args.paths) or list(config.corpus.paths)
    if not inputs:
        raise UsageError("nothing to archive: give PATH or URL arguments, or set corpus.paths in the configuration")
    return inputs


#: documents recorded in the state store per transaction
RECORD_BATCH = 2000


def record_scan(store: StateStore, result: ScanResult, now: float) -> None:
    """Documents and who cites what, into the state store, a few thousand documents at a time.

    URLs given on the command line are cited by no document (their pseudo-document
    ``<command line>`` is not stored), so their citations are not recorded: the store keeps
    them as one-off captures (record_capture remembers them, never due).
    """
    from crawler.state import Citation, DocumentSeen

    batch: list[DocumentSeen] = []

    def flush() -> None:
        store.upsert_documents(batch, now=now)
        paths = [d.path for d in batch]
        cited = result.citations_of(paths)
        # every document, those citing nothing too: one that no longer cites a URL must drop it
        store.replace_citations({path: [Citation(url, role) for url, role in cited.get(path, ())] for path in paths},
                                now=now)
        batch.clear()

    for d in result.documents:
        batch.append(DocumentSeen(d.id, d.content_hash, d.title, d.snapshot_url))
        if len(batch) >= RECORD_BATCH:
            flush()
    if batch:
        flush()


#: answers come from disk: no gaps between them, and nothing to retry or slow down for (a URL
#: not in the archive will not be there a few seconds later; it used to cost 2 + 4 + 8 s a host)
REPLAY_POLITENESS = {"delay": 0.0, "jitter": 0.0, "max_attempts": 1, "backoff_base": 0.0, "backoff_max": 0.0}


def replay_transport(dirs: list[str]) -> WarcReplayTransport | None:
    if not dirs:
        return None
    from archive.replay import WarcReplayTransport

    for d in dirs:
        if not Path(d).exists():
            raise UsageError(f"--replay {d}: no such file or folder")
    return WarcReplayTransport(dirs)


def print_summary(result: PipelineResult, *, as_json: bool, elapsed: float) -> None:
    if as_json:
        print(json.dumps({
            "partial": result.partial, "urls": result.summary.urls, "documents": result.summary.documents,
            "url_verdicts": result.counts,
            "document_verdicts": dict(result.summary.document_verdicts),
            "attention": result.summary.attention, "fetched": result.fetched, "bytes": result.bytes,
            "seconds": round(elapsed, 3), "report": str(result.reports.jsonl), "html": str(result.reports.html),
            "warcs": [str(p) for p in result.warc_files],
        }, sort_keys=True))
        return
    from archive.report_terminal import print_summary as show

    show(result.summary, result.reports, file=sys.stdout)


def prepare_run(args: argparse.Namespace, config: Config, inputs: Sequence[str],
                out: Path) -> tuple[Config, WarcReplayTransport | None, ScanResult]:
    """The start of ``archive`` and ``run``, holding the collection's lock: the corpus scanned in a
    child process (:mod:`crawler.scan_process`) and the TLS context made in a thread
    (:mod:`crawler.tls`) while the run's modules import here; the configuration (for ``--replay``),
    the replay transport and the scan."""
    from crawler import tls
    from crawler.scan_process import remove_stale, start_scan

    remove_stale(out)
    with start_scan(inputs, out) as pending:
        if not args.replay:
            tls.prepare(config.network.ca_bundle)
        # what the run needs, imported while the child scans (the commands' own imports then find them)
        import trio  # noqa: F401

        import crawler.display
        import crawler.pipeline
        import crawler.state  # noqa: F401
        from archive.report_spool import remove_stale_spools

        transport = replay_transport(args.replay)
        if transport is not None:
            config = config.with_overrides(politeness=REPLAY_POLITENESS)
        remove_stale_spools(out)
        return config, transport, pending.result()


def run(args: argparse.Namespace) -> int:
    from crawler.lock import RunLock

    started = time.monotonic()
    config = config_from_args(args)
    inputs = inputs_of(args, config)
    out = Path(config.collection.out)
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):  # one writer per collection: a scheduled run and a manual one never overlap
        config, transport, scanned = prepare_run(args, config, inputs, out)
        import socket

        import trio

        from crawler.display import choose_display
        from crawler.pipeline import run_pipeline, scan_requests
        from crawler.state import open_state_store

        store = open_state_store(out)
        try:
            now = time.time()
            run_id = store.start_run(now=now, pid=os.getpid(), host=socket.gethostname())
            record_scan(store, scanned, now)
            display = choose_display(quiet=args.quiet)
            result = trio.run(lambda: run_pipeline(config, scanned, scan_requests(scanned),
                                                   store=store, run_id=run_id, display=display,
                                                   transport=transport, examine=not args.capture_only))
            code = exitcodes.INTERRUPTED if result.partial else exitcodes.OK
            store.finish_run(run_id, now=time.time(), counts=result.counts, exit_status=code)
        finally:
            store.close()
    print_summary(result, as_json=args.json, elapsed=time.monotonic() - started)
    return code
