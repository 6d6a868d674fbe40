"""`citecrawl archive` against a hostile origin: every misbehaviour in ONE run, beside good pages.

Each case is a host of its own (``--resolve NAME:PORT:127.0.0.1``) whose server
misbehaves in one way (tests/hostile.py plays the bytes). The run is one
``citecrawl archive`` over every case URL and a few well-behaved control pages,
with robots.txt on, short deadlines and two attempts. Then, per case: the typed
outcome (report.jsonl), the WARC records kept for it (and whether they are marked
truncated); for the run: every WARC valid (warcio and FastWARC), the state store
pointing at real records, and every control page archived whole — nothing else lost.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import random
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme

from crawler.cli import main
from tests.collection_checks import check_state_matches_warcs, check_warcs_valid, records_by_url
from tests.hostile import CLOSE, HANG, RESET, HostileOrigin, head, serve_hostile

ARTICLE = ("<!doctype html><html><head><meta charset='utf-8'><title>Control page</title></head><body><article>"
           + "<p>The harbour council met on Monday to discuss the new ferry timetable for the islands.</p>" * 8
           + "</article></body></html>").encode()


def page(body: bytes = ARTICLE, *, ctype: str = "text/html; charset=utf-8", extra: tuple[tuple[str, str], ...] = (),
         status: str = "200 OK") -> bytes:
    return head(status, [("Content-Type", ctype), *extra], length=len(body)) + body


def dribble(data: bytes, every: float) -> list[Any]:
    out: list[Any] = []
    for b in data:
        out += [bytes([b]), every]
    return out


@dataclass
class Case:
    name: str
    routes: dict[str, Any]                  # path -> script on this case's host
    outcome: str                            # expected report outcome of the first URL
    path: str = "/"
    status: int | None = None
    responses: int | None = None            # response/revisit records expected for the URL (None: don't check)
    truncated: str | None = None            # WARC-Truncated of the last response record
    detail: str | None = None               # substring of the report's detail
    tls: str | None = None                  # served on this TLS listener instead of plain HTTP
    robots: Any = None                      # robots.txt script (default: 404)
    more: dict[str, str] = field(default_factory=dict)   # other paths on the host: expected outcome


def _gzip_bomb() -> bytes:
    return gzip.compress(b"<html><body>" + b"\0" * 30_000_000, compresslevel=9)


def _chain(n: int) -> dict[str, Any]:
    routes: dict[str, Any] = {f"/chain/{i}": [head("302 Found", [("Location", f"/chain/{i + 1}")], length=0)]
                              for i in range(n)}
    routes[f"/chain/{n}"] = [page()]
    return routes


def _thousands_of_headers() -> bytes:
    return head("200 OK", [(f"X-H{i}", "v") for i in range(10_000)], length=len(ARTICLE)) + ARTICLE


def cases() -> list[Case]:
    rng = random.Random(9)
    binary = bytes(rng.randrange(256) for _ in range(4096))
    robots_huge = b"User-agent: *\nDisallow: /blocked\n" + b"# filler line of a huge robots.txt\n" * 60_000
    return [
        # -- connections
        Case("reset-head", {"/": [b"HTTP/1.1 200 OK\r\nContent-Ty", RESET]}, "network", responses=0),
        Case("reset-body", {"/": [head("200 OK", [("Content-Type", "text/html")], length=100_000),
                                  ARTICLE[:500], RESET]}, "ok", status=200, responses=1, truncated="disconnect"),
        Case("never-answers", {"/": [HANG]}, "timeout", responses=0),
        Case("byte-per-second-head", {"/": dribble(page(), 1.0)}, "timeout", responses=0),
        Case("byte-per-second-body", {"/": [head("200 OK", [("Content-Type", "text/html")], length=len(ARTICLE)),
                                            *dribble(ARTICLE, 1.0)]}, "ok", status=200, responses=1,
             truncated="time"),
        # -- framing
        Case("length-too-large-close", {"/": [page()[:-100], b"", CLOSE]}, "ok", status=200, responses=1,
             truncated="disconnect"),
        Case("length-too-large-silent", {"/": [page()[:-100], HANG]}, "ok", status=200, responses=1,
             truncated="time"),
        Case("length-too-small", {"/": [head("200 OK", [("Content-Type", "text/html")], length=100) + ARTICLE],
                                  "/after": [page()]},
             "ok", status=200, responses=1, more={"/after": "ok"}),
        Case("chunked-bad-size", {"/": [head("200 OK", [("Content-Type", "text/html"),
                                                        ("Transfer-Encoding", "chunked")]),
                                        b"100\r\n" + ARTICLE[:256] + b"\r\nzz\r\nbroken", CLOSE]},
             "ok", status=200, responses=1, truncated="disconnect"),
        Case("chunked-cut", {"/": [head("200 OK", [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")]),
                                   b"4000\r\n" + ARTICLE[:300], CLOSE]},
             "ok", status=200, responses=1, truncated="disconnect"),
        Case("gzip-invalid", {"/": [page(b"\x1f\x8b\x08\x00" + binary[:2000], extra=(("Content-Encoding", "gzip"),))]},
             "ok", status=200, responses=1, detail="content decoding failed"),
        Case("gzip-bomb", {"/": [page(_gzip_bomb(), extra=(("Content-Encoding", "gzip"),))]},
             "ok", status=200, responses=1, detail="content decoding failed"),
        # -- charsets
        Case("charset-unknown", {"/": [page(ctype="text/html; charset=x-no-such-charset")]}, "ok", status=200,
             responses=1),
        Case("charset-lying-utf8", {"/": [page(ARTICLE.replace(b"harbour", "港口".encode("gbk")))]}, "ok",
             status=200, responses=1),
        Case("charset-lying-utf16", {"/": [page(ctype="text/html; charset=utf-16")]}, "ok", status=200,
             responses=1),
        # -- huge heads
        Case("headers-10000", {"/": [_thousands_of_headers()]}, "protocol_error", responses=0,
             detail="response head of"),
        Case("headers-1mb", {"/": [head("200 OK", [("X-Big", "a" * 1_000_000)], length=len(ARTICLE)) + ARTICLE]},
             "protocol_error", responses=0),
        # -- redirects
        Case("redirect-loop", {"/": [head("302 Found", [("Location", "/b")], length=0)],
                               "/b": [head("301 Moved", [("Location", "/")], length=0)]},
             "redirect_loop", status=301, responses=2),
        Case("redirect-self", {"/": [head("302 Found", [("Location", "/")], length=0)]},
             "redirect_loop", status=302, responses=1),
        Case("redirect-chain-50", _chain(50), "too_many_redirects", path="/chain/0", status=302, responses=11),
        # -- retry-after
        Case("retry-after-huge", {"/": [page(status="429 Too Many Requests", extra=(("Retry-After", "9" * 40),))]},
             "deferred", status=429, responses=1, detail="exceeds politeness.max_retry_after"),
        Case("retry-after-negative", {"/": [page(status="503 Service Unavailable", extra=(("Retry-After", "-30"),))]},
             "http_error", status=503, responses=2),
        Case("retry-after-garbage", {"/": [page(status="429 Too Many Requests",
                                                extra=(("Retry-After", "soon\xb2\xb3"),))]},
             "http_error", status=429, responses=2),
        Case("retry-after-superscript", {"/": [page(status="429 Too Many Requests", extra=(("Retry-After", "\xb2"),))]},
             "http_error", status=429, responses=2),
        Case("retry-after-1970", {"/": [page(status="503 Service Unavailable",
                                             extra=(("Retry-After", "Thu, 01 Jan 1970 00:00:00 GMT"),))]},
             "http_error", status=503, responses=2),
        # -- 1xx
        Case("continue-100", {"/": [b"HTTP/1.1 100 Continue\r\n\r\n", page()]}, "ok", status=200, responses=1),
        Case("early-hints-103", {"/": [head("103 Early Hints", [("Link", "</style.css>; rel=preload")]),
                                       head("102 Processing"), page()]}, "ok", status=200, responses=1),
        Case("only-100-then-close", {"/": [b"HTTP/1.1 100 Continue\r\n\r\n", CLOSE]}, "protocol_error",
             responses=0),
        # -- robots.txt
        Case("robots-huge", {"/": [page()], "/blocked": [page()]}, "ok", responses=1,
             robots=[page(robots_huge, ctype="text/plain")], more={"/blocked": "robots_disallowed"}),
        Case("robots-binary", {"/": [page()]}, "ok", responses=1, robots=[page(binary, ctype="text/plain")]),
        Case("robots-html", {"/": [page()]}, "ok", responses=1, robots=[page()]),
        Case("robots-gzip-bomb", {"/": [page()]}, "ok", responses=1,
             robots=[page(_gzip_bomb(), ctype="text/plain", extra=(("Content-Encoding", "gzip"),))]),
        Case("robots-times-out", {"/": [page()]}, "robots_disallowed", responses=0, robots=[HANG]),
        # -- TLS
        Case("tls-expired", {"/": [page()]}, "tls", responses=0, tls="expired"),
        Case("tls-wrong-host", {"/": [page()]}, "tls", responses=0, tls="wrong-host"),
        Case("tls-self-signed", {"/": [page()]}, "tls", responses=0, tls="self-signed"),
        Case("tls-good", {"/": [page()]}, "ok", status=200, responses=1, tls="good"),
    ]


CASES = cases()
CONTROLS = ("control-a", "control-b", "control-c")


def host_of(case: Case | str) -> str:
    return f"{case.name if isinstance(case, Case) else case}.hostile.test"


def tls_contexts(tmp: Path) -> tuple[dict[str, ssl.SSLContext], Path]:
    ca, stranger = trustme.CA(), trustme.CA()
    now = dt.datetime.now(dt.UTC)
    certs = {
        "good": ca.issue_cert(host_of("tls-good")),
        "expired": ca.issue_cert(host_of("tls-expired"), not_before=now - dt.timedelta(days=30),
                                 not_after=now - dt.timedelta(days=1)),
        "wrong-host": ca.issue_cert("somebody-else.example"),
        "self-signed": stranger.issue_cert(host_of("tls-self-signed")),
    }
    contexts = {}
    for name, cert in certs.items():
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(ctx)
        contexts[name] = ctx
    bundle = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return contexts, bundle


def url_of(origin: HostileOrigin, case: Case, path: str | None = None) -> str:
    if case.tls:
        return f"https://{host_of(case)}:{origin.tls_ports[case.tls]}{path or case.path}"
    return f"http://{host_of(case)}:{origin.port}{path or case.path}"


@dataclass
class Run:
    out: Path
    origin: HostileOrigin
    code: int
    report: dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("hostile")
    contexts, bundle = tls_contexts(tmp)
    origin = HostileOrigin()
    for case in CASES:
        for path, script in case.routes.items():
            origin.route(path, script, host=host_of(case))
        if case.robots is not None:
            origin.route("/robots.txt", case.robots, host=host_of(case))
    for name in CONTROLS:
        origin.route("/page", [page()], host=host_of(name))
    with serve_hostile(origin, tls=contexts) as origin:
        resolve = [f"{host_of(c)}:{origin.tls_ports[c.tls] if c.tls else origin.port}:127.0.0.1" for c in CASES]
        resolve += [f"{host_of(n)}:{origin.port}:127.0.0.1" for n in CONTROLS]
        cfg = tmp / "hostile.toml"
        cfg.write_text(f"""
