"""The trio shell of fetching: asks the politeness core what to start, starts it, reports results.

One :class:`Crawler` runs one nursery (inside :meth:`Crawler.run`). Its main
task is a dispatcher: it asks :class:`~crawler.politeness.Politeness` for the
next ready item, sleeps until the core's wake time or until something changes,
and either starts a task for a requested URL or wakes a task waiting for its
host's turn. Every request on the wire — first hops, redirect hops, retries,
robots.txt — is granted by the core, so a redirect to another host waits for
that host's gap, and a retry never jumps its host's queue.

Retries use tenacity (``AsyncRetrying``: ``stop_after_attempt``,
``retry_if_result``) with its ``sleep`` hook replaced by "wait for the host's
turn through the core": the wait it computes is the core's back-off or the
server's ``Retry-After``, applied as a pause of the host. It is set up only
once a first attempt failed transiently (most requests need no retry, and
building the retrying object cost more than the rest of the bookkeeping).

Each requested URL ends as one :class:`~crawler.outcomes.FetchResult` on the
results channel; each robots.txt fetched as one with ``kind="robots"``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import httpx
import tenacity
import trio

from archive.exchange import Exchange
from crawler.addresses import literal_ip, refusal
from crawler.clients import ClientFactory
from crawler.config import Config
from crawler.fetch import HopFailure, fetch_hop, without_fragment
from crawler.outcomes import TRANSIENT, Attempt, FetchResult, Outcome, RobotsDecision
from crawler.politeness import Politeness, Rules, parse_retry_after
from crawler.robots import RobotsPolicy, origin_of, robots_url

__all__ = ["CrawlRequest", "CrawlStatistics", "Crawler", "host_key"]

#: statuses retried as transient failures (with connect errors and timeouts)
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: redirect hops followed for a robots.txt (RFC 9309 asks for at least five)
ROBOTS_REDIRECTS = 5
#: robots.txt failures that are the host's, not its robots.txt's: every page of the origin gets this
#: outcome (a certificate that fails for robots.txt fails for the page; a host that refuses
#: connections is down, not forbidding), not "robots_disallowed". A robots.txt that times out or
#: breaks off stays "robots_disallowed": the host answers, its robots.txt does not (RFC 9309).
_ROBOTS_BLOCKING = frozenset({Outcome.DNS, Outcome.ADDRESS_REFUSED, Outcome.TLS, Outcome.CONNECT})
#: pages fetched or being fetched but not yet taken by the consumer, per slot of politeness.concurrency
BACKLOG_PER_SLOT = 2
#: requests read ahead into the politeness core's per-host queues; the rest wait unread in the
#: caller's iterable, so a run's memory does not grow with its number of URLs (a thousand is enough
#: to keep every host of an interleaved corpus busy; jobs parked on the backlog count in it)
QUEUE_WINDOW = 1024
#: requests read into the core per turn of the dispatcher: reading the whole window at once (parsing
#: 1,024 URLs, ~50 ms) held the first requests back; the rest is read between rounds
TOP_UP_SLICE = 128


@dataclass(frozen=True, slots=True)
class CrawlRequest:
    """A URL to fetch, with extra request headers (e.g. ``If-None-Match`` for a scheduled recrawl)."""

    url: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CrawlStatistics:
    queued: Mapping[str, int]          # requests waiting per host (including hops and retries)
    in_flight: int
    done: int                          # page results delivered
    retries: int
    bytes: int                         # body bytes received
    hosts_waiting: int
    hosts_deferred: tuple[str, ...] = ()
    robots_fetched: int = 0


def host_key(url: httpx.URL) -> str:
    """The politeness unit: the host name (ASCII, lower case), any port."""
    return url.raw_host.decode("ascii").lower()


@dataclass(eq=False)
class _Job:
    request: CrawlRequest
    url: httpx.URL
    queued_at: float


@dataclass(eq=False)
class _Turn:
    """A running task waiting for its host's turn (a redirect hop or a retry)."""

    event: trio.Event = field(default_factory=trio.Event)
    cancelled: str | None = None


