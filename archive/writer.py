"""The WARC writer: one trio task owns the open file; compression runs in a thread.

::

    async with open_warc_writer(collection / "warcs", prefix="citecrawl",
                                warcinfo=warcinfo_fields(...)) as writer:
        result = await writer.write_exchange(exchange, metadata=capture_metadata(...))
        ...
        await writer.checkpoint()        # now the state store may point at result.response

Callers never touch the file. Each call becomes a job on a bounded channel
(back-pressure: a slow disk slows the fetchers); the owner task runs jobs one at
a time. A job with something to deflate runs in a worker thread (digesting, gzip
at ``gzip_level``: one thread hop per capture), so the event loop never stalls on
compression. A job with nothing to deflate (a small body, or one compressed
already, which is stored as it is; see :data:`INLINE_MAX_BYTES`) runs on the event
loop, where it costs less than the hop would: in the caller's own task when the
owner is idle with nothing queued (no scheduler round trip), else in the owner's
turn; should one such write be slow (a disk under pressure), the next ones go to
the thread for a while. All records of one
capture (response or revisit, request, metadata) land in the same file; a file is
closed (fsync, renamed from ``.open``, indexed into ``index_dir``) in the thread
once it passes ``rollover_bytes`` and when the writer closes, even on error or
cancellation. A record's
:class:`~archive.warcfile.RecordLocation` is returned once the record is written
to the OS; it is on disk for sure after :meth:`WarcWriter.checkpoint` or close.

**Revisits.** A response whose payload digest equals that of an earlier capture of
the same URL (earlier in this run, or before: ``earlier_capture`` is asked, the
state store's lookup) is written as an ``identical-payload-digest`` revisit. The
writer itself remembers only the last :data:`RUN_MEMORY` captures of the run, so
its memory does not grow with the run; older ones are found through
``earlier_capture`` (the pipeline records every capture in the state store once it
is judged, seconds after it is written). A 304
answer is written as a ``server-not-modified`` revisit pointing at the earlier
capture when known. Truncated bodies are always stored in full, never deduplicated.
"""

from __future__ import annotations

import json
import os
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import trio

from archive.exchange import Exchange
from archive.records import (
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    CaptureRef,
    DigestAlgorithm,
    Record,
    capture_records,
    metadata_record,
    new_record_id,
    payload_digest,
    revisit_record,
    warcinfo_record,
)
from archive.warcfile import (
    STORE_MIN_BYTES,
    RecordLocation,
    WarcFile,
    crawl_host,
    next_serial,
    stores_payload,
    warc_filename,
)

__all__ = ["RUN_MEMORY", "CaptureResult", "WarcWriter", "WriterStatistics", "open_warc_writer"]

T = TypeVar("T")

_clock = time.perf_counter           # real time: a stalled disk stalls the real event loop

#: captures of this run the writer remembers for revisits (about 450 bytes each)
RUN_MEMORY = 4096
#: a capture with nothing to deflate (a body under STORE_MIN_BYTES, or one compressed already,
#: which is stored as it is) and at most this big is written on the event loop: the hand-off to
#: the thread cost more than the writing (capture-only runs: -7 to -9 % CPU)
INLINE_MAX_BYTES = 1 << 20
#: an inline write slower than this (a disk under pressure) sends the next INLINE_PAUSE_JOBS
#: writes back to the thread, so the event loop does not stall on the disk
INLINE_STALL_SECONDS = 0.02
INLINE_PAUSE_JOBS = 200


@dataclass(frozen=True, slots=True)
class CaptureResult:
    """Where one capture's records landed, and what the state store should remember."""

    response: RecordLocation            # the response or revisit record
    request: RecordLocation
    metadata: RecordLocation | None
    payload_digest: str | None
    revisit_of: CaptureRef | None       # set when the response was written as a revisit

    @property
    def is_revisit(self) -> bool:
        return self.response.record_type == "revisit"

    @property
    def capture_ref(self) -> CaptureRef | None:
        """The original this capture stands for: itself for a response, its referent for a revisit."""
        if self.is_revisit:
            return self.revisit_of
        if self.payload_digest is None or self.response.target_uri is None:
            return None
        return CaptureRef(self.response.target_uri, self.response.record_id, self.response.date, self.payload_digest)


