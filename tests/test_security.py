"""Security: the address guard (rebinding, IPv6 forms, odd IPv4 spellings, redirects), paths that
must stay in the collection, the report's escaping (in headless Chromium) and proxy secrets.

Network tests use 127.0.0.0/8 only; private addresses (10.0.0.1) appear only where the guard must
refuse them before any connection is attempted.
"""

from __future__ import annotations

import base64
import gzip
import importlib.util
import ipaddress
import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from crawler.addresses import literal_ip, refusal
from crawler.cli import main
from crawler.config import Config
from crawler.crawl import Crawler
from crawler.errors import ConfigError
from crawler.outcomes import FetchResult, Outcome
from tests.hostile import HostileOrigin, head, serve_hostile
from tests.loopback import Origin, response

REPO = Path(__file__).resolve().parent.parent


def config(*, allow: list[str], robots: bool = False, **network: Any) -> Config:
    return Config().with_overrides(politeness={"delay": 0.0, "jitter": 0.0, "robots": robots, "max_attempts": 1},
                                   network={"allow_networks": allow, "connect_timeout": 2.0, "fetch_deadline": 5.0,
                                            **network})


async def crawl(cfg: Config, urls: list[str]) -> dict[str, FetchResult]:
    send, recv = trio.open_memory_channel[FetchResult](100)
    with trio.fail_after(20):
        await Crawler(cfg).run(urls, send)
    async with recv:
        results = [r async for r in recv]
    for r in results:
        r.close()
    return {r.url: r for r in results if r.kind == "page"}


# -- the guard: addresses ------------------------------------------------------------------------


@pytest.mark.parametrize("address", [
    "::1", "::", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "64:ff9b::7f00:1", "::127.0.0.1",
    "2002:7f00:1::", "2002:a00:1::1", "2002:a9fe:a9fe::",           # 6to4 wrapping loopback, private, metadata
    "0.0.0.0", "127.0.0.2", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "198.18.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255",
])
def test_guard_refuses_every_non_public_form(address: str) -> None:
    assert refusal(address) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "::ffff:93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
                                     "2002:5db8:d70e::1"])
def test_guard_lets_public_addresses_through(address: str) -> None:
    assert refusal(address) is None


def test_mapped_loopback_allowed_by_an_ipv4_allow_list() -> None:
    allowed = [ipaddress.ip_network("127.0.0.0/8")]
    assert refusal("::ffff:127.0.0.1", allowed) is None and refusal("2002:7f00:1::", allowed) is None
    assert refusal("::1", allowed) is not None          # IPv6 loopback is another network


@pytest.mark.parametrize(("host", "ip"), [
    ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
    ("017700000001", "127.0.0.1"), ("127.1", "127.0.0.1"), ("127.0.0.1.", "127.0.0.1"), ("0", "0.0.0.0"),
    ("[::ffff:127.0.0.1]", "::ffff:7f00:1"), ("167772161", "10.0.0.1"),
])
def test_literal_ip_reads_every_spelling(host: str, ip: str) -> None:
    assert str(literal_ip(host)) == ip


@pytest.mark.parametrize("host", ["example.com", "127.0.0.1.example.com", "0x7g.1", "1.2.3.4.5", "localhost"])
def test_literal_ip_leaves_names_alone(host: str) -> None:
    assert literal_ip(host) is None


SPELLINGS = ["2130706433", "0x7f000001", "0x7f.1", "127.1", "017700000001", "127.0.0.1.", "[::ffff:127.0.0.1]",
             "[::ffff:7f00:1]"]


async def test_odd_ipv4_spellings_refused(nursery: trio.Nursery) -> None:
    origin = await Origin({"/x": lambda h: response("200 OK", b"hello")}).start(nursery)
    urls = [f"http://{h}:{origin.port}/x" for h in SPELLINGS] + [f"http://0177.0.0.1:{origin.port}/x"]
    by = await crawl(config(allow=[]), urls)
    for url in urls[:-1]:
        assert by[url].outcome is Outcome.ADDRESS_REFUSED, (url, by[url].error)
    assert by[urls[-1]].outcome is Outcome.INVALID_URL       # httpx refuses leading-zero octets outright
    assert origin.connections == 0