[politeness]
delay = 0.0
jitter = 0.0
max_attempts = 2
backoff_base = 0.05
backoff_max = 0.1
concurrency = 64
[network]
fetch_deadline = 0.5
read_timeout = 0.4
connect_timeout = 1.0
max_redirects = 10
max_body_bytes = 2000000
allow_networks = ["127.0.0.0/8"]
ca_bundle = "{bundle}"
resolve = {json.dumps(resolve)}
[extract]
max_decompressed_bytes = 1000000
[warc]
rollover_bytes = 1000000
""", encoding="utf-8")
        urls = [url_of(origin, c) for c in CASES]
        urls += [url_of(origin, c, p) for c in CASES for p in c.more]
        urls += [f"http://{host_of(n)}:{origin.port}/page" for n in CONTROLS]
        out = tmp / "collection"
        code = main(["archive", *urls, "--config", str(cfg), "--out", str(out), "--quiet", "--json"])
        lines = [json.loads(x) for x in (out / "report.jsonl").read_text(encoding="utf-8").splitlines()]
        report = {x["url"]: x for x in lines if x.get("record") == "url"}
        yield Run(out, origin, code, report)


def test_the_run_completes(hostile_run: Run) -> None:
    assert hostile_run.code == 0
    assert not list((hostile_run.out / "warcs").glob("*.open"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_outcome_and_records(hostile_run: Run, case: Case) -> None:
    url = url_of(hostile_run.origin, case)
    rec = hostile_run.report[url]
    assert rec["outcome"] == case.outcome, rec
    if case.status is not None:
        assert rec["status"] == case.status, rec
    if case.detail is not None:
        assert case.detail in (rec["detail"] or ""), rec
    records = records_by_url(hostile_run.out)
    # the URLs of this case's hops: its own routes, except the separate URLs of ``more``
    chain = [url_of(hostile_run.origin, case, p) for p in case.routes if p not in case.more]
    responses = [r for u in chain for r in records.get(u, []) if r.record_type in ("response", "revisit")]
    if case.responses is not None:
        assert len(responses) == case.responses, (case.name, responses)
    if case.responses:
        last = [r for r in records.get(rec["final_url"] or url, []) if r.record_type == "response"][-1]
        assert last.truncated == case.truncated, last
        requests = [r for u in chain for r in records.get(u, []) if r.record_type == "request"]
        assert len(requests) == len(responses)          # every response kept with its request
    for path, outcome in case.more.items():
        assert hostile_run.report[url_of(hostile_run.origin, case, path)]["outcome"] == outcome


def test_nothing_else_lost(hostile_run: Run) -> None:
    records = records_by_url(hostile_run.out)
    for name in CONTROLS:
        url = f"http://{host_of(name)}:{hostile_run.origin.port}/page"
        assert hostile_run.report[url]["outcome"] == "ok"
        (resp,) = [r for r in records[url] if r.record_type == "response"]
        assert resp.truncated is None and resp.status == 200


def test_warcs_valid_and_state_consistent(hostile_run: Run) -> None:
    assert check_warcs_valid(hostile_run.out) == []
    assert check_state_matches_warcs(hostile_run.out) == []


def test_robots_rules_and_fetches(hostile_run: Run) -> None:
    origin = hostile_run.origin
    # robots.txt is fetched once per host; a host whose robots.txt timed out gets no page request at all
    for case in CASES:
        if case.tls and case.tls != "good":
            continue
        assert len(origin.hits(host_of(case), "/robots.txt")) in (1, 2), case.name   # 2: a retried timeout
    assert origin.hits(host_of("robots-times-out"), "/") == []
    assert origin.hits(host_of("robots-huge"), "/blocked") == []


def test_no_url_fetched_more_than_its_attempts(hostile_run: Run) -> None:
    counts: dict[tuple[str, str], int] = {}
    for hit in hostile_run.origin.hits():
        counts[(hit.host, hit.path)] = counts.get((hit.host, hit.path), 0) + 1
    assert max(counts.values()) <= 2, counts        # max_attempts = 2


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="linux only")
def test_hostile_table(hostile_run: Run) -> None:
    """Print the case table (``pytest -s``) for the report: case, outcome, records kept."""
    records = records_by_url(hostile_run.out)
    for case in CASES:
        url = url_of(hostile_run.origin, case)
        rec = hostile_run.report[url]
        kept = sum(1 for u, rs in records.items() if u.startswith(url.rsplit("/", 1)[0]) and "robots.txt" not in u
                   for r in rs)
        print(f"| {case.name} | {rec['outcome']} {rec['status'] or ''} | {kept} records |")