@dataclass(frozen=True, slots=True)
class WriterStatistics:
    records: int
    bytes_written: int        # bytes on disk (compressed), closed files and the open one
    responses: int
    revisits: int
    files_closed: int
    open_file: str | None
    queued: int


@dataclass(slots=True)
class _Job:
    work: Callable[[str], list[RecordLocation]]     # given the warcinfo ID, writes and returns locations
    done: trio.Event
    inline: bool = False
    result: list[RecordLocation] | None = None
    error: BaseException | None = None


def _NOTHING(_info_id: str) -> list[RecordLocation]:
    """A job that writes nothing: sent through the owner, it closes a file past its rollover size."""
    return []


def _fields(info: Sequence[tuple[str, str]] | Mapping[str, Any]) -> list[tuple[str, str]]:
    if isinstance(info, Mapping):
        return [(k, v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(",", ":")))
                for k, v in info.items()]
    return list(info)


class WarcWriter:
    """Use :func:`open_warc_writer`; see the module docstring."""

    def __init__(self, directory: Path, *, prefix: str, gzip_level: int, rollover_bytes: int,
                 digest: DigestAlgorithm, warcinfo: Sequence[tuple[str, str]] | Mapping[str, Any],
                 index_dir: Path | None, earlier_capture: Callable[[str], CaptureRef | None] | None,
                 new_id: Callable[[], str], now: Callable[[], datetime], host: str, queue: int) -> None:
        self.directory = directory
        self.prefix, self.gzip_level, self.rollover_bytes, self.digest = prefix, gzip_level, rollover_bytes, digest
        self.index_dir = index_dir
        self._warcinfo = _fields(warcinfo)
        self._earlier_capture = earlier_capture
        self._new_id, self._now, self._host = new_id, now, host
        self._send, self._receive = trio.open_memory_channel[_Job](queue)
        self._file: WarcFile | None = None
        self._warcinfo_id = ""
        self._seen: OrderedDict[str, CaptureRef] = OrderedDict()     # the last RUN_MEMORY captures
        self._closed_paths: list[Path] = []
        self._closed_bytes = 0
        self._records = self._responses = self._revisits = 0
        self._broken: BaseException | None = None
        self._inline_paused = 0          # writes left to send to the thread after a slow inline one
        self._busy = False               # the owner task is running a job

    # -- the public calls (any task) ---------------------------------------------------------------

    async def write_exchange(self, exchange: Exchange, *, metadata: Sequence[tuple[str, str]] | None = None,
                             dedupe: bool = True) -> CaptureResult:
        """Archive one exchange: response (or revisit), request, and a metadata record if given."""
        if exchange.response.status == 304:
            earlier = self._earlier_capture(exchange.url) if self._earlier_capture else None
            return await self._capture(exchange, earlier, metadata, force_profile=PROFILE_NOT_MODIFIED,
                                       prefer_run=True)
        dedupe = dedupe and exchange.truncated is None
        earlier = None
        if dedupe and self._earlier_capture is not None:
            earlier = self._earlier_capture(exchange.url)     # the state store: on the event loop, not the thread
        return await self._capture(exchange, earlier, metadata, dedupe=dedupe, digested=True)

    async def write_revisit(self, exchange: Exchange, *, profile: str, refers_to: CaptureRef | None,
                            metadata: Sequence[tuple[str, str]] | None = None) -> CaptureResult:
        """Write a revisit of the given profile whatever the digests say (the caller decided)."""
        return await self._capture(exchange, refers_to, metadata, force_profile=profile, prefer_run=False,
                                   digested=profile == PROFILE_IDENTICAL)

    async def write_record(self, record: Record) -> RecordLocation:
        """Write any prepared record (a resource, a log) into the current file."""
        locations = await self._submit(lambda _info_id: self._write([record]))
        return locations[0]

    async def checkpoint(self) -> None:
        """fsync the open file: every location returned so far is now durable."""
        await self._submit(self._sync)

    def statistics(self) -> WriterStatistics:
        current = self._file.size if self._file is not None else 0
        return WriterStatistics(self._records, self._closed_bytes + current, self._responses, self._revisits,
                                len(self._closed_paths), self._file.name if self._file else None,
                                self._send.statistics().current_buffer_used)

    @property
    def closed_files(self) -> tuple[Path, ...]:
        return tuple(self._closed_paths)

    # -- inside the owner's thread -----------------------------------------------------------------

    async def _capture(self, exchange: Exchange, earlier: CaptureRef | None,
                       metadata: Sequence[tuple[str, str]] | None, *, force_profile: str | None = None,
                       dedupe: bool = True, prefer_run: bool = True, digested: bool = False) -> CaptureResult:
        """One job in the writer's thread: digest (``digested``), decide response or revisit, write.

        The payload digest is read in its own pass only when there is a capture to compare it
        with; otherwise :func:`capture_records` computes it in the pass of the block digest.
        """
        box: dict[str, Any] = {}

        def work(info_id: str) -> list[RecordLocation]:
            ref = (self._seen.get(exchange.url) or earlier) if prefer_run else earlier
            profile = force_profile
            digest: str | None = None
            if digested and (profile is not None or (dedupe and ref is not None)):
                digest = payload_digest(exchange.body, exchange.body_length, self.digest)
            if profile is None and dedupe and ref is not None and ref.payload_digest == digest:
                profile = PROFILE_IDENTICAL
            if profile is None:
                pair = capture_records(exchange, new_id=self._new_id, algorithm=self.digest,
                                       warcinfo_id=info_id, payload_digest_value=digest)
                digest = pair.response.header("WARC-Payload-Digest") if digested else None
            else:
                pair = revisit_record(exchange, profile=profile, refers_to=ref, new_id=self._new_id,
                                      algorithm=self.digest, warcinfo_id=info_id, payload_digest_value=digest)
                box["ref"] = ref
            records = list(pair.records)
            if metadata is not None:
                records.append(metadata_record(exchange.url, metadata, date=exchange.date, record_id=self._new_id(),
                                               concurrent_to=pair.response.record_id, algorithm=self.digest,
                                               warcinfo_id=info_id))
            locations = self._write(records)
            if profile is None:
                self._responses += 1
                loc = locations[0]
                if digest is not None and exchange.truncated is None:
                    self._remember(CaptureRef(exchange.url, loc.record_id, loc.date, digest))
            else:
                self._revisits += 1
            return locations

        size = exchange.body_length
        inline = size < STORE_MIN_BYTES or (size <= INLINE_MAX_BYTES and stores_payload(size, exchange.read_body(12)))
        locations = await self._submit(work, inline=inline)
        response = locations[0]
        return CaptureResult(response, locations[1], locations[2] if len(locations) > 2 else None,
                             response.payload_digest, box.get("ref"))

    def _remember(self, ref: CaptureRef) -> None:
        self._seen[ref.url] = ref
        self._seen.move_to_end(ref.url)
        if len(self._seen) > RUN_MEMORY:
            self._seen.popitem(last=False)

    def _write(self, records: Sequence[Record]) -> list[RecordLocation]:
        if self._file is None:
            raise RuntimeError("no open file")  # _run_job opens one first
        locations = self._file.write(records)
        self._records += len(records)
        return locations

    def _sync(self, _info_id: str) -> list[RecordLocation]:
        if self._file is not None:
            self._file.sync()
        return []

    def _open_file(self) -> None:
        when = self._now()
        name = warc_filename(self.prefix, when, next_serial(self.directory, self.prefix), self._host,
                             gzip=self.gzip_level > 0)
        self._file = WarcFile(self.directory, name, gzip_level=self.gzip_level, index_dir=self.index_dir)
        self._warcinfo_id = self._new_id()
        info = warcinfo_record(name, self._warcinfo, date=when, record_id=self._warcinfo_id, algorithm=self.digest)
        self._write([info])

    def _close_file(self) -> None:
        if self._file is not None:
            f, self._file = self._file, None
            self._closed_bytes += f.size
            self._closed_paths.append(f.close())

    def _run_job(self, work: Callable[[str], list[RecordLocation]]) -> list[RecordLocation]:
        if work == self._sync and self._file is None:
            return []
        if self._file is None:
            self._open_file()
        result = work(self._warcinfo_id)
        if self._file is not None and self._file.size >= self.rollover_bytes:
            self._close_file()
        return result

    # -- the owner task ----------------------------------------------------------------------------

    async def _submit(self, work: Callable[[str], list[RecordLocation]], *, inline: bool = False) -> list[RecordLocation]:
        if self._broken is not None:
            raise RuntimeError(f"WARC writer stopped after an error: {self._broken!r}") from self._broken
        if inline and self._idle():
            # nothing queued, nothing running: write here, without the two scheduler rounds of a hop to
            # the owner task and back (at a few hundred pages a second, those rounds were the consumer's
            # pace, and a full results channel kept hosts waiting)
            try:
                result, full = self._inline_write(work)
            except Exception as exc:
                self._broken = exc
                raise
            if full:
                await self._submit(_NOTHING)     # the owner closes the file (in its thread) before any next job
            return result
        job = _Job(work, trio.Event(), inline)
        await self._send.send(job)
        await job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    async def _own(self) -> None:
        async with self._receive:
            async for job in self._receive:
                if self._broken is not None:
                    job.error = RuntimeError(f"WARC writer stopped after an error: {self._broken!r}")
                else:
                    self._busy = True
                    try:
                        if job.inline and self._file is not None and self._inline_paused == 0:
                            job.result, full = self._inline_write(job.work)
                            if full:
                                await trio.to_thread.run_sync(self._close_file)
                        else:
                            if job.inline:
                                self._inline_paused = max(0, self._inline_paused - 1)
                            job.result = await trio.to_thread.run_sync(self._run_job, job.work)
                    except Exception as exc:   # disk full, a bug: the caller re-raises it
                        self._broken = job.error = exc
                    finally:
                        self._busy = False
                job.done.set()

    def _idle(self) -> bool:
        """Whether a job may run in its caller's task: the owner runs nothing and has nothing queued."""
        return (not self._busy and self._file is not None and self._inline_paused == 0
                and self._file.size < self.rollover_bytes and self._send.statistics().current_buffer_used == 0)

    def _inline_write(self, work: Callable[[str], list[RecordLocation]]) -> tuple[list[RecordLocation], bool]:
        """Run ``work`` here, on the event loop; also whether the file is now due to close.

        A write slower than :data:`INLINE_STALL_SECONDS` (a disk under pressure) sends the next
        :data:`INLINE_PAUSE_JOBS` inline jobs to the thread.
        """
        assert self._file is not None
        started = _clock()
        result = work(self._warcinfo_id)
        if _clock() - started > INLINE_STALL_SECONDS:
            self._inline_paused = INLINE_PAUSE_JOBS
        return result, self._file.size >= self.rollover_bytes

    async def _finish(self) -> None:
        with trio.CancelScope(shield=True):
            if self._broken is None:
                await trio.to_thread.run_sync(self._close_file)
            elif self._file is not None:
                # after an error the file stays .open: recover() keeps its complete records
                self._file.abandon()
                self._file = None


