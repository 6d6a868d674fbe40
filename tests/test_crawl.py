"""The crawler shell on trio's MockClock: each politeness rule and each outcome, through a mocked network.

Times asserted here are trio's (virtual) clock as seen by the transport when a
request arrives; ``autojump_clock`` makes hours of waiting take milliseconds.
"""

from __future__ import annotations

import email.utils
import itertools
import random
import ssl
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import trio

from crawler.addresses import AddressRefused, NameNotResolved
from crawler.config import Config
from crawler.crawl import Crawler, CrawlRequest
from crawler.outcomes import FetchResult, Outcome

Handler = Callable[[httpx.Request], Any]


def config(**politeness: Any) -> Config:
    base: dict[str, Any] = {"delay": 1.0, "jitter": 0.0, "robots": False, "backoff_base": 1.0}
    base.update(politeness)
    network = base.pop("network", {})
    return Config().with_overrides(politeness=base, network=network)


class Recorder(httpx.AsyncBaseTransport):
    """A transport that logs (time, url) of every request and lets handlers sleep (async)."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.log: list[tuple[float, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.log.append((trio.current_time(), str(request.url)))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            out = self.handler(request)
            if hasattr(out, "__await__"):
                out = await out
            return out  # type: ignore[no-any-return]
        finally:
            self.in_flight -= 1

    def times(self, needle: str) -> list[float]:
        return [t for t, u in self.log if needle in u]


async def crawl(cfg: Config, handler: Handler, urls: Iterable[CrawlRequest | str], *,
                rng: random.Random | None = None,
                during: Callable[[Crawler, FetchResult], None] | None = None) -> tuple[list[FetchResult], Recorder]:
    transport = Recorder(handler)
    crawler = Crawler(cfg, transport=transport, rng=rng or random.Random(1))
    send, recv = trio.open_memory_channel[FetchResult](0)
    out: list[FetchResult] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(crawler.run, urls, send)
        async with recv:
            async for result in recv:
                out.append(result)
                if during:
                    during(crawler, result)
    for r in out:
        r.close()
    return out, transport


def by_url(results: list[FetchResult], kind: str = "page") -> dict[str, FetchResult]:
    return {r.url: r for r in results if r.kind == kind}


def ok(_: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="fine")


# -- politeness rules --------------------------------------------------------------------------------


async def test_gap_between_requests_on_one_host(autojump_clock: Any) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await trio.sleep(0.5)                      # the response takes 0.5 s
        return httpx.Response(200, text="x")

    results, t = await crawl(config(delay=2.0), slow, [f"http://a.example/{i}" for i in range(4)])
    assert [r.outcome for r in results] == [Outcome.OK] * 4
    # gap counted from the END of each response: 0, 0.5 + 2, 5 + 0.5 ...
    assert t.times("a.example") == pytest.approx([0.0, 2.5, 5.0, 7.5])


async def test_jitter_only_adds_to_the_delay(autojump_clock: Any) -> None:
    _results, t = await crawl(config(delay=1.0, jitter=0.5), ok, [f"http://a.example/{i}" for i in range(30)])
    times = t.times("a.example")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1.0
    assert max(gaps) <= 1.5
    assert len({round(g, 3) for g in gaps}) > 5   # really random


async def test_robots_then_crawl_delay(autojump_clock: Any) -> None:
    def site(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text="User-agent: *\nCrawl-delay: 5\n")
        return httpx.Response(200, text="x")

    results, t = await crawl(config(robots=True), site, ["http://a.example/1", "http://a.example/2"])
    assert t.times("a.example") == pytest.approx([0.0, 5.0, 10.0])   # robots.txt, then pages 5 s apart
    robots = [r for r in results if r.kind == "robots"]
    assert len(robots) == 1 and robots[0].outcome is Outcome.OK and len(robots[0].hops) == 1


async def test_crawl_delay_over_cap_defers_host(autojump_clock: Any) -> None:
    def site(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text="User-agent: *\nCrawl-delay: 120\n")
        return httpx.Response(200, text="x")

    stats = []
    results, t = await crawl(config(robots=True, max_crawl_delay=30.0), site,
                             ["http://a.example/1", "http://a.example/2", "http://b.example/1"],
                             during=lambda c, r: stats.append(c.statistics()))
    pages = by_url(results)
    assert pages["http://a.example/1"].outcome is Outcome.DEFERRED
    assert pages["http://a.example/2"].outcome is Outcome.DEFERRED
    assert "Crawl-delay 120" in (pages["http://a.example/2"].error or "")
    assert pages["http://b.example/1"].outcome is Outcome.DEFERRED    # b's robots.txt says the same
    assert t.times("/1") == [] and t.times("/2") == []
    assert "a.example" in stats[-1].hosts_deferred


@pytest.mark.parametrize("form", ["seconds", "date"])
async def test_retry_after_both_forms(autojump_clock: Any, form: str) -> None:
    calls = 0

    def site(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            when = ("30" if form == "seconds" else
                    email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=31), usegmt=True))
            return httpx.Response(429, headers={"Retry-After": when})
        return httpx.Response(200, text="x")

    results, t = await crawl(config(), site, ["http://a.example/x"])
    (r,) = results
    assert r.outcome is Outcome.OK and r.status == 200
    assert [a.status for a in r.attempts] == [429, 200]
    assert len(r.hops) == 2                        # the 429 was on the wire: it is archived too
    first, second = t.times("/x")
    assert 29.0 <= second - first <= 31.5
    assert r.attempts[1].waited == pytest.approx(second - first)


async def test_retry_after_over_cap_defers_url(autojump_clock: Any) -> None:
    def site(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "3600"})

    results, t = await crawl(config(max_retry_after=600.0), site, ["http://a.example/x"])
    (r,) = results
    assert r.outcome is Outcome.DEFERRED and r.status == 503
    assert "3600" in (r.error or "")
    assert len(t.log) == 1


async def test_exponential_backoff_then_give_up(autojump_clock: Any) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    results, t = await crawl(config(delay=0.0, backoff_base=2.0, max_attempts=4), down, ["http://a.example/x"])
    (r,) = results
    assert r.outcome is Outcome.CONNECT
    assert [a.number for a in r.attempts] == [1, 2, 3, 4]
    times = t.times("/x")
    waits = [b - a for a, b in itertools.pairwise(times)]
    # back-off n in [2^n/2, 2^n] (base 2), never shorter than the host's adaptive slow-down
    assert waits[0] >= 1.0 and waits[1] >= 2.0 and waits[2] >= 4.0
    assert waits[0] < waits[1] < waits[2]


async def test_backoff_slows_host_and_success_recovers(autojump_clock: Any) -> None:
    fails = {"n": 2}

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/x" and fails["n"] > 0:
            fails["n"] -= 1
            return httpx.Response(502)
        return httpx.Response(200, text="x")

    urls = ["http://a.example/x"] + [f"http://a.example/{i}" for i in range(6)]
    results, t = await crawl(config(delay=1.0, backoff_base=4.0), flaky, urls)
    assert all(r.outcome is Outcome.OK for r in results)
    times = t.times("a.example")
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 5.0 and gaps[1] >= 9.0      # 1 s + slow-down 4, then + 8
    assert gaps[-1] < 2.0 and gaps[2] > gaps[-1]  # successes bring it back towards the 1 s floor


async def test_fairness_slow_host_does_not_hold_others(autojump_clock: Any) -> None:
    async def site(request: httpx.Request) -> httpx.Response:
        if request.url.host == "slow.example":
            await trio.sleep(20)
        return httpx.Response(200, text="x")

    urls = [f"http://slow.example/{i}" for i in range(2)] + [f"http://fast.example/{i}" for i in range(5)]
    results, t = await crawl(config(delay=1.0, concurrency=2), site, urls)
    assert len(results) == 7
    assert t.times("fast.example") == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0])
    assert t.times("slow.example") == pytest.approx([0.0, 21.0])


async def test_ready_first_goes_first(autojump_clock: Any) -> None:
    # concurrency 1: one request at a time overall; each host becomes ready 3 s after its last response
    _results, t = await crawl(config(delay=3.0, concurrency=1, per_host=1), ok,
                             ["http://a.example/1", "http://a.example/2", "http://b.example/1",
                              "http://c.example/1", "http://b.example/2"])
    order = [u.split("//")[1] for _, u in t.log]
    assert order == ["a.example/1", "b.example/1", "c.example/1", "a.example/2", "b.example/2"]


async def test_global_cap(autojump_clock: Any) -> None:
    async def site(request: httpx.Request) -> httpx.Response:
        await trio.sleep(5)
        return httpx.Response(200, text="x")

    urls = [f"http://h{i}.example/" for i in range(9)]
    _results, t = await crawl(config(delay=0.0, concurrency=3), site, urls)
    assert t.max_in_flight == 3
    assert sorted(t.times("example")) == pytest.approx([0, 0, 0, 5, 5, 5, 10, 10, 10])


async def test_per_host_two(autojump_clock: Any) -> None:
    async def site(request: httpx.Request) -> httpx.Response:
        await trio.sleep(1)
        return httpx.Response(200, text="x")

    _results, t = await crawl(config(delay=0.0, concurrency=10, per_host=2), site,
                             [f"http://a.example/{i}" for i in range(4)])
    assert t.max_in_flight == 2
    assert t.times("a.example") == pytest.approx([0, 0, 1, 1])


# -- outcomes ----------------------------------------------------------------------------------------


def _raise(exc: Callable[[httpx.Request], BaseException]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(request)
    return handler


def _tls_error(request: httpx.Request) -> BaseException:
    err = httpx.ConnectError("handshake failed", request=request)
    err.__cause__ = ssl.SSLCertVerificationError("certificate verify failed")
    return err


@pytest.mark.parametrize(
    ("handler", "outcome", "attempts"),
    [
        (_raise(lambda r: httpx.ReadTimeout("slow", request=r)), Outcome.TIMEOUT, 2),
        (_raise(lambda r: httpx.ConnectError("refused", request=r)), Outcome.CONNECT, 2),
        (_raise(lambda r: httpx.ReadError("reset", request=r)), Outcome.NETWORK, 2),
        (_raise(lambda r: httpx.RemoteProtocolError("bad", request=r)), Outcome.PROTOCOL_ERROR, 2),
        (_raise(lambda r: NameNotResolved(r.url.host, "no such name")), Outcome.DNS, 1),
        (_raise(lambda r: AddressRefused(r.url.host, ["10.0.0.1 is private"])), Outcome.ADDRESS_REFUSED, 1),
        (_raise(_tls_error), Outcome.TLS, 1),
        (lambda r: httpx.Response(404, text="gone"), Outcome.HTTP_ERROR, 1),
        (lambda r: httpx.Response(500, text="oops"), Outcome.HTTP_ERROR, 1),
        (lambda r: httpx.Response(504, text="later"), Outcome.HTTP_ERROR, 2),
    ],
)
async def test_failure_outcomes(autojump_clock: Any, handler: Handler, outcome: Outcome, attempts: int) -> None:
    results, t = await crawl(config(max_attempts=2), handler, ["http://a.example/x"])
    (r,) = results
    assert r.outcome is outcome
    assert len(r.attempts) == attempts == len(t.log)
    assert r.error
    assert r.final_url == "http://a.example/x"


@pytest.mark.parametrize(
    ("handler", "page_outcome"),
    [
        (_raise(lambda r: httpx.ConnectError("refused", request=r)), Outcome.CONNECT),
        (_raise(_tls_error), Outcome.TLS),
        (_raise(lambda r: httpx.ReadTimeout("slow", request=r)), Outcome.ROBOTS_DISALLOWED),
    ],
)
async def test_robots_failure_of_the_host_is_the_pages_outcome(autojump_clock: Any, handler: Handler,
                                                                page_outcome: Outcome) -> None:
    """A host that is down is unreachable, not forbidding; a robots.txt that times out disallows (RFC 9309)."""
    results, t = await crawl(config(robots=True, max_attempts=1), handler, ["http://a.example/x"])
    pages = [r for r in results if r.kind == "page"]
    assert [r.outcome for r in pages] == [page_outcome]
    assert [str(u) for _, u in t.log] == ["http://a.example/robots.txt"]     # the page itself never went out


async def test_ok_and_404_status(autojump_clock: Any) -> None:
    def site(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200 if request.url.path == "/a" else 404, text="x")

    results, _ = await crawl(config(), site, ["http://a.example/a", "http://a.example/b"])
    pages = by_url(results)
    assert (pages["http://a.example/a"].outcome, pages["http://a.example/a"].status) == (Outcome.OK, 200)
    assert (pages["http://a.example/b"].outcome, pages["http://a.example/b"].status) == (Outcome.HTTP_ERROR, 404)


async def test_redirects_hop_by_hop_through_other_host_queue(autojump_clock: Any) -> None:
    def site(request: httpx.Request) -> httpx.Response:
        if request.url.host == "a.example" and request.url.path == "/start":
            return httpx.Response(301, headers={"Location": "http://b.example/mid"})
        if request.url.path == "/mid":
            return httpx.Response(302, headers={"Location": "/end#frag"})
        return httpx.Response(200, text="end")

    results, t = await crawl(config(delay=4.0), site, ["http://b.example/first", "http://a.example/start"])
    r = by_url(results)["http://a.example/start"]
    assert r.outcome is Outcome.OK and r.final_url == "http://b.example/end"
    assert [h.response.status for h in r.hops] == [301, 302, 200]
    assert [h.request.url for h in r.hops] == ["http://a.example/start", "http://b.example/mid",
                                              "http://b.example/end"]
    # b.example/mid waited for b's gap after b.example/first (t=0), then /end for its own gap
    assert t.times("b.example") == pytest.approx([0.0, 4.0, 8.0])


async def test_too_many_redirects_and_loop(autojump_clock: Any) -> None:
    def site(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            return httpx.Response(302, headers={"Location": f"/chain/{n + 1}"})
        if path == "/loop/a":
            return httpx.Response(302, headers={"Location": "/loop/b"})
        if path == "/loop/b":
            return httpx.Response(302, headers={"Location": "/loop/a"})
        return httpx.Response(302, headers={"Location": "ftp://a.example/file"})

    results, _ = await crawl(config(delay=0.0, network={"max_redirects": 3}), site,
                             ["http://a.example/chain/0", "http://a.example/loop/a", "http://a.example/ftp"])
    pages = by_url(results)
    chain = pages["http://a.example/chain/0"]
    assert chain.outcome is Outcome.TOO_MANY_REDIRECTS and len(chain.hops) == 4 and chain.status == 302
    loop = pages["http://a.example/loop/a"]
    assert loop.outcome is Outcome.REDIRECT_LOOP and len(loop.hops) == 2
    ftp = pages["http://a.example/ftp"]
    assert ftp.outcome in (Outcome.UNSUPPORTED_SCHEME, Outcome.PROTOCOL_ERROR)


async def test_robots_rules_and_unreachable(autojump_clock: Any) -> None:
    def site(request: httpx.Request) -> httpx.Response:
        host, path = request.url.host, request.url.path
        if path == "/robots.txt":
            if host == "rules.example":
                return httpx.Response(200, content=b"\xef\xbb\xbfUser-agent: citecrawl\nDisallow: /private\n")
            if host == "missing.example":
                return httpx.Response(404)
            return httpx.Response(500)
        return httpx.Response(200, text="x")

    urls = ["http://rules.example/private/1", "http://rules.example/public", "http://missing.example/a",
            "http://broken.example/a"]
    results, t = await crawl(config(robots=True, max_attempts=1), site, urls)
    pages = by_url(results)
    assert (pages[urls[0]].outcome, pages[urls[0]].robots) == (Outcome.ROBOTS_DISALLOWED, "disallowed")
    assert (pages[urls[1]].outcome, pages[urls[1]].robots) == (Outcome.OK, "allowed")
    assert (pages[urls[2]].outcome, pages[urls[2]].robots) == (Outcome.OK, "allowed")
    assert (pages[urls[3]].outcome, pages[urls[3]].robots) == (Outcome.ROBOTS_DISALLOWED, "unavailable")
    assert t.times("/private") == [] and t.times("broken.example/a") == []
    robots = by_url(results, "robots")
    assert set(robots) == {f"http://{h}.example/robots.txt" for h in ("rules", "missing", "broken")}
    assert all(len(r.hops) == 1 for r in robots.values())   # archived like every exchange


async def test_robots_fetched_once_per_origin(autojump_clock: Any) -> None:
    results, t = await crawl(config(robots=True, per_host=2, concurrency=4, delay=0.0), ok,
                             [f"http://a.example/{i}" for i in range(6)])
    assert len(t.times("robots.txt")) == 1
    assert len([r for r in results if r.kind == "page" and r.ok]) == 6


async def test_robots_ignored(autojump_clock: Any) -> None:
    results, t = await crawl(config(robots=False), ok, ["http://a.example/x"])
    (r,) = results
    assert r.robots == "ignored" and t.times("robots.txt") == []


async def test_unsupported_and_invalid(autojump_clock: Any) -> None:
    results, t = await crawl(config(), ok, ["ftp://a.example/x", "http://", "mailto:x@y"])
    outcomes = sorted(str(r.outcome) for r in results)
    assert outcomes == ["invalid_url", "unsupported_scheme", "unsupported_scheme"]
    assert t.log == []


async def test_byte_cap_and_deadline(autojump_clock: Any) -> None:
    class Dribble(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range(100):
                await trio.sleep(1)
                yield b"x" * 10

    async def site(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/big":
            return httpx.Response(200, content=b"y" * 5000)
        if request.url.path == "/dribble":
            return httpx.Response(200, stream=Dribble())
        await trio.sleep(60)          # no head within the deadline
        return httpx.Response(200)

    cfg = config(max_attempts=1, network={"max_body_bytes": 1000, "fetch_deadline": 30.0})
    results, _ = await crawl(cfg, site, ["http://a.example/big", "http://a.example/dribble", "http://a.example/hang"])
    pages = by_url(results)
    big = pages["http://a.example/big"]
    assert (big.outcome, big.truncated, big.hops[0].body_length) == (Outcome.OK, "length", 1000)
    dribble = pages["http://a.example/dribble"]
    assert dribble.outcome is Outcome.OK and dribble.truncated == "time"
    assert 280 <= dribble.hops[0].body_length <= 300
    hang = pages["http://a.example/hang"]
    assert hang.outcome is Outcome.TIMEOUT and hang.hops == ()


async def test_extra_headers_and_no_cookies_across_hosts(autojump_clock: Any) -> None:
    seen: dict[str, httpx.Headers] = {}

    def site(request: httpx.Request) -> httpx.Response:
        seen[str(request.url)] = request.headers
        return httpx.Response(200, text="x", headers={"Set-Cookie": f"id={request.url.host}; Path=/"})

    results, _ = await crawl(config(), site, [
        CrawlRequest("http://a.example/1", headers=(("If-None-Match", '"v1"'),)),
        "http://a.example/2", "http://b.example/1"])
    assert seen["http://a.example/1"]["if-none-match"] == '"v1"'
    assert seen["http://a.example/1"]["accept-encoding"] == "gzip, deflate"
    assert seen["http://a.example/1"]["user-agent"].startswith("citecrawl/")
    assert "cookie" not in seen["http://b.example/1"]
    assert seen["http://a.example/2"]["cookie"] == "id=a.example"     # kept for its own host
    r = by_url(results)["http://a.example/1"]
    assert (b"If-None-Match", b'"v1"') in r.hops[0].request.headers


async def test_stop_defers_unstarted(autojump_clock: Any) -> None:
    def stop_after_first(crawler: Crawler, result: FetchResult) -> None:
        crawler.stop()

    urls = [f"http://a.example/{i}" for i in range(5)]
    results, t = await crawl(config(), ok, urls, during=stop_after_first)
    assert len(results) == 5
    assert [r.outcome for r in results].count(Outcome.OK) == 1
    assert all(r.outcome is Outcome.DEFERRED for r in results[1:])
    assert len(t.log) == 1


async def test_statistics(autojump_clock: Any) -> None:
    snapshots = []
    _results, _ = await crawl(config(), ok, [f"http://a.example/{i}" for i in range(3)] + ["http://b.example/"],
                             during=lambda c, r: snapshots.append(c.statistics()))
    first = snapshots[0]
    assert first.done >= 1 and first.bytes >= 4
    assert sum(first.queued.values()) >= 1
    last = snapshots[-1]
    assert last.done == 4 and last.in_flight == 0 and dict(last.queued) == {} and last.retries == 0


async def test_a_slow_consumer_slows_the_fetching(autojump_clock: trio.testing.MockClock) -> None:
    """Fetched pages not yet taken are bounded (BACKLOG_PER_SLOT x concurrency): bodies do not pile up."""
    from crawler.crawl import BACKLOG_PER_SLOT

    cfg = config(delay=0.0, concurrency=2, per_host=2)
    transport = Recorder(lambda r: httpx.Response(200, content=b"x" * 1000))
    crawler = Crawler(cfg, transport=transport, rng=random.Random(1))
    send, recv = trio.open_memory_channel[FetchResult](0)
    urls = [f"http://h{i % 5}.test/{i}" for i in range(60)]
    ahead = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(crawler.run, urls, send)
        async with recv:
            taken = 0
            async for r in recv:
                r.close()
                taken += 1
                ahead.append(len(transport.log) - taken)
                await trio.sleep(1.0)        # a consumer far slower than the network
    assert taken == 60 and len(transport.log) == 60
    assert max(ahead) <= BACKLOG_PER_SLOT * 2


async def test_a_host_keeps_its_client_while_its_jobs_wait_for_the_backlog(
        autojump_clock: trio.testing.MockClock) -> None:
    """A job parked on the backlog is neither queued nor in flight in the core, but still wants its host:
    its client (and the connections in its pool) must not be closed and rebuilt for it."""
    cfg = config(delay=0.0, concurrency=2, per_host=2)
    transport = Recorder(lambda r: httpx.Response(200, content=b"x" * 1000))
    crawler = Crawler(cfg, transport=transport, rng=random.Random(1))
    made: list[int] = []
    new_client = crawler._factory.new_client

    def counting(*, connections: int) -> httpx.AsyncClient:
        made.append(connections)
        return new_client(connections=connections)

    crawler._factory.new_client = counting  # type: ignore[method-assign]
    send, recv = trio.open_memory_channel[FetchResult](0)
    urls = [f"http://h{i % 3}.test/{i}" for i in range(30)]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(crawler.run, urls, send)
        async with recv:
            async for r in recv:
                r.close()
                await trio.sleep(1.0)        # a slow consumer: the backlog stays full
    assert len(transport.log) == 30
    assert len(made) == 3                    # one client per host for the whole run
    assert crawler._clients == {}            # and every one closed at the end


async def test_a_full_backlog_does_not_starve_robots_turns(autojump_clock: trio.testing.MockClock) -> None:
    """Jobs waiting for the backlog must not hold slots that the backlog's holders need (robots.txt)."""
    cfg = config(delay=0.0, concurrency=2, per_host=1, robots=True)

    def handler(r: httpx.Request) -> httpx.Response:
        return httpx.Response(404) if r.url.path == "/robots.txt" else httpx.Response(200, content=b"x")

    transport = Recorder(handler)
    crawler = Crawler(cfg, transport=transport, rng=random.Random(1))
    send, recv = trio.open_memory_channel[FetchResult](0)
    urls = [f"http://h{i % 7}.test/{i}" for i in range(80)]
    pages = 0
    with trio.fail_after(3600):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(crawler.run, urls, send)
            async with recv:
                async for r in recv:
                    r.close()
                    pages += r.kind == "page"
                    await trio.sleep(0.5)
    assert pages == 80
    assert len(transport.times("/robots.txt")) == 7


