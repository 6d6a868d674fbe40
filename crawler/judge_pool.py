"""Judging processes fed from the event loop over pipes: a run's judging on every core.

Extraction and comparison are CPU work; a large run hands them to one process per core
(:func:`crawler.judging.serve`). Each process reads jobs on its stdin and writes verdicts
on its stdout as frames (:mod:`crawler.frames`); this side writes and reads those pipes on
the event loop itself. There is no thread in this process: the pool it replaces
(``concurrent.futures.ProcessPoolExecutor``) moved every job through a manager thread and a
feeder thread that took the GIL from the event loop (about a tenth of the main process's
CPU in a full archive, py-spy ``--gil``), and a job's round trip took ~11 ms, so two jobs in
flight per process left the processes idle two thirds of the time.

A job goes to the process with the fewest jobs in flight. How many are in flight at once is
the caller's to bound (the pipeline holds a semaphore).

Errors: a job that raised in its process is :class:`JudgingError`, with that process's
traceback (a bug: the caller lets it propagate). A process that ended with jobs in flight
(killed, out of memory) fails them with :class:`JudgeGone`, and the pool stops using it; the
others take the next jobs, and with none left every job fails that way. Leaving
``open_judge_pool`` closes the processes' stdin, which ends them; one that does not end
within :data:`CLOSE_GRACE` seconds is killed. The processes ignore SIGINT from the start:
Ctrl-C is the parent's to handle (it drains the jobs in flight, then closes the pool).
"""

from __future__ import annotations

import io
import itertools
import signal
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import trio

from archive.verdicts import UrlVerdict
from crawler import child_command
from crawler.config import Config
from crawler.corpus import CitedUrl
from crawler.frames import FrameBuffer, FrameError, encode_frame
from crawler.outcomes import FetchResult
from crawler.scanned import Document

__all__ = ["CLOSE_GRACE", "JudgeGone", "JudgePool", "JudgingError", "open_judge_pool"]

#: seconds a judging process gets to end after its stdin closed, before it is killed
CLOSE_GRACE = 10.0

#: how much nicer than the run a judging process is (``os.nice``): the event loop's latency is every
#: host's turnaround, and judging is batch work with a bounded queue, so judging yields the CPU to it
JUDGE_NICENESS = 10
#: a judging process: nicer, deaf to Ctrl-C; then serve, and end without tearing the interpreter
#: down (crawler.cli.exit_now: ~50 ms less for the run's end)
_BOOT = ("import os, signal; hasattr(os, 'nice') and os.nice({nice}); signal.signal(signal.SIGINT, signal.SIG_IGN); "
         "from crawler.cli import exit_now; from crawler.judging import serve; serve(); exit_now(0)")


class JudgingError(Exception):
    """A URL could not be judged: its job raised in the judging process (the traceback is in the message)."""


class JudgeGone(JudgingError):
    """A URL could not be judged: its judging process ended (``why``), or none is left."""

    def __init__(self, url: str, why: str) -> None:
        super().__init__(f"judging {url}: {why}")
        self.why = why


@dataclass(eq=False)
class _Slot:
    done: trio.Event = field(default_factory=trio.Event)
    ok: bool = False
    value: Any = None


@dataclass(eq=False)
class _Worker:
    process: trio.Process
    send_lock: trio.Lock = field(default_factory=trio.Lock)
    pending: dict[int, _Slot] = field(default_factory=dict)
    gone: str | None = None            # why it no longer takes jobs


def _in_memory(result: FetchResult) -> FetchResult:
    """A copy of ``result`` that pickles: the final body in memory, earlier hops' bodies empty."""
    last = len(result.hops) - 1
    hops = tuple(replace(h, body=io.BytesIO(h.read_body() if i == last else b"")) for i, h in enumerate(result.hops))
    return replace(result, hops=hops)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class JudgePool:
    """The running judging processes; see the module docstring. Made by :func:`open_judge_pool`."""

    def __init__(self, workers: list[_Worker]) -> None:
        self._workers = workers
        self._ids = itertools.count()

    @property
    def pids(self) -> tuple[int, ...]:
        return tuple(w.process.pid for w in self._workers)

    async def judge(self, cited: CitedUrl, docs: Sequence[Document], result: FetchResult) -> UrlVerdict:
        """``result``'s verdict, judged in a process.

        Its final body is read into memory (earlier hops' are left out: judging does not read
        them) only when the job's turn on the pipe comes, and dropped once sent: however many
        jobs wait, at most one body per process is held here.
        """
        url = result.url
        live = [w for w in self._workers if w.gone is None]
        if not live:
            raise JudgeGone(url, f"no judging process left ({'; '.join(str(w.gone) for w in self._workers)})")
        worker = min(live, key=lambda w: len(w.pending))
        job = next(self._ids)
        slot = worker.pending[job] = _Slot()
        try:
            try:
                async with worker.send_lock:
                    frame = encode_frame((job, cited, docs, _in_memory(result)))
                    await worker.process.stdin.send_all(frame)  # type: ignore[union-attr]
                    del frame
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass        # the process is gone: its reader fails the slot when it sees the end
            await slot.done.wait()
        finally:
            worker.pending.pop(job, None)
        if not slot.ok:
            if worker.gone is not None and slot.value == worker.gone:
                raise JudgeGone(url, worker.gone)
            raise JudgingError(f"judging {url}: {slot.value}")
        verdict: UrlVerdict = slot.value
        return verdict


async def _read(worker: _Worker) -> None:
    """Hand each verdict to its job; at the end of the output, fail the jobs still in flight."""
    frames = FrameBuffer()
    stdout = worker.process.stdout
    assert stdout is not None
    why = ""
    try:
        async for data in stdout:
            for job, ok, value in frames.feed(data):
                slot = worker.pending.get(job)
                if slot is not None:        # (a job whose caller was cancelled is dropped)
                    slot.ok, slot.value = ok, value
                    slot.done.set()
    except FrameError as exc:
        why = f"its output broke the framing ({exc})"
        worker.process.kill()
    except trio.BrokenResourceError:
        pass
    code = await worker.process.wait()
    worker.gone = f"a judging process ended ({why or _exit_text(code)})"
    for slot in worker.pending.values():
        slot.ok, slot.value = False, worker.gone
        slot.done.set()


async def _start(config: Config, root: str | None) -> _Worker:
    process = await trio.lowlevel.open_process(child_command(_BOOT.format(nice=JUDGE_NICENESS)),
                                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    worker = _Worker(process)
    assert process.stdin is not None
    await process.stdin.send_all(encode_frame((config, root)))
    return worker


@asynccontextmanager
async def open_judge_pool(workers: int, config: Config, root: str | None) -> AsyncIterator[JudgePool]:
    """Start ``workers`` judging processes for the body of the ``async with``; end them after it."""
    started: list[_Worker] = []
    try:
        async with trio.open_nursery() as nursery:
            for _ in range(workers):
                worker = await _start(config, root)
                started.append(worker)
                nursery.start_soon(_read, worker)
            pool = JudgePool(started)
            try:
                yield pool
            finally:
                with trio.CancelScope(shield=True):
                    await _close(started)
    finally:
        for worker in started:          # cancelled before they were closed: do not leave them behind
            if worker.process.returncode is None:
                worker.process.kill()


async def _close(workers: list[_Worker]) -> None:
    for worker in workers:
        if worker.process.stdin is not None:
            await worker.process.stdin.aclose()
    with trio.move_on_after(CLOSE_GRACE):
        for worker in workers:
            await worker.process.wait()
    for worker in workers:
        if worker.process.returncode is None:
            worker.process.kill()
