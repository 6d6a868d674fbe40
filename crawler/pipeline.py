"""One run, end to end: fetch what is asked, archive every hop, judge each source, report.

The shell around the pure parts. One nursery holds the crawler (producing
:class:`~crawler.outcomes.FetchResult` values into a bounded channel), the WARC
writer's owner task, the signal watcher and the progress ticker; this task
consumes results as they arrive, so extraction and comparison happen while the
crawl goes on (streaming, not after the crawl); it takes its steps when no fetch
can go on (:mod:`crawler.idle`): a result can wait, a request held back costs
its host the time. Extraction and comparison run
in judging processes (:mod:`crawler.judging`, one per core) or, for a small run,
in a worker thread, which keeps the event loop free.

Per result: every hop is written (request, response or revisit, and a metadata
record with the final hop), the final body is examined, the verdict decided,
and the capture with its verdict recorded in the state store, only after its
records are on disk: a few judged captures a transaction, at the first moment no
fetch can go on (:data:`RECORD_BATCH`, :data:`RECORD_SECONDS`), all that are left
when the crawl ends, even on an error. Its report records go to a spool
(:class:`~archive.report_spool.ReportSpool`) at once: the run keeps only
``url -> verdict``, so memory does not grow with the corpus beyond that; the
reports are assembled from the spool at the end, in corpus order.

Ctrl-C (or SIGTERM) once: start nothing new, finish what is in flight, write a
partial report. Twice: stop now; complete records are kept either way, since
the writer only ever leaves whole records behind.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx
import trio

from archive.records import CaptureRef, capture_metadata, warcinfo_fields
from archive.report import ReportPaths, Summary
from archive.report_spool import ReportSpool
from archive.verdicts import DocumentInput, UrlVerdict, Verdict, judge_document
from archive.warcfile import recover
from archive.writer import CaptureResult, WarcWriter, open_warc_writer
from crawler import __version__
from crawler.config import BudgetConfig, Config
from crawler.corpus import CitedUrl, ScanResult, UrlFacts
from crawler.crawl import Crawler, CrawlRequest, CrawlStatistics
from crawler.evaluate import document_input
from crawler.idle import IdleTurns, open_idle_turns
from crawler.judge_pool import JudgeGone, JudgePool, open_judge_pool
from crawler.judging import judge_one
from crawler.outcomes import FetchResult, Outcome
from crawler.schedule import RecrawlPolicy
from crawler.state import Capture, StateStore, WarcRef

__all__ = ["Display", "PipelineResult", "ScanRequests", "run_pipeline", "scan_requests", "warcinfo_of"]

#: problem kinds that mean the file yielded no document
UNREADABLE_KINDS = frozenset({"binary", "bad-yaml", "empty", "unreadable", "too-large"})


class Display(Protocol):
    """What the pipeline tells a person while it works (a progress bar, log lines, or nothing)."""

    def start(self, total: int) -> None: ...
    def tick(self, stats: CrawlStatistics, done: int) -> None: ...
    def url_done(self, verdict: UrlVerdict) -> None: ...
    def note(self, message: str) -> None: ...
    def stop(self) -> None: ...


@dataclass
class PipelineResult:
    """What a run did. ``verdicts``: every reported URL's verdict (the records are in the reports)."""

    verdicts: Mapping[str, Verdict]
    summary: Summary
    reports: ReportPaths
    partial: bool
    warc_files: tuple[Path, ...]
    fetched: int
    bytes: int
    counts: dict[str, int] = field(default_factory=dict)


def warcinfo_of(config: Config) -> list[tuple[str, str]]:
    """The warcinfo of every file: who, what, how, and the whole effective configuration (secrets redacted)."""
    return warcinfo_fields(
        software=f"citecrawl/{__version__}", hostname=socket.gethostname(), operator=config.identity.operator,
        user_agent=config.user_agent, robots="classic" if config.politeness.robots else "ignore",
        configuration=config.to_dict(redact=True))