def _retryable(attempt: _Try) -> bool:
    """A transient failure with a wait the politeness rules allow: tenacity retries it."""
    return attempt.transient and attempt.wait is not None


class _Stopped(Exception):
    """A turn that will not come in this run (stop, or the host was deferred)."""


@dataclass(frozen=True, slots=True)
class _Try:
    result: Exchange | HopFailure
    next_request: httpx.Request | None
    outcome: Outcome
    status: int | None
    transient: bool
    wait: float | None
    error: str | None


class Crawler:
    """Fetches URLs politely; see the module docstring. One :meth:`run` per instance."""

    def __init__(self, config: Config, *, transport: httpx.AsyncBaseTransport | None = None,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self._core: Politeness[_Job | _Turn] = Politeness(Rules.from_config(config.politeness), rng=rng)
        self._factory = ClientFactory(config, transport=transport)
        self._guard_literals = transport is None and bool(self._factory.proxy)
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._robots: dict[str, RobotsPolicy] = {}
        self._robots_blocking: dict[str, tuple[Outcome, str]] = {}
        self._robots_pending: dict[str, trio.Event] = {}
        self._results: trio.MemorySendChannel[FetchResult] | None = None
        self._nursery: trio.Nursery | None = None
        self._wakeup = trio.Event()
        self._backlog = trio.Semaphore(BACKLOG_PER_SLOT * config.politeness.concurrency)
        self._lane = trio.StrictFIFOLock()      # responses closed one at a time: see fetch_hop
        # jobs that gave their slot back to wait for the backlog: neither queued nor in flight in
        # the core, yet their host is still wanted (its client and connections stay open for them)
        self._parked: dict[str, int] = {}
        self._parked_total = 0
        self._unstarted = 0          # jobs handed out whose task has not asked for the backlog yet
        self._turns_waiting = 0      # chains under way waiting for a host's turn (they hold the backlog)
        self._feed: Iterator[CrawlRequest | str] | None = None
        self._stopping = False
        self._active = 0
        self._done = 0
        self._retries = 0
        self._bytes = 0
        self._robots_fetched = 0

    # -- public ------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Start nothing new; fetches in flight finish; what did not start comes back ``deferred``."""
        self._stopping = True
        self._poke()

    def statistics(self) -> CrawlStatistics:
        s = self._core.statistics(trio.current_time())
        return CrawlStatistics(
            queued=s.queued, in_flight=s.in_flight, done=self._done, retries=self._retries, bytes=self._bytes,
            hosts_waiting=s.hosts_waiting, hosts_deferred=s.hosts_deferred, robots_fetched=self._robots_fetched,
        )

    async def run(self, requests: Iterable[CrawlRequest | str],
                  results: trio.MemorySendChannel[FetchResult]) -> None:
        """Fetch every request; send each result (robots.txt too) on ``results``; close it at the end."""
        async with results:
            self._results = results
            try:
                async with trio.open_nursery() as nursery:
                    self._nursery = nursery
                    self._feed = iter(requests)
                    await self._dispatch(nursery)
            finally:
                with trio.CancelScope(shield=True):
                    for client in list(self._clients.values()):
                        await client.aclose()
                    self._clients.clear()

    # -- dispatcher --------------------------------------------------------------------------------

    def _enqueue(self, req: CrawlRequest, now: float, nursery: trio.Nursery) -> None:
        try:
            url = httpx.URL(req.url)
        except httpx.InvalidURL as exc:
            self._spawn_result(nursery, FetchResult(req.url, "page", Outcome.INVALID_URL, error=str(exc)))
            return
        if url.scheme not in ("http", "https"):
            self._spawn_result(nursery, FetchResult(req.url, "page", Outcome.UNSUPPORTED_SCHEME,
                                                    error=f"scheme {url.scheme!r} is not http or https"))
            return
        if not url.raw_host:
            self._spawn_result(nursery, FetchResult(req.url, "page", Outcome.INVALID_URL, error="no host"))
            return
        host = host_key(url)
        if not self._core.add(host, _Job(req, url, now), now=now):
            self._spawn_result(nursery, self._deferred(req.url, f"{host} is deferred for this run"))

    def _top_up(self, nursery: trio.Nursery) -> None:
        """Read requests into the politeness core until it holds :data:`QUEUE_WINDOW` (or they run out)."""
        if self._feed is None:
            return
        now = trio.current_time()
        # jobs parked on the backlog left the core's queue but are read ahead all the same: they count
        room = QUEUE_WINDOW - self._core.queued - self._parked_total     # also bounds those answered at once
        for _ in range(min(room, TOP_UP_SLICE)):
            req = next(self._feed, None)
            if req is None:
                self._feed = None
                return
            self._enqueue(CrawlRequest(req) if isinstance(req, str) else req, now, nursery)

    async def _defer_unread(self, feed: Iterator[CrawlRequest | str]) -> None:
        """After :meth:`stop`: every request not read yet comes back ``deferred``, one at a time."""
        for req in feed:
            await self._deliver(self._deferred(req if isinstance(req, str) else req.url, "stopped before it started"))

    async def _dispatch(self, nursery: trio.Nursery) -> None:
        read = False        # a slice of requests was read since the last await
        while True:
            if self._stopping:
                for queued in self._core.drain():
                    self._cancel(queued, "stopped before it started", nursery)
                if self._feed is not None:
                    nursery.start_soon(self._defer_unread, self._feed)
                    self._feed = None
            elif not read:
                self._top_up(nursery)
                read = True
            if self._backlog.value - self._unstarted <= 0 and self._turns_waiting == 0 and not self._stopping:
                # every backlog slot is taken: a page job handed out now would only park, and a flood of
                # parked jobs empties the hosts' queues into one FIFO line (latency fell to a tenth).
                # Every slot's holder pokes when it lets go, so this wait always ends.
                await self._wakeup.wait()
                self._wakeup = trio.Event()
                read = False
                continue
            item, wake = self._core.next_ready(trio.current_time())
            if isinstance(item, _Turn):
                item.event.set()
                continue
            if item is not None:
                self._active += 1
                self._unstarted += 1
                nursery.start_soon(self._run_job, item)
                continue
            if self._core.queued == 0 and self._active == 0 and self._feed is None:
                return
            if self._feed is not None and self._core.queued + self._parked_total < QUEUE_WINDOW:
                await trio.lowlevel.checkpoint()    # the started tasks run, then the next slice is read
                read = False
                continue
            with trio.move_on_at(wake if wake is not None else math.inf):
                await self._wakeup.wait()
            self._wakeup = trio.Event()
            read = False

    def _poke(self) -> None:
        self._wakeup.set()

    def _cancel(self, item: _Job | _Turn, why: str, nursery: trio.Nursery) -> None:
        if isinstance(item, _Turn):
            item.cancelled = why
            item.event.set()
        else:
            self._spawn_result(nursery, self._deferred(item.request.url, why))

    def _spawn_result(self, nursery: trio.Nursery, result: FetchResult) -> None:
        nursery.start_soon(self._deliver, result)

    async def _deliver(self, result: FetchResult) -> None:
        assert self._results is not None
        if result.kind == "page":
            self._done += 1
        else:
            self._robots_fetched += 1
        await self._results.send(result)

    @staticmethod
    def _deferred(url: str, why: str) -> FetchResult:
        return FetchResult(url, "page", Outcome.DEFERRED, error=why)

    async def _run_job(self, job: _Job) -> None:
        waited = trio.current_time() - job.queued_at
        # at most BACKLOG_PER_SLOT x concurrency pages between "granted" and "taken by the consumer":
        # a slow consumer slows the fetching instead of piling up bodies in memory. A job that must
        # wait for the backlog gives its slot back first and asks for a new turn after: holding the
        # slot while waiting would starve the backlog's holders of turns (redirects, robots.txt).
        granted = True
        self._unstarted -= 1
        try:
            self._backlog.acquire_nowait()
        except trio.WouldBlock:
            granted = False          # waited for below, outside the except block (which holds a traceback)
        if not granted:
            host = host_key(job.url)
            self._core.release(host)
            self._poke()
            self._parked[host] = self._parked.get(host, 0) + 1
            self._parked_total += 1
            try:
                await self._backlog.acquire()
            finally:
                self._parked_total -= 1
                if self._parked[host] == 1:
                    del self._parked[host]
                else:
                    self._parked[host] -= 1
        try:
            try:
                result = await self._chain(job.request.url, job.url, job.request.headers, "page",
                                           granted=granted, waited=waited)
            finally:
                self._active -= 1
                self._poke()
            asked = str(job.url)          # every attempt of a page without redirects: no URL parsed again
            hosts = {host_key(job.url)} | {host_key(httpx.URL(u)) for u in {a.url for a in result.attempts} - {asked}}
            for host in hosts:
                await self._close_if_idle(host)
            await self._deliver(result)
        finally:
            self._backlog.release()
            self._poke()             # the dispatcher may be waiting for a backlog slot

    async def _turn(self, host: str, *, not_before: float | None = None) -> float:
        """Wait until the core grants ``host`` a request slot; seconds waited."""
        start = trio.current_time()
        turn = _Turn()
        if self._stopping:
            raise _Stopped("stopped before the next request")
        if not self._core.add_front(host, turn, now=start, not_before=not_before):
            raise _Stopped(f"{host} is deferred for this run")
        self._poke()
        self._turns_waiting += 1
        try:
            await turn.event.wait()
        finally:
            self._turns_waiting -= 1
        if turn.cancelled is not None:
            raise _Stopped(turn.cancelled)
        return trio.current_time() - start

    def _client(self, host: str) -> httpx.AsyncClient:
        client = self._clients.get(host)
        if client is None:
            client = self._clients[host] = self._factory.new_client(connections=self.config.politeness.per_host)
        return client

    async def _close_if_idle(self, host: str) -> None:
        """Close ``host``'s client once no request of this run will use it again."""
        if host in self._clients and host not in self._parked and self._core.idle(host):
            client = self._clients.pop(host)
            with trio.CancelScope(shield=True):
                await client.aclose()

    # -- one URL: hops, robots, retries -------------------------------------------------------------

    async def _chain(self, asked: str, url: httpx.URL, headers: tuple[tuple[str, str], ...],
                     kind: Literal["page", "robots"],
                     *, granted: bool, waited: float = 0.0) -> FetchResult:
        """Fetch ``url`` hop by hop. ``granted``: the core already gave us a slot on its host."""
        hops: list[Exchange] = []
        attempts: list[Attempt] = []
        robots_on = self.config.politeness.robots and kind == "page"
        decision: RobotsDecision = "allowed" if robots_on or kind == "robots" else "ignored"
        max_hops = self.config.network.max_redirects if kind == "page" else ROBOTS_REDIRECTS
        url = without_fragment(url)
        seen = {str(url)}
        request: httpx.Request | None = None
        holding = host_key(url) if granted else None

        def result(outcome: Outcome, *, status: int | None = None, error: str | None = None,
                   truncated: str | None = None) -> FetchResult:
            return FetchResult(asked, kind, outcome, status=status, final_url=str(url), hops=tuple(hops),
                               attempts=tuple(attempts), robots=decision, error=error, truncated=truncated)

        try:
            for hop in range(max_hops + 1):
                host = host_key(url)
                if url.scheme not in ("http", "https"):
                    return result(Outcome.UNSUPPORTED_SCHEME, error=f"redirect to scheme {url.scheme!r}")
                if robots_on:
                    origin = origin_of(url)
                    if origin not in self._robots:
                        if holding is not None:
                            self._core.release(holding)
                            self._poke()
                            holding = None
                        await self._ensure_robots(origin, url, host)
                    policy = self._robots.get(origin)
                    if policy is None:
                        return result(Outcome.DEFERRED, error="stopped before robots.txt was fetched")
                    blocking = self._robots_blocking.get(origin)
                    if blocking is not None:
                        decision = "unavailable"
                        return result(blocking[0], error=f"robots.txt: {blocking[1]}")
                    decision = policy.decide(str(url))
                    if decision != "allowed":
                        why = "robots.txt disallows it" if decision == "disallowed" else \
                            f"robots.txt unavailable ({policy.note}): nothing fetched from this site this run"
                        return result(Outcome.ROBOTS_DISALLOWED, error=why)
                if self._core.is_deferred(host):
                    return result(Outcome.DEFERRED, error=f"{host} is deferred for this run (Crawl-delay over the cap)")
                if self._guard_literals:
                    refused = _literal_refusal(url, self._factory.backend.allowed)
                    if refused:
                        return result(Outcome.ADDRESS_REFUSED, error=refused)
                if holding is None:
                    waited = await self._turn(host)
                holding = None          # the attempts below release the slot when each one ends
                client = self._client(host)
                if request is None:
                    request = client.build_request("GET", url, headers=list(headers))
                final = await self._attempts(client, request, host, hops, attempts, waited)
                if final.outcome is Outcome.DEFERRED or isinstance(final.result, HopFailure):
                    return result(final.outcome, status=final.status, error=final.error)
                exchange = final.result
                status = exchange.response.status
                if final.next_request is None:
                    outcome = Outcome.OK if 200 <= status < 300 else Outcome.HTTP_ERROR
                    return result(outcome, status=status, truncated=exchange.truncated,
                                  error=None if outcome is Outcome.OK else f"HTTP {status}")
                if hop == max_hops:
                    return result(Outcome.TOO_MANY_REDIRECTS, status=status,
                                  error=f"more than {max_hops} redirects")
                request = final.next_request
                url = without_fragment(request.url)
                key = str(url)
                if key in seen:
                    return result(Outcome.REDIRECT_LOOP, status=status, error=f"redirect back to {key}")
                seen.add(key)
            raise AssertionError("unreachable: the loop returns")  # pragma: no cover
        except _Stopped as exc:
            return result(Outcome.DEFERRED, error=str(exc))
        finally:
            if holding is not None:
                self._core.release(holding)
                self._poke()

    async def _attempts(self, client: httpx.AsyncClient, request: httpx.Request, host: str,
                        hops: list[Exchange], attempts: list[Attempt], waited: float) -> _Try:
        """Send ``request`` (slot already granted), retrying transient failures through the core."""
        net = self.config.network
        numbers = iter(range(1, 1 << 30))
        waits = [waited]        # seconds in the host's queue before the next attempt

        async def once() -> _Try:
            number = next(numbers)
            started = trio.current_time()
            res, nxt = await fetch_hop(client, request, max_body_bytes=net.max_body_bytes,
                                       deadline=net.fetch_deadline, lane=self._lane)
            ended = trio.current_time()
            retry_after: float | None = None
            error: str | None
            if isinstance(res, HopFailure):
                outcome, status, error = res.outcome, None, res.error
                transient = outcome in TRANSIENT
            else:
                hops.append(res)
                self._bytes += res.body_length
                status = res.response.status
                outcome = Outcome.OK if 200 <= status < 400 else Outcome.HTTP_ERROR
                error = None if outcome is Outcome.OK else f"HTTP {status}"
                transient = status in RETRY_STATUSES
                if status in (429, 503):
                    retry_after = parse_retry_after(res.response.header("Retry-After"), now=datetime.now(UTC))
            overload = transient or (status is not None and status >= 500)
            self._core.finished(host, ended, ok=not overload, retry_after=retry_after)
            self._poke()
            wait = self._core.retry_wait(number, retry_after=retry_after) if transient else None
            attempts.append(Attempt(number=number, started=started, finished=ended, outcome=outcome,
                                    status=status, error=error, waited=waits[-1], url=str(request.url)))
            if transient and wait is None:
                outcome = Outcome.DEFERRED
                error = f"Retry-After {retry_after:g} s exceeds politeness.max_retry_after"
            return _Try(res, nxt, outcome, status, transient, wait, error)

        async def wait_turn(seconds: float) -> None:
            self._retries += 1
            waits.append(await self._turn(host, not_before=trio.current_time() + seconds))

        def wait_of(rs: tenacity.RetryCallState) -> float:
            assert rs.outcome is not None
            last: _Try = rs.outcome.result()
            return last.wait or 0.0

        first = await once()
        if not _retryable(first):
            return first        # most requests: nothing to retry, no retrying machinery to build
        made = [first]

        async def attempt() -> _Try:      # tenacity's first attempt is the one made above
            return made.pop() if made else await once()

        retrying = tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self.config.politeness.max_attempts),
            retry=tenacity.retry_if_result(_retryable),
            wait=wait_of,
            sleep=wait_turn,
            retry_error_callback=lambda rs: rs.outcome.result() if rs.outcome else None,
        )
        final: _Try = await retrying(attempt)
        return final

    async def _ensure_robots(self, origin: str, url: httpx.URL, host: str) -> None:
        """Fetch ``origin``'s robots.txt through the core (or wait for the task fetching it) and cache it."""
        pending = self._robots_pending.get(origin)
        if pending is not None:
            await pending.wait()
            return
        event = self._robots_pending[origin] = trio.Event()
        result: FetchResult | None = None
        try:
            where = robots_url(url)
            result = await self._chain(where, httpx.URL(where), (), "robots", granted=False)
            if result.outcome is not Outcome.DEFERRED:
                policy = self._policy_from(result)
                self._robots[origin] = policy
                if result.outcome in _ROBOTS_BLOCKING:
                    self._robots_blocking[origin] = (result.outcome, result.error or str(result.outcome))
                self._apply_crawl_delay(host, policy)
        finally:
            del self._robots_pending[origin]
            event.set()
        await self._deliver(result)

    def _policy_from(self, result: FetchResult) -> RobotsPolicy:
        token = self.config.identity.robots_token
        if result.outcome is Outcome.TOO_MANY_REDIRECTS:
            return RobotsPolicy("allowed", token=token, note="too many redirects: treated as no robots.txt")
        if result.outcome in (Outcome.OK, Outcome.HTTP_ERROR) and result.hops:
            last = result.hops[-1]
            return RobotsPolicy.from_fetch(last.response.status, last.read_body(),
                                           content_encoding=last.response.header("Content-Encoding"), token=token)
        return RobotsPolicy.unreachable(f"{result.outcome}: {result.error}")

    def _apply_crawl_delay(self, host: str, policy: RobotsPolicy) -> None:
        delay = policy.crawl_delay()
        if delay is None:
            return
        now = trio.current_time()
        if not self._core.set_crawl_delay(host, delay, now=now):
            why = (f"{host}: robots.txt Crawl-delay {delay:g} s exceeds politeness.max_crawl_delay "
                   f"({self.config.politeness.max_crawl_delay:g} s); deferred to a later run")
            assert self._nursery is not None
            for item in self._core.defer_host(host, now=now):
                self._cancel(item, why, self._nursery)
            self._poke()


def _literal_refusal(url: httpx.URL, allowed: Iterable[object]) -> str | None:
    """With a proxy the proxy connects: we can still refuse URLs whose host is a literal IP
    (in any spelling the proxy's resolver would read as one: ``http://2130706433/`` is loopback)."""
    ip = literal_ip(url.host)
    return None if ip is None else refusal(ip, allowed)  # type: ignore[arg-type]
