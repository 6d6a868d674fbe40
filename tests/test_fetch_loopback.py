"""The crawler against a real server on 127.0.0.1 (port 0): bytes on the wire, the guard, TLS, caps."""

from __future__ import annotations

import gzip
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trustme

from crawler.config import Config
from crawler.crawl import Crawler
from crawler.outcomes import FetchResult, Outcome
from tests.loopback import Origin, response

LOOPBACK = ["127.0.0.0/8"]


def config(*, allow: list[str] | None = None, robots: bool = False, **network: Any) -> Config:
    net: dict[str, Any] = {"allow_networks": LOOPBACK if allow is None else allow}
    net.update(network)
    return Config().with_overrides(politeness={"delay": 0.0, "robots": robots, "max_attempts": 1}, network=net)


_OPEN: list[FetchResult] = []


@pytest.fixture(autouse=True)
def close_results() -> Iterator[None]:
    """Every result's spooled bodies are closed after the test (consumers own them)."""
    yield
    while _OPEN:
        _OPEN.pop().close()


async def crawl(cfg: Config, urls: list[str]) -> list[FetchResult]:
    crawler = Crawler(cfg)
    send, recv = trio.open_memory_channel[FetchResult](100)
    with trio.fail_after(20):
        await crawler.run(urls, send)
    async with recv:
        results = [r async for r in recv]
    _OPEN.extend(results)
    return results


def page(results: list[FetchResult]) -> FetchResult:
    (r,) = [r for r in results if r.kind == "page"]
    return r


PAGE = b"<html><head><title>t</title></head><body>" + b"hello world " * 300 + b"</body></html>"


def routes() -> dict[str, Any]:
    return {
        "/redirect/2": lambda h: response("302 Found", headers=[("Location", "/redirect/1")]),
        "/redirect/1": lambda h: response("301 Moved Permanently", headers=[("Location", "/hello")]),
        "/hello": lambda h: response("200 Totally OK", PAGE, headers=[
            ("X-Mixed-CASE", "Foo"), ("Content-Type", "text/html"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]),
        "/gzip": lambda h: response("200 OK", gzip.compress(PAGE), headers=[
            ("Content-Type", "text/html"), ("Content-Encoding", "gzip")], chunked=True),
        "/big": lambda h: response("200 OK", b"z" * 3_000_000, headers=[("Content-Type", "application/octet-stream")]),
        "/bigchunked": lambda h: response("200 OK", b"z" * 3_000_000, chunked=True),
        "/robots.txt": lambda h: response("200 OK", b"User-agent: *\nDisallow: /private\n"),
    }


async def test_redirects_captured_hop_by_hop_byte_exact(nursery: trio.Nursery) -> None:
    origin = await Origin(routes()).start(nursery)
    url = f"http://127.0.0.1:{origin.port}/redirect/2"
    r = page(await crawl(config(), [url]))
    assert r.outcome is Outcome.OK and r.status == 200
    assert r.final_url == f"http://127.0.0.1:{origin.port}/hello"
    assert [(h.response.status, h.response.reason) for h in r.hops] == [
        (302, "Found"), (301, "Moved Permanently"), (200, "Totally OK")]
    assert all(h.peer_ip == "127.0.0.1" for h in r.hops)
    # the request as captured is byte for byte what the server received, hop by hop
    assert len(origin.requests) == 3
    for hop, wire in zip(r.hops, origin.requests, strict=True):
        q = hop.request
        rebuilt = f"{q.method} {q.target} {q.http_version}\r\n".encode() + b"".join(
            k + b": " + v + b"\r\n" for k, v in q.headers) + b"\r\n"
        assert rebuilt == wire
    last = r.hops[-1]
    assert last.response.headers[:1] == ((b"X-Mixed-CASE", b"Foo"),)
    assert [v for k, v in last.response.headers if k == b"Set-Cookie"] == [b"a=1", b"b=2"]
    assert last.read_body() == PAGE and last.truncated is None
    assert last.timings.started <= last.timings.headers <= last.timings.finished
    r.close()


async def test_gzip_body_kept_raw(nursery: trio.Nursery) -> None:
    origin = await Origin(routes()).start(nursery)
    r = page(await crawl(config(), [f"http://127.0.0.1:{origin.port}/gzip"]))
    ex = r.hops[0]
    assert ex.response.header("Content-Encoding") == "gzip"
    raw = ex.read_body()
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw) == PAGE
    assert ex.request.header("Accept-Encoding") == "gzip, deflate"
    r.close()


@pytest.mark.parametrize("path", ["/big", "/bigchunked"])
async def test_byte_cap(nursery: trio.Nursery, path: str) -> None:
    origin = await Origin(routes()).start(nursery)
    urls = [f"http://127.0.0.1:{origin.port}{path}", f"http://127.0.0.1:{origin.port}/hello"]
    results = await crawl(config(max_body_bytes=100_000), urls)
    by = {r.url: r for r in results}
    big = by[urls[0]]
    assert (big.outcome, big.truncated, big.hops[0].body_length) == (Outcome.OK, "length", 100_000)
    assert big.hops[0].read_body() == b"z" * 100_000
    assert by[urls[1]].outcome is Outcome.OK           # the crawler goes on after an abort
    for r in results:
        r.close()


