"""``citecrawl run``: the scheduled run. Only what is due, never two at once, resumable.

Each run takes the collection's lock (a second run exits 75 at once), rescans
the corpus, asks the state store what is due under the recrawl policy, fetches
that with conditional requests (If-None-Match, If-Modified-Since), and says what
changed since the previous run. URLs that are not due keep the verdict of their
last capture in the report. A run killed half-way leaves its in-flight URLs due
(they are fetched first next time) and everything finished recorded.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from crawler import exitcodes
from crawler.commands.archive import prepare_run, record_scan
from crawler.commands.options import add_fetch_options, config_from_args
from crawler.errors import UsageError

if TYPE_CHECKING:
    from crawler.crawl import CrawlRequest
    from crawler.pipeline import PipelineResult
    from crawler.state import DueUrl, StateStore, UrlChange

# The pipeline is imported inside run() and conditional(): building the parser (every
# `citecrawl` invocation) must not import trio, httpx, selectolax, warcio or rich.

NAME = "run"
HELP = "the scheduled run (cron, systemd): fetch what is due, report what changed"
DESCRIPTION = """\
Fetch only what is due in the collection, under the recrawl policy of the
configuration ([recrawl]: article pages weekly, images once, failures retried at
growing intervals), with conditional requests, and within the [budget] limits.
A 304 answer is archived as a server-not-modified revisit, an unchanged body as an
identical-payload-digest revisit. Quiet when not on a terminal: one summary line,
or one JSON object with --json.
"""
EPILOG = """\
examples:
  citecrawl run --config /etc/citecrawl/news.toml
  citecrawl run --config news.toml --corpus /srv/corpus-2 --out /srv/collection-2
  citecrawl run --json >> /var/log/citecrawl.jsonl

exit codes: 0 done, nothing new needs a person; 3 done, and sources newly gone,
moved or changed (see the report); 75 another run holds the lock (try later);
130 interrupted (what finished is kept; the rest stays due); 2 usage or
configuration error; 1 internal error.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", metavar="PATH", action="append", default=[],
                        help="corpus folder or file (repeatable; default: corpus.paths of the configuration)")
    add_fetch_options(parser)
    parser.add_argument("--replay", metavar="DIR", action="append", default=[],
                        help="answer requests from the WARC files in DIR instead of the network (tests)")
    parser.add_argument("--json", action="store_true", help="print the run summary as one JSON object on stdout")
    parser.add_argument("--now", type=float, help=argparse.SUPPRESS)   # tests: pretend it is this epoch time


def conditional(due: DueUrl) -> CrawlRequest:
    from crawler.crawl import CrawlRequest

    headers: list[tuple[str, str]] = []
    if due.previous_capture is not None:
        if due.etag:
            headers.append(("If-None-Match", due.etag))
        if due.last_modified:
            headers.append(("If-Modified-Since", due.last_modified))
    return CrawlRequest(due.url, tuple(headers))


def change_lines(new_documents: Iterable[str], changes: Iterable[UrlChange]) -> Iterator[str]:
    """One line a person reads per new document and per URL change."""
    for d in new_documents:
        yield f"new document: {d}"
    for c in changes:
        yield f"{c.kind}: {c.url} ({c.before or '-'} -> {c.after or '-'})"