async def test_odd_spellings_refused_before_a_proxy_sees_them(nursery: trio.Nursery) -> None:
    """With a proxy, the proxy resolves: the crawler must still refuse IP literals in every spelling."""
    proxy = await Origin({}).start(nursery)      # answers 404 to anything: it must get nothing
    urls = [f"http://{h}/x" for h in SPELLINGS] + ["http://[::1]/x", "http://10.0.0.1/x", "http://169.254.169.254/"]
    by = await crawl(config(allow=[], proxy=f"http://127.0.0.1:{proxy.port}"), urls)
    for url in urls:
        assert by[url].outcome is Outcome.ADDRESS_REFUSED, (url, by[url].outcome, by[url].error)
    assert proxy.requests == []


class Rebinding(trio.abc.HostnameResolver):
    """A resolver whose answers for one name change between lookups (DNS rebinding)."""

    def __init__(self, name: str, answers: list[list[str]]) -> None:
        self.name, self.answers, self.calls = name, answers, 0

    async def getaddrinfo(self, host: bytes | str | None, port: bytes | str | int | None, family: int = 0,
                          type: int = 0, proto: int = 0, flags: int = 0) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else host
        if name != self.name:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, int(port or 0))) for a in answer]

    async def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        raise NotImplementedError


async def test_dns_rebinding_second_answer_private_is_refused(nursery: trio.Nursery) -> None:
    """robots.txt resolves to an allowed address, the page (a new connection) to a private one."""
    closing = [("Connection", "close")]
    origin = await Origin({"/robots.txt": lambda h: response("200 OK", b"User-agent: *\nAllow: /\n", closing),
                           "/page": lambda h: response("200 OK", b"secret intranet page")}).start(nursery)
    resolver = Rebinding("rebind.test", [["127.0.0.1"], ["10.0.0.1"]])
    previous = trio.socket.set_custom_hostname_resolver(resolver)
    try:
        # 127.0.0.1/32 stands for "public" here: the only range the guard lets through
        by = await crawl(config(allow=["127.0.0.1/32"], robots=True), [f"http://rebind.test:{origin.port}/page"])
    finally:
        trio.socket.set_custom_hostname_resolver(previous)
    r = by[f"http://rebind.test:{origin.port}/page"]
    assert resolver.calls == 2
    assert r.outcome is Outcome.ADDRESS_REFUSED and "10.0.0.1 is private" in (r.error or "")
    assert [q.split(b" ")[1] for q in origin.requests] == [b"/robots.txt"]


async def test_mixed_answer_connects_only_to_allowed_addresses(nursery: trio.Nursery) -> None:
    origin = await Origin({"/page": lambda h: response("200 OK", b"ok")}).start(nursery)
    resolver = Rebinding("mixed.test", [["10.0.0.1", "169.254.169.254", "127.0.0.1"]])
    previous = trio.socket.set_custom_hostname_resolver(resolver)
    try:
        by = await crawl(config(allow=["127.0.0.1/32"]), [f"http://mixed.test:{origin.port}/page"])
    finally:
        trio.socket.set_custom_hostname_resolver(previous)
    r = by[f"http://mixed.test:{origin.port}/page"]
    assert r.outcome is Outcome.OK and r.hops[0].peer_ip == "127.0.0.1"


async def test_redirects_to_private_addresses_refused(nursery: trio.Nursery) -> None:
    targets = {"/to-loopback2": "http://127.0.0.2:{port}/x", "/to-private": "http://10.0.0.1/x",
               "/to-v6": "http://[::1]:{port}/x", "/to-mapped": "http://[::ffff:127.0.0.2]:{port}/x",
               "/to-decimal": "http://2130706434:{port}/x", "/to-metadata": "http://169.254.169.254/latest/meta-data/"}
    routes: dict[str, Any] = {}
    origin = Origin(routes)
    for path, target in targets.items():
        routes[path] = (lambda t: lambda h: response("302 Found", headers=[
            ("Location", t.format(port=origin.port))]))(target)
    await origin.start(nursery)
    urls = [f"http://127.0.0.1:{origin.port}{p}" for p in targets]
    by = await crawl(config(allow=["127.0.0.1/32"]), urls)
    for url in urls:
        r = by[url]
        assert r.outcome is Outcome.ADDRESS_REFUSED, (url, r.outcome, r.error)
        assert [h.response.status for h in r.hops] == [302]     # the redirect itself is archived
    assert sorted(q.split(b" ")[1].decode() for q in origin.requests) == sorted(targets)   # no /x followed