@asynccontextmanager
async def open_warc_writer(directory: str | os.PathLike[str], *, prefix: str = "citecrawl", gzip_level: int = 6,
                           rollover_bytes: int = 1_000_000_000, digest: DigestAlgorithm = "sha1",
                           warcinfo: Sequence[tuple[str, str]] | Mapping[str, Any] = (),
                           index_dir: str | os.PathLike[str] | None = None,
                           earlier_capture: Callable[[str], CaptureRef | None] | None = None,
                           new_id: Callable[[], str] = new_record_id,
                           now: Callable[[], datetime] = lambda: datetime.now(UTC),
                           host: str | None = None, queue: int = 8) -> AsyncIterator[WarcWriter]:
    """A :class:`WarcWriter` whose owner task lives as long as this block.

    ``index_dir`` defaults to ``directory/../indexes`` (the collection layout);
    ``earlier_capture(url)`` is the state store's lookup for cross-run revisits.
    """
    d = Path(directory)
    await trio.to_thread.run_sync(lambda: d.mkdir(parents=True, exist_ok=True))
    writer = WarcWriter(d, prefix=prefix, gzip_level=gzip_level, rollover_bytes=rollover_bytes, digest=digest,
                        warcinfo=warcinfo, index_dir=Path(index_dir) if index_dir is not None else d.parent / "indexes",
                        earlier_capture=earlier_capture, new_id=new_id, now=now, host=host or crawl_host(),
                        queue=queue)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(writer._own)
            try:
                yield writer
            finally:
                with trio.CancelScope(shield=True):
                    await writer._send.aclose()   # the owner drains what was queued, then ends
    except BaseExceptionGroup as group:
        # the owner never raises, so a group holds the caller's own exception: give it back unwrapped
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
    finally:
        await writer._finish()