#: bodies up to this size are copied to a judging process; larger ones are judged in a thread here
DETACH_MAX_BYTES = 8 << 20
#: below this many requests, starting judging processes costs more than it saves
POOL_MIN_REQUESTS = 100
#: results in flight per judging process (sent, being judged, or waiting in its pipe)
JOBS_PER_JUDGE = 4
#: results waiting for the consumer (of RESULTS_BUFFER) below which it lets fetches go first: with
#: more, it is what holds the crawl back (a throughput run: waiting there cost 4 % more CPU a page)
KEEPING_UP = 4
#: seconds a result waits at most for a moment when no fetch can go on
IDLE_PATIENCE = 0.1
#: the results channel between the crawler and the consumer
RESULTS_BUFFER = 16
#: judged results recorded in the state store in one transaction at most (one a transaction cost
#: 87 µs a capture, 32 a transaction 44 µs: scripts/bench_state.py). Fewer go at the first moment
#: no fetch can go on, RECORD_SECONDS after the first at the latest, and when the crawl ends, even
#: on an error. A process killed outright loses those not recorded yet: they stay due, and the
#: next run fetches them again
RECORD_BATCH = 32
RECORD_SECONDS = 0.25


class _Judge:
    """Turns fetch results into verdicts: in judging processes (both cores) or a worker thread.

    Extraction and comparison are CPU work under the GIL: in a thread they compete with
    the event loop for one core. Processes (:mod:`crawler.judge_pool`, started by
    :meth:`running`) get the result with its final body copied (a few hundred KB at most)
    and read snapshots from the corpus themselves.
    """

    def __init__(self, config: Config, scan: ScanResult, *, workers: int = 1, examine: bool = True,
                 note: Callable[[str], None] = lambda message: None,
                 facts_ahead: Callable[[str], UrlFacts | None] | None = None) -> None:
        self.config = config
        self.scan = scan
        self.root = scan.root
        self.examine = examine
        self.workers = workers if examine else 1
        self._note = note
        self._facts_ahead = facts_ahead         # the facts the requests read with a URL (ScanRequests)
        self._pool: JudgePool | None = None
        self._gone: set[str] = set()           # why judging processes ended, each told once

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The judging processes, for the body of the ``async with`` (none for one worker)."""
        if self.workers <= 1:
            yield
            return
        async with open_judge_pool(self.workers, self.config, self.root) as pool:
            self._pool = pool
            try:
                yield
            finally:
                self._pool = None

    def facts(self, url: str) -> UrlFacts:
        """``url``'s place in the report, citations and snapshot documents, for archiving, judging
        and reporting: read with the requests (:class:`ScanRequests`), else looked up."""
        return (self._facts_ahead and self._facts_ahead(url)) or self.scan.facts(url)

    def judge_now(self, result: FetchResult, facts: UrlFacts) -> UrlVerdict | None:
        """The verdict when the outcome alone decides it, in microseconds (a capture-only run, a
        failure: no body to read); ``None`` when the page must be read (:meth:`judge_async`)."""
        if not self.examine or result.outcome != Outcome.OK or not result.hops:
            return judge_one(self.config, self.root, facts.cited, facts.snapshots, result, examine=self.examine)
        return None

    async def judge_async(self, result: FetchResult, facts: UrlFacts) -> UrlVerdict:
        verdict = self.judge_now(result, facts)
        if verdict is not None:
            return verdict
        cited, docs = facts.cited, facts.snapshots
        if self._pool is None or result.hops[-1].body_length > DETACH_MAX_BYTES:
            return await trio.to_thread.run_sync(judge_one, self.config, self.root, cited, docs, result)
        try:
            return await self._pool.judge(cited, docs, result)
        except JudgeGone as exc:
            # archived all the same: reported as fetched, not compared (`citecrawl compare` can judge it later)
            if exc.why not in self._gone:
                self._gone.add(exc.why)
                self._note(f"{exc.why}; its pages are archived but not compared")
            verdict = judge_one(self.config, self.root, cited, docs, result, examine=False)
            notes = (*verdict.evidence.notes, f"not judged: {exc.why}")
            return replace(verdict, evidence=replace(verdict.evidence, notes=notes))


def _metadata(result: FetchResult, cited: CitedUrl | None) -> list[tuple[str, str]]:
    last = result.hops[-1]
    redirects = [(h.response.status, h.response.header("Location") or "") for h in result.hops[:-1]]
    attempts = [
        f"{a.number} {a.url or result.url} {a.outcome}{f' {a.status}' if a.status else ''}"
        f"{f' waited {a.waited:.3f}s' if a.waited else ''}{f' ({a.error})' if a.error else ''}"
        for a in result.attempts
    ]
    return capture_metadata(
        citations=[(c.document, c.role) for c in (cited.citations if cited else ())],
        redirects=redirects, attempts=attempts, robots=result.robots, timings=last.timings,
        extra=[("outcome", str(result.outcome))],
    )


async def _archive(writer: WarcWriter | None, result: FetchResult, cited: CitedUrl | None) -> CaptureResult | None:
    """Write every hop of a result; the final hop carries the metadata record."""
    last: CaptureResult | None = None
    if writer is None:
        return None
    for i, hop in enumerate(result.hops):
        final = i == len(result.hops) - 1
        last = await writer.write_exchange(hop, metadata=_metadata(result, cited) if final else None)
    return last


def _capture(result: FetchResult, written: CaptureResult | None, verdict: UrlVerdict, now: float) -> Capture:
    final = result.hops[-1] if result.hops else None
    warc = None
    if written is not None:
        loc = written.response
        warc = WarcRef(filename=loc.filename, offset=loc.offset, length=loc.length, record_id=loc.record_id,
                       record_type="revisit" if written.is_revisit else "response", date=loc.date,
                       target_uri=loc.target_uri or result.final_url or result.url)
    from archive.report import url_record

    return Capture(
        url=result.url, fetched_at=now, outcome=str(result.outcome), status=result.status,
        final_url=result.final_url,
        payload_digest=written.payload_digest if written else None,
        etag=final.response.header("ETag") if final else None,
        last_modified=final.response.header("Last-Modified") if final else None,
        warc=warc, verdict=str(verdict.verdict), evidence=url_record(verdict),
    )


async def run_pipeline(
    config: Config,
    scan: ScanResult,
    requests: Collection[CrawlRequest],
    *,
    store: StateStore | None,
    run_id: int | None = None,
    display: Display,
    transport: httpx.AsyncBaseTransport | None = None,
    write_warcs: bool = True,
    carry_over: Mapping[str, Verdict] | None = None,
    previous: Mapping[str, Verdict] | None = None,
    budget: BudgetConfig | None = None,
    judge_workers: int | None = None,
    examine: bool = True,
    wall_clock: Callable[[], float] = time.time,
) -> PipelineResult:
    """Fetch ``requests``, archive, judge, record and report. URLs of the scan not requested keep ``carry_over``.

    ``examine=False`` is a capture-only run: bodies are archived but not read, and a 2xx
    is reported ``fetched`` (``citecrawl compare`` judges the WARCs later).

    ``wall_clock`` dates the captures in the state store (epoch seconds; tests pretend days pass).

    ``judge_workers``: processes judging pages (``None``: ``extract.workers``, one per CPU when 0,
    and 1 — a thread, no processes — for fewer than :data:`POOL_MIN_REQUESTS` requests).
    """
    if judge_workers is None:
        judge_workers = config.extract.workers or os.cpu_count() or 1
        if len(requests) < POOL_MIN_REQUESTS:
            judge_workers = 1
    judge = _Judge(config, scan, workers=judge_workers, examine=examine, note=display.note,
                   facts_ahead=requests.take_facts if isinstance(requests, ScanRequests) else None)
    spool = ReportSpool(Path(config.collection.out), scan.url_index(), previous=previous)  # report order: the corpus's
    try:
        return await _run_spooled(config, scan, requests, judge, spool, store=store, run_id=run_id,
                                  display=display, transport=transport, write_warcs=write_warcs,
                                  carry_over=carry_over, budget=budget, wall_clock=wall_clock)
    finally:
        spool.close()


async def _run_spooled(
    config: Config,
    scan: ScanResult,
    requests: Collection[CrawlRequest],
    judge: _Judge,
    spool: ReportSpool,
    *,
    store: StateStore | None,
    run_id: int | None,
    display: Display,
    transport: httpx.AsyncBaseTransport | None,
    write_warcs: bool,
    carry_over: Mapping[str, Verdict] | None,
    budget: BudgetConfig | None,
    wall_clock: Callable[[], float],
) -> PipelineResult:
    out = Path(config.collection.out)
    crawler = Crawler(config, transport=transport)
    judged = [0]
    # only a scheduled run (carry_over) needs to tell the URLs asked for from the rest
    requested = {r.url for r in requests} if carry_over else set()
    interrupted = False
    fetched_bytes = 0
    crawler_stopped = [False]
    fetched_urls = [0]
    policy = RecrawlPolicy.from_config(config.recrawl)
    unrecorded: list[Capture] = []      # judged, for the state store's next transaction (RECORD_BATCH)
    to_record = trio.Event()            # set while some are waiting there

    def earlier(url: str) -> CaptureRef | None:
        prev = store.last_capture(url) if store is not None else None
        if prev is None or prev.payload_digest is None:
            return None
        return CaptureRef(prev.target_uri, prev.record_id, prev.date, prev.payload_digest)

    # judging runs beside the next results' archiving: a few results per judging process at once, so
    # a process finds its next job waiting when it sends a verdict back
    judging = trio.Semaphore(JOBS_PER_JUDGE * judge.workers if judge.workers > 1 else 1)

    def record(result: FetchResult, written: CaptureResult | None, verdict: UrlVerdict, place: int | None) -> None:
        """Report and record one judged result (on the event loop: the store is not thread-safe)."""
        if result.status == 304 and carry_over and result.url in carry_over:
            verdict = _last_verdict_stands(verdict, carry_over[result.url], NOT_MODIFIED)
        judged[0] += 1
        spool.add_at_if_expected(place, verdict)    # a URL not in the corpus is not reported
        if result.outcome != Outcome.DEFERRED:
            fetched_urls[0] += 1
        if store is not None and result.outcome != Outcome.DEFERRED:
            unrecorded.append(_capture(result, written, verdict, wall_clock()))
            if len(unrecorded) >= RECORD_BATCH:
                record_now()
            else:
                to_record.set()
        display.url_done(verdict)

    def record_now() -> None:
        """Put the judged captures not recorded yet in the state store, one transaction for all."""
        nonlocal to_record
        if unrecorded and store is not None:
            store.record_captures(unrecorded, run_id=run_id, policy=policy)
        unrecorded.clear()
        if to_record.is_set():
            to_record = trio.Event()

    async def record_when_idle(idle: IdleTurns) -> None:
        """Record what was judged at the next moment no fetch can go on (or RECORD_SECONDS later):
        a run that keeps the event loop busy records in batches, one that waits for the network
        records each capture as soon as it is judged (a run killed then fetches nothing twice)."""
        while True:
            await to_record.wait()
            await idle.wait_turn(patience=RECORD_SECONDS)
            record_now()

    async def finish(result: FetchResult, written: CaptureResult | None, facts: UrlFacts,
                     after_fetches: Callable[[], Awaitable[None]]) -> None:
        """Judge one archived result (in a judging process or a thread), then record it."""
        try:
            verdict = await judge.judge_async(result, facts)
            await after_fetches()
            record(result, written, verdict, facts.place)
        finally:
            judging.release()
            for hop in result.hops:
                hop.close()

    async def consume(receive: trio.MemoryReceiveChannel[FetchResult], writer: WarcWriter | None,
                      idle: IdleTurns) -> None:
        nonlocal fetched_bytes

        async def after_fetches() -> None:
            """Wait for a moment when no fetch can go on (see crawler.idle): a result waits a few
            milliseconds at no cost, a host's next request would lose them. Unless results pile up:
            then this consumer is what holds the crawl back, and it goes on at once."""
            if receive.statistics().current_buffer_used < KEEPING_UP:
                await idle.wait_turn(patience=IDLE_PATIENCE)

        async with receive, trio.open_nursery() as judges:
            async for result in receive:
                handed_over = False
                try:
                    await after_fetches()           # inside the try: cancelled here, the hops are closed
                    facts = judge.facts(result.url)     # looked up once: the metadata record, judge, report
                    written = await _archive(writer, result, facts.cited)
                    fetched_bytes += sum(h.body_length for h in result.hops)
                    if budget is not None and budget.max_bytes and fetched_bytes >= budget.max_bytes \
                            and result.kind == "page" and not crawler_stopped[0]:  # a run always gets one page
                        crawler_stopped[0] = True
                        display.note(f"byte budget of {budget.max_bytes} used up; the rest stays due")
                        crawler.stop()
                    if result.kind == "robots":
                        continue
                    # the archiving above and the recording below are each ~0.5 ms of CPU: a step of both
                    # made each scheduler round that long, and a fetch waits a round at each of its
                    # awaits (httpcore takes locks: about six rounds from "send" to the bytes on the wire)
                    await trio.lowlevel.checkpoint()
                    verdict = judge.judge_now(result, facts)
                    if verdict is not None:     # no page to read: recorded here, no task to start and wait for
                        record(result, written, verdict, facts.place)
                        continue
                    await judging.acquire()
                    judges.start_soon(finish, result, written, facts, after_fetches)
                    handed_over = True
                finally:
                    if not handed_over:
                        for hop in result.hops:
                            hop.close()

    async def watch_signals(cancel: trio.CancelScope) -> None:
        nonlocal interrupted
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                if not interrupted:
                    interrupted = True
                    crawler.stop()
                    display.note("stopping: finishing fetches in flight (press Ctrl-C again to stop at once)")
                else:
                    display.note("stopping now; complete records are kept")
                    cancel.cancel()
                    return

    async def tick() -> None:
        while True:
            display.tick(crawler.statistics(), judged[0])
            await trio.sleep(0.25)

    async def budget_timer() -> None:
        if budget is not None and budget.max_minutes:
            await trio.sleep(budget.max_minutes * 60)
            display.note(f"time budget of {budget.max_minutes:g} minutes used up; the rest stays due")
            crawler.stop()

    async def crawl(writer: WarcWriter | None) -> None:
        send, receive = trio.open_memory_channel[FetchResult](RESULTS_BUFFER)
        async with trio.open_nursery() as helpers:
            helpers.start_soon(watch_signals, everything)
            helpers.start_soon(tick)
            helpers.start_soon(budget_timer)
            async with open_idle_turns() as idle, trio.open_nursery() as recording:
                recording.start_soon(record_when_idle, idle)
                async with trio.open_nursery() as work:
                    work.start_soon(crawler.run, requests, send)
                    work.start_soon(consume, receive, writer, idle)
                recording.cancel_scope.cancel()
            helpers.cancel_scope.cancel()

    warc_files: tuple[Path, ...] = ()
    try:
        async with judge.running():         # the judging processes start first: they import while we go on
            if write_warcs:
                for fixed in await trio.to_thread.run_sync(lambda: recover(out / "warcs", index_dir=out / "indexes")):
                    display.note(f"recovered {fixed}")
            display.start(len(requests))
            with trio.CancelScope() as everything:
                if write_warcs:
                    async with open_warc_writer(
                        out / "warcs", prefix=config.warc.prefix, gzip_level=config.warc.gzip_level,
                        rollover_bytes=config.warc.rollover_bytes, digest=config.warc.digest,  # type: ignore[arg-type]
                        warcinfo=warcinfo_of(config), index_dir=out / "indexes", earlier_capture=earlier,
                    ) as writer:
                        await crawl(writer)
                    warc_files = writer.closed_files
                else:
                    await crawl(None)
    except BaseException:
        with contextlib.suppress(Exception):    # keep what was judged; the first error is the one to report
            record_now()
        raise
    record_now()
    display.stop()
    if everything.cancelled_caught:
        interrupted = True

    # URLs not asked for keep last run's verdict; asked for but not finished are pending (the
    # report's places are the scan's: its URLs are read in order, a page at a time)
    for place, cited, docs in scan.cited_urls(keep=spool.expects_at):
        url = cited.url
        v = judge_one(config, scan.root, cited, docs, None)
        if url not in requested and carry_over and url in carry_over:
            v = _last_verdict_stands(v, carry_over[url], NOT_DUE)
        spool.add_at(place, v)
    problems = {p.path: p.message for p in scan.problems if p.kind in UNREADABLE_KINDS}
    documents = iter(scan.documents)
    while batch := list(itertools.islice(documents, 500)):     # their URLs' verdicts looked up a batch at a time
        verdicts = spool.verdicts.of({u for d in batch for u in (*d.urls, d.snapshot_url) if u})
        for d in batch:
            spool.add_document(judge_document(document_input(d, problems), verdicts))
    for path, msg in problems.items():
        spool.add_document(judge_document(_unreadable(path, msg), spool.verdicts))
    reports, summary = spool.finish(generated=datetime.now(UTC), partial=interrupted)
    return PipelineResult(spool.verdicts, summary, reports, interrupted, warc_files,
                          fetched=fetched_urls[0], bytes=fetched_bytes, counts=dict(summary.url_verdicts))


def _unreadable(path: str, message: str) -> DocumentInput:
    return DocumentInput(document=path, problem=message)


#: why last run's verdict stands for a URL: a 304 answer, or not due in this run
NOT_MODIFIED = "not modified since the last capture (304)"
NOT_DUE = "not due in this run; verdict of the last capture"


def _last_verdict_stands(verdict: UrlVerdict, before: Verdict, why: str) -> UrlVerdict:
    """``verdict`` with last run's word ``before``, and ``why`` among its notes."""
    return replace(verdict, verdict=before, evidence=replace(verdict.evidence, notes=(*verdict.evidence.notes, why)))


