"""Turns for work that can wait: it runs when every other task of the run is blocked.

A run is one trio event loop, and trio is fair: every runnable task takes one step a scheduler
round, and every await that completes at once (a lock taken, bytes sent) still yields, so a task
waits a whole round at each. A fetch passes about a dozen such awaits between the end of one
response and its host's next request on the wire (httpcore's locks, the politeness core's turn,
a new task). When another task's step in the round is long (archiving a result and recording it
take ~0.5 ms each), every one of those rounds is long. Worse, under that round robin the fetches
whose responses arrived together all finish together, send their next requests together, and
get their next responses together: the bunching never dissolves. Measured with 20 hosts at 50 ms
a response, one connection each: from a response's end to its host's next request took 7–9 ms
on average (1.7 ms with one host), and the crawl proper (first request to last response)
made 83–86 % of the bound.

Two changes undo it. Fetches finish their responses one at a time, in the order the bodies
ended (the lane of :func:`crawler.fetch.fetch_hop`). And the consumer of results (WARC records,
state, report) takes its steps through :meth:`IdleTurns.wait_turn`, which returns only at a
moment when every other task is blocked (on the network, a timer, a thread or a lock), to one
waiter per such moment, first come first served (trio's ``wait_all_tasks_blocked`` would wake
them all at once, and their steps would make one long round again). A result waits a few
milliseconds at no cost; a request held costs its host that time. Together: 2–4 ms from a
response to the next request, 91–92 % of the bound (``scripts/bench --parts latency``,
capture-only, origin-side).

Nothing starves: fetches end up blocked on the network, or on the crawler's backlog of results
not yet taken, which only the consumer frees; the consumer stops waiting for turns when results
pile up (:data:`crawler.pipeline.KEEPING_UP`); and a wait has a ``patience`` (a fetch streaming
a large body from a fast server may leave no idle moment until it ends).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import trio

try:    # trio.testing's function, without trio.testing's imports (pytest among them: ~90 ms and ~9 MB)
    from trio._core import wait_all_tasks_blocked
except ImportError:                             # pragma: no cover (a trio that moved it)
    from trio.testing import wait_all_tasks_blocked

__all__ = ["IdleTurns", "IdleTurnsStatistics", "open_idle_turns"]


@dataclass(frozen=True, slots=True)
class IdleTurnsStatistics:
    waiting: int        # tasks waiting for a turn
    given: int          # turns given so far
    lapsed: int         # waits that ended without a turn (out of patience, or cancelled)


class IdleTurns:
    """Low-priority turns on the event loop; see the module docstring. Made by :func:`open_idle_turns`."""

    def __init__(self) -> None:
        self._waiting: deque[trio.Event] = deque()
        self._someone = trio.Event()
        self._serving = False
        self._given = 0
        self._lapsed = 0

    async def wait_turn(self, *, patience: float = math.inf) -> None:
        """Return when every other task is blocked, or after ``patience`` seconds without such a
        moment (a checkpoint only, once the turns are closed)."""
        if not self._serving:
            await trio.lowlevel.checkpoint()
            return
        event = trio.Event()
        self._waiting.append(event)
        self._someone.set()
        try:
            with trio.move_on_after(patience):
                await event.wait()
        finally:
            if not event.is_set():          # out of patience, or cancelled: out of the queue
                self._waiting.remove(event)
                self._lapsed += 1

    def statistics(self) -> IdleTurnsStatistics:
        return IdleTurnsStatistics(waiting=len(self._waiting), given=self._given, lapsed=self._lapsed)

    async def _serve(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._serving = True
        task_status.started()
        try:
            while True:
                if not self._waiting:
                    await self._someone.wait()
                    self._someone = trio.Event()
                    continue
                # cushion 0: the moment the run queue is empty and no I/O is ready
                await wait_all_tasks_blocked()
                if self._waiting:           # its waiter may have been cancelled meanwhile
                    self._waiting.popleft().set()
                    self._given += 1
        finally:
            self._serving = False
            while self._waiting:            # closing: whoever still waits goes on at once
                self._waiting.popleft().set()


@asynccontextmanager
async def open_idle_turns() -> AsyncIterator[IdleTurns]:
    """Idle turns for the body of the ``async with``: a task gives them out, and stops at its end."""
    turns = IdleTurns()
    async with trio.open_nursery() as nursery:
        await nursery.start(turns._serve)
        try:
            yield turns
        finally:
            nursery.cancel_scope.cancel()