# -- paths -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["../escape", "a/b", "/etc/cron.d/x", "..", ".hidden", "a b", "x" * 101])
def test_warc_prefix_that_could_leave_the_folder_is_refused(prefix: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"warc\.prefix"):
        Config().with_overrides(warc={"prefix": prefix})
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[warc]\nprefix = {json.dumps(prefix)}\n", encoding="utf-8")
    assert main(["archive", "http://127.0.0.1:9/x", "--config", str(cfg), "--out", str(tmp_path / "out")]) == 2


def test_warc_filename_refuses_separators() -> None:
    from datetime import UTC, datetime

    from archive.warcfile import warc_filename

    for prefix, host in (("../x", "h"), ("p", "a/b"), (".p", "h")):
        with pytest.raises(ValueError):
            warc_filename(prefix, datetime(2024, 1, 1, tzinfo=UTC), 0, host)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_corpus_links_and_odd_names_write_nothing_outside_the_collection(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "elsewhere.txt").write_text("A title from elsewhere\n\nbody\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "..doc.txt").write_text("Dots\n\nbody\n", encoding="utf-8")
    (corpus / "a..b.txt").write_text("---\ntitle: x\noriginalUrl: http://127.0.0.1:9/x\n---\n", encoding="utf-8")
    (corpus / "link-out").symlink_to(outside, target_is_directory=True)
    (corpus / "link-file").symlink_to(outside / "elsewhere.txt")
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)
    out = tmp_path / "collection"
    cfg = tmp_path / "c.toml"
    cfg.write_text("[politeness]\nrobots = false\nmax_attempts = 1\n[network]\nconnect_timeout = 0.5\n"
                   "fetch_deadline = 1.0\n", encoding="utf-8")
    before = _tree(tmp_path)
    assert main(["archive", str(corpus), "--config", str(cfg), "--out", str(out), "--quiet", "--json"]) == 0
    created = _tree(tmp_path) - before
    assert created and all(c == "collection" or c.startswith("collection/") for c in created), created
    docs = [json.loads(x) for x in (out / "report.jsonl").read_text(encoding="utf-8").splitlines()]
    ids = [d["document"] for d in docs if d.get("record") == "document"]
    assert ids and all(not i.startswith("/") and ".." not in i.split("/") for i in ids), ids
    assert "link-out/elsewhere.txt" in ids          # links are followed, but named inside the corpus


# -- the report in a browser ---------------------------------------------------------------------------

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
XSS_PAGE = ("</title><script>document.documentElement.setAttribute('data-xss','page')</script>"
            "<img src=x onerror=\"document.documentElement.setAttribute('data-xss','page-img')\">")
XSS_CORPUS = ("</script><script>document.documentElement.setAttribute('data-xss','corpus')</script>"
              "\"><img src=x onerror=\"document.documentElement.setAttribute('data-xss','corpus-img')\">")