async def test_deadline_cuts_a_dribbling_body_and_times_out_a_silent_server(nursery: trio.Nursery) -> None:
    async def dribble(head: bytes) -> AsyncIterator[bytes]:
        yield b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        for _ in range(1000):
            await trio.sleep(0.05)
            yield b"x"

    async def silent(head: bytes) -> bytes:
        await trio.sleep(30)
        return b""

    origin = await Origin({"/dribble": dribble, "/silent": silent}).start(nursery)
    urls = [f"http://127.0.0.1:{origin.port}/dribble", f"http://127.0.0.1:{origin.port}/silent"]
    # the read timeout (per chunk) is never hit by a dribble; the whole-fetch deadline is
    results = await crawl(config(fetch_deadline=0.6, read_timeout=5.0), urls)
    by = {r.url: r for r in results}
    d = by[urls[0]]
    assert d.outcome is Outcome.OK and d.truncated == "time"
    assert 3 <= d.hops[0].body_length < 20
    s = by[urls[1]]
    assert s.outcome is Outcome.TIMEOUT and s.hops == ()
    for r in results:
        r.close()


async def test_address_guard_refuses_loopback_unless_allowed(nursery: trio.Nursery) -> None:
    origin = await Origin(routes()).start(nursery)
    for host in ("127.0.0.1", "localhost"):
        r = page(await crawl(config(allow=[], robots=True), [f"http://{host}:{origin.port}/hello"]))
        assert r.outcome is Outcome.ADDRESS_REFUSED, host
        assert "loopback" in (r.error or "")
    assert origin.connections == 0 and origin.requests == []
    r = page(await crawl(config(robots=True), [f"http://localhost:{origin.port}/hello"]))
    assert r.outcome is Outcome.OK and r.robots == "allowed"
    r.close()


async def test_resolve_override_to_private_address_is_refused(nursery: trio.Nursery) -> None:
    origin = await Origin(routes()).start(nursery)
    cfg = config(resolve=[f"intranet.example:{origin.port}:10.0.0.1"])
    r = page(await crawl(cfg, [f"http://intranet.example:{origin.port}/hello"]))
    assert r.outcome is Outcome.ADDRESS_REFUSED and "10.0.0.1 is private" in (r.error or "")
    # the same override to an allowed loopback address connects there
    cfg = config(resolve=[f"intranet.example:{origin.port}:127.0.0.1"])
    r = page(await crawl(cfg, [f"http://intranet.example:{origin.port}/hello"]))
    assert r.outcome is Outcome.OK and r.hops[0].peer_ip == "127.0.0.1"
    assert origin.requests[-1].split(b"\r\n")[1] == f"Host: intranet.example:{origin.port}".encode()
    r.close()


async def test_unresolvable_name_is_dns(nursery: trio.Nursery) -> None:
    r = page(await crawl(config(), ["http://no-such-host.invalid/x"]))
    assert r.outcome is Outcome.DNS


async def test_tls_verified_against_hostname_with_resolve(nursery: trio.Nursery, tmp_path: Path) -> None:
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("news.example").configure_cert(server_ctx)
    origin = await Origin(routes(), ssl_context=server_ctx).start(nursery)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    resolve = [f"news.example:{origin.port}:127.0.0.1", f"other.example:{origin.port}:127.0.0.1"]
    cfg = config(resolve=resolve, ca_bundle=str(bundle))
    results = await crawl(cfg, [f"https://news.example:{origin.port}/hello",
                                f"https://other.example:{origin.port}/hello"])
    by = {r.url: r for r in results}
    good = by[f"https://news.example:{origin.port}/hello"]
    assert good.outcome is Outcome.OK and good.hops[0].read_body() == PAGE
    assert good.hops[0].peer_ip == "127.0.0.1"
    bad = by[f"https://other.example:{origin.port}/hello"]      # the certificate names news.example only
    assert bad.outcome is Outcome.TLS
    # without our CA, the system store does not trust the test CA
    r = page(await crawl(config(resolve=resolve), [f"https://news.example:{origin.port}/hello"]))
    assert r.outcome is Outcome.TLS
    for x in results:
        x.close()


async def test_robots_over_the_network_archived_and_obeyed(nursery: trio.Nursery) -> None:
    origin = await Origin(routes()).start(nursery)
    base = f"http://127.0.0.1:{origin.port}"
    results = await crawl(config(robots=True), [f"{base}/hello", f"{base}/private/x"])
    robots = [r for r in results if r.kind == "robots"]
    assert len(robots) == 1 and robots[0].hops[0].read_body().startswith(b"User-agent")
    pages = {r.url: r for r in results if r.kind == "page"}
    assert pages[f"{base}/private/x"].outcome is Outcome.ROBOTS_DISALLOWED
    assert pages[f"{base}/hello"].outcome is Outcome.OK
    assert [q.split(b" ")[1] for q in origin.requests] == [b"/robots.txt", b"/hello"]
    for r in results:
        r.close()


async def test_read_timeout_mid_body_is_truncated_by_time(nursery: trio.Nursery) -> None:
    async def stall(head: bytes) -> AsyncIterator[bytes]:
        yield b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10
        await trio.sleep(5)
        yield b"x"

    origin = await Origin({"/stall": stall}).start(nursery)
    r = page(await crawl(config(fetch_deadline=5.0, read_timeout=0.2), [f"http://127.0.0.1:{origin.port}/stall"]))
    # the peer did not disconnect: the read timeout cut it, so WARC-Truncated must say "time"
    assert (r.outcome, r.truncated, r.hops[0].body_length) == (Outcome.OK, "time", 10)
    r.close()
