"""The politeness core: who may be fetched next, and when. Sans-I/O.

No trio, no httpx, no clock of its own: every method takes ``now`` (seconds on
any monotonic clock; the crawler passes ``trio.current_time()``) and returns a
decision, so the rules are tested as tables of plain numbers.

The rules (numbers in :class:`Rules`, defaults from ``[politeness]``):

* one queue per host; at most ``per_host`` requests in flight to a host and at
  most ``concurrency`` in flight overall;
* a gap from the END of one response to the START of the next request on the
  same host. The gap is ``max(delay, Crawl-delay)`` plus a random share of up to
  ``jitter`` of it: the configured delay is a floor, so the configured rate is
  never exceeded and no two crawlers stay in lock-step;
* robots.txt ``Crawl-delay`` raises the gap up to ``max_crawl_delay``; a host
  asking for more is deferred to a later run (its queue comes back to the caller);
* ``Retry-After`` (already converted to seconds) pauses the host up to
  ``max_retry_after``; a URL asked to wait longer is deferred
  (:meth:`Politeness.retry_wait` returns ``None``);
* back-off: the n-th retry of a URL waits about ``backoff_base * 2**(n-1)``
  (``backoff_max`` at most), with jitter in ``[half, full]``;
* adaptive slow-down: each consecutive error adds to a host's gap (doubling from
  ``backoff_base`` up to ``backoff_max``); each success halves the addition until
  the host is back at its configured floor;
* fairness: hosts wait in a heap ordered by the time they became ready, so the
  host ready first goes first and a slow host (a long gap, a long response) never
  holds up the others: it is simply not in the heap while it waits.

Items are opaque to the core (the crawler queues its own work units); the core
only counts them per host.
"""

from __future__ import annotations

import email.utils
import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from crawler.config import PolitenessConfig

__all__ = ["Politeness", "PolitenessStatistics", "Rules", "parse_retry_after"]

T = TypeVar("T")

#: an adaptive slow-down below this many seconds is dropped: the host is back at its floor
_RECOVERED = 0.01


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delay-seconds or HTTP-date); ``None`` if absent or unreadable.

    A date in the past gives a negative number (the caller treats it as 0).

    >>> now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    >>> parse_retry_after("120", now=now)
    120.0
    >>> parse_retry_after("Wed, 01 Jan 2025 12:01:30 GMT", now=now)
    90.0
    >>> parse_retry_after("soon", now=now) is None
    True
    >>> parse_retry_after("\u00b2", now=now) is None     # a digit to str.isdigit, not to float()
    True
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():     # str.isdigit() also takes '²' and '١', which float() refuses
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """The numbers the core applies; see the module docstring for what each one does."""

    concurrency: int = 16
    per_host: int = 1
    delay: float = 1.0
    jitter: float = 0.5
    max_crawl_delay: float = 30.0
    max_retry_after: float = 600.0
    backoff_base: float = 2.0
    backoff_max: float = 300.0

    @classmethod
    def from_config(cls, p: PolitenessConfig) -> Rules:
        return cls(
            concurrency=p.concurrency, per_host=p.per_host, delay=p.delay, jitter=p.jitter,
            max_crawl_delay=p.max_crawl_delay, max_retry_after=p.max_retry_after,
            backoff_base=p.backoff_base, backoff_max=p.backoff_max,
        )


@dataclass(frozen=True, slots=True)
class PolitenessStatistics:
    """A snapshot for progress displays: queued items per host (non-empty queues only)."""

    queued: Mapping[str, int]
    in_flight: int
    hosts_waiting: int           # hosts with work queued that are not ready yet (gap, back-off, busy)
    hosts_deferred: tuple[str, ...]


class _Host(Generic[T]):
    __slots__ = ("crawl_delay", "deferred", "entry_at", "errors", "in_flight", "last_end", "name", "queue",
                 "ready_at", "slowdown", "token")

    def __init__(self, name: str, now: float) -> None:
        self.name = name
        self.queue: deque[T] = deque()
        self.in_flight = 0
        self.ready_at = now
        self.last_end: float | None = None   # when the last response on this host ended
        self.crawl_delay = 0.0
        self.slowdown = 0.0
        self.errors = 0
        self.deferred = False
        self.token: int | None = None   # sequence number of this host's live heap entry
        self.entry_at = 0.0             # the ready time that entry was pushed with