class ScanRequests(Collection[CrawlRequest]):
    """A plain GET of every URL the scan found, in first-cited order, made as the crawler asks for them.

    The scan is read a page of URLs at a time with what the run needs of each (its place,
    citations and snapshots), and those facts are kept until the URL's result takes them
    (:meth:`take_facts`): a few queries a page instead of one cold look-up a fetched URL. What
    is kept is bounded by the crawler's window of requests (``crawl.QUEUE_WINDOW``) and those
    in flight.
    """

    def __init__(self, scan: ScanResult) -> None:
        self._scan = scan
        self._index = scan.url_index()          # the count, and a URL's place for `in`
        self._facts: dict[str, UrlFacts] = {}

    def __len__(self) -> int:
        return len(self._index)

    def __iter__(self) -> Iterator[CrawlRequest]:
        for place, cited, docs in self._scan.cited_urls():
            self._facts[cited.url] = UrlFacts(place, cited, docs)
            yield CrawlRequest(cited.url)

    def __contains__(self, item: object) -> bool:
        return (isinstance(item, CrawlRequest) and not item.headers
                and self._index.position(item.url) is not None)

    def take_facts(self, url: str) -> UrlFacts | None:
        """What the scan says of ``url``, if it was handed to the crawler and not taken yet."""
        return self._facts.pop(url, None)


def scan_requests(scan: ScanResult) -> ScanRequests:
    """A plain GET of every URL the scan found, in first-cited order."""
    return ScanRequests(scan)