async def test_requests_are_read_a_window_at_a_time(autojump_clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The crawler reads its requests lazily: never more than QUEUE_WINDOW queued, every one fetched."""
    import crawler.crawl

    monkeypatch.setattr(crawler.crawl, "QUEUE_WINDOW", 4)
    read: list[str] = []

    def requests() -> Iterable[str]:
        for i in range(30):
            url = f"http://{'abc'[i % 3]}.example/{i}"
            read.append(url)
            yield url

    most_queued = [0]

    def watch(c: Crawler, result: FetchResult) -> None:
        most_queued[0] = max(most_queued[0], sum(c.statistics().queued.values()))
        assert len(read) - c.statistics().done <= 4 + 3   # read ahead: the window, plus those in flight

    results, _ = await crawl(config(delay=0.0), ok, requests(), during=watch)
    assert sorted(r.url for r in results) == sorted(read) and len(read) == 30
    assert all(r.outcome is Outcome.OK for r in results)
    assert 0 < most_queued[0] <= 4


async def test_the_first_requests_go_out_before_the_whole_window_is_read(autojump_clock: Any) -> None:
    """Requests are read a slice at a time between scheduler rounds: the first request does not
    wait for QUEUE_WINDOW URLs to be parsed (~50 ms for 1,024)."""
    from crawler.crawl import QUEUE_WINDOW

    read: list[str] = []
    read_at_first_request: list[int] = []

    def requests() -> Iterable[str]:
        for i in range(QUEUE_WINDOW * 2):
            read.append(url := f"http://h{i % 20}.example/{i}")
            yield url

    def handler(request: httpx.Request) -> httpx.Response:
        if not read_at_first_request:
            read_at_first_request.append(len(read))
        return httpx.Response(200, content=b"x")

    results, _ = await crawl(config(delay=0.0, per_host=1, concurrency=20), handler, requests())
    assert len(results) == QUEUE_WINDOW * 2 and all(r.outcome is Outcome.OK for r in results)
    assert read_at_first_request[0] <= QUEUE_WINDOW // 4


async def test_stop_defers_requests_not_read_yet(autojump_clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import crawler.crawl

    monkeypatch.setattr(crawler.crawl, "QUEUE_WINDOW", 2)
    urls = [f"http://a.example/{i}" for i in range(10)]
    results, t = await crawl(config(), ok, iter(urls), during=lambda c, r: c.stop())
    assert sorted(r.url for r in results) == sorted(urls)
    assert [r.outcome for r in results].count(Outcome.OK) == 1 and len(t.log) == 1
    assert {r.error for r in results if r.outcome is Outcome.DEFERRED} == {"stopped before it started"}


async def test_a_full_backlog_pauses_the_dispatcher_instead_of_parking_the_queue(
        autojump_clock: trio.testing.MockClock) -> None:
    """With every backlog slot taken, page jobs wait in their hosts' queues.

    The dispatcher used to hand out every queued job, each parking on the backlog at once, which
    emptied the hosts' queues into one first-come line: after one pause of the consumer the
    latency benchmark fell from ~290 to ~36 pages/s, two hosts working out of twenty.
    """
    cfg = config(delay=0.0, concurrency=4, per_host=1)
    transport = Recorder(lambda r: httpx.Response(200, content=b"x"))
    crawler = Crawler(cfg, transport=transport, rng=random.Random(1))
    send, recv = trio.open_memory_channel[FetchResult](0)
    urls = [f"http://h{i % 4}.test/{i}" for i in range(200)]
    most_parked = taken = 0

    async def probe() -> None:
        nonlocal most_parked
        while True:
            most_parked = max(most_parked, crawler._parked_total)
            await trio.sleep(0.01)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(probe)
        nursery.start_soon(crawler.run, urls, send)
        async with recv:
            async for r in recv:
                r.close()
                taken += 1
                if taken == 20:
                    await trio.sleep(5.0)     # the consumer stops once for a moment
        nursery.cancel_scope.cancel()
    assert taken == 200 and len(transport.log) == 200
    assert most_parked <= cfg.politeness.concurrency


def test_without_fragment_drops_only_a_fragment_and_keeps_a_url_without_one() -> None:
    from crawler.fetch import without_fragment

    plain = httpx.URL("http://a.example/x?q=1")
    assert without_fragment(plain) is plain            # not parsed again
    assert str(without_fragment(httpx.URL("http://a.example/x#part"))) == "http://a.example/x"
    assert str(without_fragment(httpx.URL("http://a.example/x#"))) == "http://a.example/x"
    encoded = httpx.URL("http://a.example/x%23y?q=%23")
    assert without_fragment(encoded) is encoded


async def test_fragments_are_never_sent_and_never_archived(autojump_clock: Any) -> None:
    targets: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        targets.append(request.url.raw_path)           # the request-target on the wire
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "/new#section"})
        return httpx.Response(200, text="ok")

    results, _ = await crawl(config(delay=0.0), handler, ["http://a.example/old#top"])
    assert targets == [b"/old", b"/new"]
    (result,) = results
    assert result.outcome == Outcome.OK and result.final_url == "http://a.example/new"
    assert [h.request.url for h in result.hops] == ["http://a.example/old", "http://a.example/new"]


def test_the_cookie_jar_reads_only_responses_that_set_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.clients import ClientFactory, SetCookieJar

    client = ClientFactory(config()).new_client(connections=1)
    assert isinstance(client.cookies, SetCookieJar)
    read: list[int] = []
    monkeypatch.setattr(httpx.Cookies, "extract_cookies", lambda self, response: read.append(response.status_code))
    request = httpx.Request("GET", "http://a.example/")
    client.cookies.extract_cookies(httpx.Response(200, request=request))
    client.cookies.extract_cookies(httpx.Response(201, headers={"Set-Cookie": "a=1"}, request=request))
    assert read == [201]


async def test_the_lane_is_never_held_across_a_body_read(autojump_clock: Any) -> None:
    """Fetches take turns in one lane for the work between body reads (so that responses that came
    in together finish one after another), but a body still arriving must not hold up the others:
    a page of another host is delivered while a slow body dribbles in."""
    owners: list[object] = []
    crawler: Crawler | None = None

    class Dribble(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range(10):
                assert crawler is not None
                # inside a read of the fetch's body: the fetch must not hold the lane here
                owners.append(crawler._lane.statistics().owner is trio.lowlevel.current_task())
                await trio.sleep(1)
                yield b"x" * 10

    def site(request: httpx.Request) -> httpx.Response:
        if request.url.host == "slow.example":
            return httpx.Response(200, stream=Dribble())
        return httpx.Response(200, content=b"y" * 100)

    crawler = Crawler(config(max_attempts=1, delay=0.0), transport=Recorder(site), rng=random.Random(1))
    send, recv = trio.open_memory_channel[FetchResult](0)
    delivered: dict[str, float] = {}
    async with trio.open_nursery() as nursery:
        nursery.start_soon(crawler.run, ["http://slow.example/", "http://fast.example/"], send)
        async with recv:
            async for result in recv:
                delivered[result.url] = trio.current_time()
                assert result.outcome is Outcome.OK
                result.close()
    assert owners == [False] * 10
    assert delivered["http://fast.example/"] < 1 <= 10 <= delivered["http://slow.example/"]