class Politeness(Generic[T]):
    """Per-host queues and the decisions of the module docstring.

    >>> p = Politeness(Rules(delay=1.0, jitter=0.0))
    >>> p.add("a.example", "a1", now=0.0), p.add("a.example", "a2", now=0.0)
    (True, True)
    >>> p.next_ready(0.0)
    ('a1', None)
    >>> p.next_ready(0.0)             # a1 is in flight: nothing to do, no timer
    (None, None)
    >>> p.finished("a.example", 0.5)  # response ended at 0.5: next start at 1.5
    >>> p.next_ready(1.0)
    (None, 1.5)
    >>> p.next_ready(1.5)
    ('a2', None)
    """

    def __init__(self, rules: Rules, *, rng: random.Random | None = None) -> None:
        self.rules = rules
        self._rng = rng if rng is not None else random.Random()
        self._hosts: dict[str, _Host[T]] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._in_flight = 0
        self._queued = 0

    # -- queueing --------------------------------------------------------------------------------

    def add(self, host: str, item: T, *, now: float) -> bool:
        """Queue ``item`` at the back of ``host``'s queue; ``False`` (not queued) if the host is deferred."""
        h = self._host(host, now)
        if h.deferred:
            return False
        h.queue.append(item)
        self._queued += 1
        self._schedule(h)
        return True

    def add_front(self, host: str, item: T, *, now: float, not_before: float | None = None) -> bool:
        """Queue ``item`` first on ``host`` (a retry or a redirect hop: work already begun).

        It still waits for the host's gap, in-flight limit and ``not_before`` (a
        back-off pauses the whole host): going first in its own queue never lets
        it jump the host's turn.
        """
        h = self._host(host, now)
        if h.deferred:
            return False
        if not_before is not None and not_before > h.ready_at:
            h.ready_at = not_before
        h.queue.appendleft(item)
        self._queued += 1
        self._schedule(h)
        return True

    def next_ready(self, now: float) -> tuple[T | None, float | None]:
        """The next item to start now (counted in flight from here), or when to ask again.

        ``(item, None)``: start it. ``(None, t)``: nothing is ready before ``t``.
        ``(None, None)``: nothing will be ready until something finishes or is added.
        """
        if self._in_flight >= self.rules.concurrency:
            return None, None
        while self._heap:
            ready_at, token, name = self._heap[0]
            h = self._hosts[name]
            if h.token != token:        # stale entry: the host was rescheduled or emptied
                heapq.heappop(self._heap)
                continue
            if ready_at > now:
                return None, ready_at
            heapq.heappop(self._heap)
            h.token = None
            item = h.queue.popleft()
            self._queued -= 1
            h.in_flight += 1
            self._in_flight += 1
            self._schedule(h)
            return item, None
        return None, None

    # -- feedback --------------------------------------------------------------------------------

    def finished(self, host: str, now: float, *, ok: bool = True, retry_after: float | None = None) -> None:
        """A request to ``host`` ended (its response is complete, or it failed) at ``now``.

        ``ok=False`` for an overload sign (connect error, timeout, 429, 5xx):
        it slows the host down; ``ok=True`` lets it recover. ``retry_after``
        (seconds) pauses the host, capped at ``max_retry_after``.
        """
        h = self._hosts[host]
        self._release(h)
        h.last_end = now
        r = self.rules
        if ok:
            h.errors = 0
            h.slowdown = h.slowdown / 2 if h.slowdown / 2 >= _RECOVERED else 0.0
        else:
            h.errors += 1
            h.slowdown = min(r.backoff_max, max(r.backoff_base, h.slowdown * 2))
        ready = now + self.gap(host)
        if retry_after is not None:
            ready = max(ready, now + min(max(retry_after, 0.0), r.max_retry_after))
        h.ready_at = max(h.ready_at, ready)
        self._schedule(h)

    def release(self, host: str) -> None:
        """Give back a slot that was granted but not used for a request (no gap follows)."""
        h = self._hosts[host]
        self._release(h)
        self._schedule(h)

    def gap(self, host: str) -> float:
        """A fresh draw of the wait after a response on ``host``: floor, jitter and slow-down."""
        h = self._hosts.get(host)
        floor = max(self.rules.delay, h.crawl_delay if h else 0.0)
        return floor * (1.0 + self.rules.jitter * self._rng.random()) + (h.slowdown if h else 0.0)

    def retry_wait(self, attempt: int, *, retry_after: float | None = None) -> float | None:
        """Seconds before retrying after failed attempt number ``attempt`` (1-based); ``None``: defer.

        A server's ``Retry-After`` is obeyed as given (it is the server's wish)
        unless it exceeds ``max_retry_after``, which defers the URL to a later run.
        Otherwise exponential back-off with jitter in ``[half, full]``.
        """
        r = self.rules
        if retry_after is not None:
            return None if retry_after > r.max_retry_after else max(retry_after, 0.0)
        exponent = min(attempt - 1, 64)
        full = min(r.backoff_base * math.pow(2.0, exponent), r.backoff_max)
        return full / 2 + self._rng.random() * full / 2

    # -- robots.txt and deferral ---------------------------------------------------------------------

    def set_crawl_delay(self, host: str, seconds: float, *, now: float) -> bool:
        """Apply a robots.txt Crawl-delay; ``False`` if it exceeds the cap (defer the host)."""
        h = self._host(host, now)
        if seconds > self.rules.max_crawl_delay:
            return False
        h.crawl_delay = max(0.0, seconds)
        if h.last_end is not None and h.last_end + h.crawl_delay > h.ready_at:
            h.ready_at = h.last_end + h.crawl_delay   # robots.txt itself was the last response
            self._schedule(h)
        return True

    def defer_host(self, host: str, *, now: float) -> list[T]:
        """Stop serving ``host`` for this run; returns its queued items (to report as deferred)."""
        h = self._host(host, now)
        h.deferred = True
        return self._empty(h)

    def is_deferred(self, host: str) -> bool:
        h = self._hosts.get(host)
        return h is not None and h.deferred

    def drain(self) -> list[T]:
        """Remove and return every queued item (a stop: nothing new starts)."""
        items: list[T] = []
        for h in self._hosts.values():
            items.extend(self._empty(h))
        return items

    # -- state -----------------------------------------------------------------------------------

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def queued(self) -> int:
        return self._queued

    def idle(self, host: str) -> bool:
        """Nothing queued for ``host`` and nothing in flight (its connections may be closed)."""
        h = self._hosts.get(host)
        return h is None or (not h.queue and h.in_flight == 0)

    def crawl_delay(self, host: str) -> float:
        h = self._hosts.get(host)
        return h.crawl_delay if h else 0.0

    def slowdown(self, host: str) -> float:
        """Seconds currently added to ``host``'s gap by the adaptive slow-down."""
        h = self._hosts.get(host)
        return h.slowdown if h else 0.0

    def statistics(self, now: float) -> PolitenessStatistics:
        queued = {h.name: len(h.queue) for h in self._hosts.values() if h.queue}
        waiting = sum(1 for h in self._hosts.values()
                      if h.queue and (h.ready_at > now or h.in_flight >= self.rules.per_host))
        return PolitenessStatistics(
            queued=MappingProxyType(queued),
            in_flight=self._in_flight,
            hosts_waiting=waiting,
            hosts_deferred=tuple(sorted(h.name for h in self._hosts.values() if h.deferred)),
        )

    # -- internals -------------------------------------------------------------------------------

    def _host(self, name: str, now: float) -> _Host[T]:
        h = self._hosts.get(name)
        if h is None:
            h = self._hosts[name] = _Host(name, now)
        return h

    def _release(self, h: _Host[T]) -> None:
        if h.in_flight <= 0:
            raise RuntimeError(f"politeness: {h.name} has no request in flight to finish")
        h.in_flight -= 1
        self._in_flight -= 1

    def _empty(self, h: _Host[T]) -> list[T]:
        items = list(h.queue)
        h.queue.clear()
        self._queued -= len(items)
        h.token = None
        return items

    def _schedule(self, h: _Host[T]) -> None:
        """(Re)enter ``h`` in the heap at its ready time if it has work and a free slot."""
        if h.queue and not h.deferred and h.in_flight < self.rules.per_host:
            if h.token is not None and h.entry_at == h.ready_at:
                return                  # already waiting in the heap at the right time: keep its place
            token = next(self._seq)
            h.entry_at = h.ready_at
            h.token = token
            heapq.heappush(self._heap, (h.ready_at, token, h.name))
        else:
            h.token = None