def run(args: argparse.Namespace) -> int:
    from crawler.lock import RunLock

    started = time.monotonic()
    config = config_from_args(args)
    inputs: Sequence[str] = args.corpus or config.corpus.paths
    if not inputs:
        raise UsageError("no corpus: give --corpus PATH or set corpus.paths in the configuration")
    out = Path(config.collection.out)
    out.mkdir(parents=True, exist_ok=True)
    with RunLock(out):
        config, transport, scanned = prepare_run(args, config, inputs, out)
        import socket

        import trio

        from archive.verdicts import Verdict, needs_attention
        from crawler.display import choose_display
        from crawler.pipeline import run_pipeline
        from crawler.schedule import RecrawlPolicy
        from crawler.state import open_state_store

        store = open_state_store(out)
        try:
            offset = 0.0 if args.now is None else args.now - time.time()
            now = time.time() + offset
            run_id = store.start_run(now=now, pid=os.getpid(), host=socket.gethostname())
            record_scan(store, scanned, now)
            policy = RecrawlPolicy.from_config(config.recrawl)
            limit = config.budget.max_urls or None
            # due URLs come a page at a time: only the requests are held (not their details, ~300 bytes a URL)
            requests = [conditional(d) for d in store.iter_due_urls(now, policy, limit=limit)]
            due_count = len(requests)
            store.begin_attempts([r.url for r in requests], run_id=run_id, now=now)
            before = {u: Verdict(v) for u, v in store.last_verdicts().items() if v in Verdict.__members__.values()}
            display = choose_display(quiet=not sys.stderr.isatty())
            result = trio.run(lambda: run_pipeline(
                config, scanned, requests, store=store, run_id=run_id, display=display, transport=transport,
                carry_over=before, previous=before, budget=config.budget, wall_clock=lambda: time.time() + offset))
            asked = {r.url for r in requests}
            attention = any(needs_attention(v, before.get(u)) for u, v in result.verdicts.items() if u in asked)
            del asked
            requests.clear()    # what is left to do needs neither: free them before the changes are read
            before.clear()
            # the changes wait in a temporary file (a first run with the sites down lists every URL)
            since = _previous_run(store, run_id)
            changes = store.spooled_changes(since)
            kinds = collections.Counter(c.kind for c in changes)
            code = (exitcodes.INTERRUPTED if result.partial
                    else exitcodes.ATTENTION if attention or kinds["gone"] or kinds["moved"]
                    else exitcodes.OK)
            store.finish_run(run_id, now=time.time() + offset, counts=_counts(result, due_count), exit_status=code)
            new_documents = store.new_documents_since(since)
        finally:
            store.close()
    with changes:
        _print(result, new_documents, changes, len(new_documents) + kinds.total(), due=due_count,
               as_json=args.json, elapsed=time.monotonic() - started, code=code)
    return code


def _previous_run(store: StateStore, run_id: int) -> int | None:
    earlier = [r.id for r in store.last_runs(50) if r.id < run_id]
    return max(earlier) if earlier else None


def _counts(result: PipelineResult, due: int) -> dict[str, int]:
    return {"due": due, "fetched": result.fetched, "bytes": result.bytes, **result.counts}


def _print(result: PipelineResult, new_documents: Sequence[str], changes: Iterable[UrlChange], count: int, *,
           due: int, as_json: bool, elapsed: float, code: int) -> None:
    """The run's summary line and changes (``count`` of them, new documents included), or one JSON object.

    The changes are written as they are read: a run's list can hold every cited URL.
    """
    if as_json:
        out = sys.stdout
        # the same text as json.dumps(..., sort_keys=True) of the whole object: "bytes" sorts before
        # "changes", every other key after it
        out.write(json.dumps({"bytes": result.bytes})[:-1] + ', "changes": [')
        for n, c in enumerate(changes):
            item = {"after": c.after, "before": c.before, "kind": c.kind, "url": c.url}
            out.write((", " if n else "") + json.dumps(item))
        out.write("], " + json.dumps({
            "exit": code, "partial": result.partial, "due": due, "fetched": result.fetched,
            "seconds": round(elapsed, 3), "url_verdicts": result.counts,
            "new_documents": list(new_documents), "report": str(result.reports.jsonl),
        }, sort_keys=True)[1:] + "\n")
        return
    print(f"citecrawl run: {due} due, {result.fetched} fetched, {count} changes, "
          f"{result.summary.attention} need attention; report {result.reports.html}"
          f"{' (PARTIAL: interrupted)' if result.partial else ''}")
    for line in itertools.islice(change_lines(new_documents, changes), 50):
        print(f"  {line}")
    if count > 50:
        print(f"  … and {count - 50} more in {result.reports.jsonl}")