def _chromium_check() -> Any:
    spec = importlib.util.spec_from_file_location("check_report_chromium", REPO / "scripts" / "check_report_chromium.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.check


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("xss")
    corpus = tmp / "corpus"
    corpus.mkdir()
    body = ("<!doctype html><html><head><title><script>document.documentElement.setAttribute('data-xss','t')"
            f"</script>{XSS_PAGE}</title><meta property='og:title' content=\"{XSS_PAGE}\"></head><body><article>"
            + "<p>Paragraph of a hostile page &lt;script&gt; that is long enough to count as an article.</p>" * 6
            + "</article></body></html>").encode()
    origin = HostileOrigin()
    origin.route("/story", [head("200 OK", [("Content-Type", "text/html; charset=utf-8")], length=len(body)) + body])
    origin.route("/gone", [head("404 Not Found", [("X-Note", XSS_PAGE)], length=0)])
    with serve_hostile(origin) as origin:
        base = f"http://xss.test:{origin.port}"
        (corpus / "doc<script>.txt").write_text(
            f"---\ntitle: {json.dumps(XSS_CORPUS)}\nexcerpt: {json.dumps(XSS_CORPUS)}\n"
            f"originalUrl: \"{base}/story\"\nrelated:\n  - title: {json.dumps(XSS_CORPUS)}\n"
            f"    webUrl: \"{base}/gone?q=\\\"><script>alert(1)</script>\"\n---\n", encoding="utf-8")
        (corpus / "plain.txt").write_text(f"{XSS_CORPUS}\n\nA stored body with </script> inside.\n", encoding="utf-8")
        out = tmp / "collection"
        assert main(["archive", str(corpus), "--out", str(out), "--quiet", "--no-robots", "--delay", "0",
                     "--allow-network", "127.0.0.0/8", "--resolve", f"xss.test:{origin.port}:127.0.0.1"]) == 0
    yield out / "report.html"


def test_report_has_hostile_data(hostile_report: Path) -> None:
    html = hostile_report.read_text(encoding="utf-8")
    assert "data-xss" in html            # the payloads are there (escaped), so the browser check means something
    assert "<script>document.documentElement" not in html


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH")
def test_no_script_from_pages_or_corpus_runs_in_chromium(hostile_report: Path, tmp_path: Path) -> None:
    check = _chromium_check()
    assert check(hostile_report, CHROMIUM) == []
    # and the check can fail: the same payload written raw into a page that has the report's landmarks
    raw = tmp_path / "raw.html"
    raw.write_text(f"<html><body><p id='shown'>1 of 1 URLs shown</p><table id='urls'></table>"
                   f"<table id='docs'></table>{XSS_CORPUS}</body></html>", encoding="utf-8")
    assert any("data-xss" in p for p in check(raw, CHROMIUM))


# -- secrets -------------------------------------------------------------------------------------------

SECRET = "s3cr3t-Pr0xy-pw"


def _leaks(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for p in root.rglob("*"):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if p.name.endswith(".gz"):
            data = gzip.decompress(data)
        found += [f"{p.name}: {n!r}" for n in needles if n in data]
    return found


def test_proxy_credentials_never_written(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    origin = HostileOrigin()
    body = b"<html><body><p>through the proxy</p></body></html>"
    for url in ("http://proxied.test/page", "http://proxied.test/robots.txt"):
        origin.route(url, [head("200 OK", [("Content-Type", "text/html")], length=len(body)) + body])
    needles = [SECRET.encode(), base64.b64encode(f"operator:{SECRET}".encode()), b"operator:"]
    with serve_hostile(origin) as origin:
        cfg = tmp_path / "c.toml"
        cfg.write_text(f"[politeness]\ndelay = 0.0\nmax_attempts = 1\n[network]\n"
                       f"proxy = \"http://operator:{SECRET}@127.0.0.1:{origin.port}\"\n"
                       f"fetch_deadline = 2.0\n", encoding="utf-8")
        out = tmp_path / "collection"
        assert main(["archive", "http://proxied.test/page", "--config", str(cfg), "--out", str(out), "--json"]) == 0
        # a proxy that refuses connections: the error texts must not carry the credentials either
        dead = tmp_path / "dead.toml"
        port = _free_port()
        dead.write_text(f"[politeness]\ndelay = 0.0\nmax_attempts = 1\n[network]\n"
                        f"proxy = \"http://operator:{SECRET}@127.0.0.1:{port}\"\n", encoding="utf-8")
        assert main(["archive", "http://proxied.test/other", "--config", str(dead), "--out",
                     str(tmp_path / "dead-out"), "--json"]) == 0
    hits = origin.hits(path="http://proxied.test/page")
    assert hits and b"Proxy-Authorization: Basic" in hits[0].head          # the credentials were used
    report = [json.loads(x) for x in (out / "report.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(r.get("outcome") == "ok" for r in report if r.get("record") == "url")
    captured = capfd.readouterr()
    assert all(n.decode() not in captured.out + captured.err for n in needles)
    assert _leaks(out, needles) == [] and _leaks(tmp_path / "dead-out", needles) == []
    warcinfo = gzip.decompress(next((out / "warcs").glob("*.warc.gz")).read_bytes())
    assert b"***@127.0.0.1" in warcinfo                 # the proxy is recorded, redacted


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_logging_of_the_config_redacts() -> None:
    cfg = Config().with_overrides(network={"proxy": f"http://operator:{SECRET}@proxy.example:3128"})
    assert SECRET not in json.dumps(cfg.to_dict())
    assert SECRET not in repr(cfg.to_dict(redact=True))

