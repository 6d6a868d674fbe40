"""Property tests with hypothesis: the corpus parser, URLs, robots decisions, the comparison and
the record builder, on inputs nobody wrote by hand. Properties where there are some, not only
"does not crash": canonical URLs are fixed points, records round-trip through warcio with
matching digests (FastWARC), a text compared with itself is unchanged.

Example counts are modest (the suite must stay fast); ``--hypothesis-seed`` reproduces a run.
"""

from __future__ import annotations

import io
import itertools
import signal
import string
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.cdxj import index_files
from archive.compare import compare_texts
from archive.reader import ReadFault, iter_records, load_record
from archive.records import capture_records
from crawler.documents import ParsedDocument, parse_document
from crawler.robots import RobotsPolicy
from crawler.urls import SkippedUrl, canonical_url, clean_url, is_http_url
from tests.warcfixtures import make_exchange

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ------------------------------------------------------------------------------------

hosts = st.one_of(
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){1,2}", fullmatch=True),
    st.sampled_from(["127.0.0.1", "[::1]", "xn--fsq.example", "例え.jp", "EXAMPLE.com", "a..b", "", "-x.com"]),
)
path_chars = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@/%?#[] \t\"<>\\^`{|}中é"
urlish = st.one_of(
    st.builds(lambda s, h, p, path: f"{s}://{h}{p}/{path}",
              st.sampled_from(["http", "https", "HTTP", "hTtPs", "ftp", "javascript", "mailto", "data"]),
              hosts, st.sampled_from(["", ":80", ":443", ":8080", ":0", ":99999", ":x"]),
              st.text(alphabet=path_chars, max_size=40)),
    st.text(max_size=60),
)


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """Front matter / plain text / HTML body documents, well- and ill-formed, in several encodings."""
    shape = draw(st.sampled_from(["front", "plain", "html", "bytes"]))
    if shape == "bytes":
        return draw(st.binary(max_size=400))
    title = draw(st.text(max_size=40))
    urls = draw(st.lists(urlish, max_size=4))
    if shape == "plain":
        text = title + "\n\n" + "\n".join(draw(st.lists(st.text(max_size=60), max_size=4)))
    else:
        keys = draw(st.lists(st.sampled_from(["originalUrl", "webUrl", "url", "headimg", "thumbnail", "title",
                                               "excerpt", "publishedDateTime", "date", "secured", ""]),
                             max_size=len(urls) + 2))
        lines = [f"{k}: {draw(st.sampled_from(['', chr(34), chr(39)]))}{u}" for k, u in zip(keys, urls, strict=False)]
        if draw(st.booleans()):
            lines.append("images:\n" + "".join(f"  - url: {u}\n    width: {draw(st.integers(-5, 5000))}\n"
                                               for u in urls))
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["title: [unclosed", "  bad: indent: here", "\t- x", "? |", "&a *a"])))
        lead = "\n" * draw(st.integers(0, 3))
        body = ""
        if shape == "html":
            body = "".join(f'<p><a href="{u}">{title}</a><img src="{u}"></p>' for u in urls)
            body += draw(st.sampled_from(["", "<script>var x='</p>';</script>", "<!-- <a href='http://c.x/'>",
                                          "<div><p>unclosed", "<svg><a xlink:href='http://s.x/'/>"]))
        text = f"{lead}---\n" + "\n".join(lines) + "\n---\n" + body
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "gb18030", "latin-1"]))
    return text.encode(encoding, errors="replace")


# -- properties ------------------------------------------------------------------------------------


@FUZZ
@given(documents())
def test_parse_document_never_raises_and_cites_only_canonical_http_urls(data: bytes) -> None:
    parsed = parse_document(data, doc_id="fuzz/doc.txt", path="/corpus/fuzz/doc.txt")
    assert isinstance(parsed, ParsedDocument)
    assert parsed.document is not None or parsed.problems, "a file yields a document or says why not"
    for url, citation in parsed.citations:
        assert is_http_url(url) and clean_url(url) == url, url
        assert citation.document == "fuzz/doc.txt" and citation.role
    for p in parsed.problems:
        assert p.kind and p.message


@FUZZ
@given(urlish, st.one_of(st.none(), st.just("https://example.org/news/2022/story.html")))
def test_clean_url_is_total_and_canonical_urls_are_fixed_points(raw: str, base: str | None) -> None:
    result = clean_url(raw, base=base)
    if isinstance(result, SkippedUrl):
        assert result.reason
        return
    assert is_http_url(result)
    assert canonical_url(result) == result and clean_url(result) == result
    url = httpx.URL(result)                   # the fetcher can build a request from it
    assert url.scheme in ("http", "https") and url.host


robots_lines = st.lists(st.one_of(
    st.sampled_from(["User-agent: *", "User-agent: citecrawl", "User-agent: other", "Disallow: /", "Disallow:",
                     "Allow: /", "Disallow: /private", "Allow: /private/open", "Disallow: /*.pdf$", "Crawl-delay: 5",
                     "Crawl-delay: -1", "Crawl-delay: abc", "Request-rate: 1/10", "Request-rate: 0/0", "Sitemap: x",
                     "#comment", "", "Disallow: /%E4%B8%AD"]),
    st.text(max_size=30)), max_size=12)


@FUZZ
@given(robots_lines, st.text(alphabet=path_chars, max_size=30), st.integers(100, 599))
def test_robots_decisions_are_total_and_follow_the_status(lines: list[str], path: str, status: int) -> None:
    body = "\n".join(lines).encode()
    policy = RobotsPolicy.from_fetch(status, body, token="citecrawl")
    decision = policy.decide(f"http://example.org/{path}")
    if 200 <= status < 300:
        assert decision in ("allowed", "disallowed")
        delay = policy.crawl_delay()
        assert delay is None or delay == delay          # a number, not NaN
    elif 400 <= status < 500 and status != 429:
        assert decision == "allowed"
    else:
        assert decision == "unavailable"


@FUZZ
@given(st.text(alphabet=string.ascii_lowercase + "/", max_size=12))
def test_robots_disallow_prefix_property(path: str) -> None:
    policy = RobotsPolicy.from_fetch(200, b"User-agent: *\nDisallow: /private\n", token="citecrawl")
    expected = "disallowed" if ("/" + path).startswith("/private") else "allowed"
    assert policy.decide(f"http://example.org/{path}") == expected


texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(["The council met on Monday.", "港口城市启用潮汐能电站。", "A", "", "\n\n", "  ",
                              "Numbers 1 2 3 4 5.", "Ünïcödé wörds hère."]), max_size=12).map(" ".join),
)


@FUZZ
@given(texts, texts)
def test_compare_texts_bounded(stored: str, found: str) -> None:
    c = compare_texts(stored, found)
    for x in (c.recall, c.precision, c.similarity):
        assert 0.0 <= x <= 1.0
    assert c.stored_tokens >= 0 and c.found_tokens >= 0


@FUZZ
@given(texts)
def test_compare_text_with_itself_is_identical(text: str) -> None:
    c = compare_texts(text, text)
    assert (c.recall, c.precision, c.similarity) == (1.0, 1.0, 1.0)


header_names = st.from_regex(r"[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,20}", fullmatch=True)
header_values = st.binary(max_size=60).map(lambda b: bytes(c for c in b if c not in b"\r\n\0").strip(b" \t"))


@FUZZ
@given(st.binary(max_size=3000), st.lists(st.tuples(header_names, header_values), max_size=8),
       st.integers(100, 599), st.text(alphabet=string.ascii_letters + " ", max_size=20),
       st.text(alphabet=string.ascii_letters + string.digits + "/-._~%", max_size=30),
       st.sampled_from(["sha1", "sha256"]))
def test_records_round_trip_through_warcio_and_fastwarc(body: bytes, headers: list[tuple[str, bytes]], status: int,
                                                        reason: str, path: str, algorithm: str) -> None:
    from fastwarc.warc import ArchiveIterator as FastIterator
    from warcio.archiveiterator import ArchiveIterator

    url = f"http://example.org/{path}"
    raw_headers = tuple((k.encode(), v) for k, v in headers)
    ex = make_exchange(url, body, status=status, reason=reason.strip(), headers=raw_headers)
    counter = itertools.count(1)
    pair = capture_records(ex, new_id=lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>",
                           algorithm=algorithm)  # type: ignore[arg-type]
    data = b"".join(b"".join(r.iter_bytes()) for r in pair.records)
    read = list(ArchiveIterator(io.BytesIO(data), ensure_http_headers=False))
    assert [r.rec_type for r in read] == ["response", "request"]
    resp = ArchiveIterator(io.BytesIO(data))
    rec = next(iter(resp))
    assert rec.rec_headers.get_header("WARC-Target-URI") == url
    assert rec.http_headers.get_statuscode() == str(status)
    if status >= 200 and status not in (204, 304):
        assert rec.content_stream().read() == body
    for fast in FastIterator(io.BytesIO(data), parse_http=False):
        assert fast.verify_block_digest()
    ex.close()


@settings(max_examples=50, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_records_any_date(date: datetime) -> None:
    ex = make_exchange(date=date)
    pair = capture_records(ex)
    assert pair.response.header("WARC-Date") is not None
    ex.close()


# -- every real foreign file -------------------------------------------------------------------------


class _Hang(Exception):
    pass


def _alarm(_signum: int, _frame: object) -> None:
    raise _Hang


@pytest.mark.shared_data
@pytest.mark.slow
def test_reader_and_indexer_over_every_shared_file(shared_data: Path) -> None:
    """Every file under ../shared/data/warcs, whatever its name: read, indexed and loaded at each
    record's offset, each within 20 s; a broken file gives a ReadFault naming the file and offset."""
    files = sorted(p for p in (shared_data / "warcs").rglob("*") if p.is_file())
    assert len(files) > 50
    old = signal.signal(signal.SIGALRM, _alarm)
    broken: list[str] = []
    try:
        for path in files:
            signal.setitimer(signal.ITIMER_REAL, 20.0)
            try:
                records = 0
                for item in iter_records(path):
                    if isinstance(item, ReadFault):
                        assert item.message and path.name in item.path, item
                        broken.append(path.name)
                        continue
                    records += 1
                    if records <= 5:       # random access at the offsets the index would store
                        try:
                            load_record(path, item.offset)
                        except (OSError, ValueError) as exc:    # its documented, clear errors
                            assert path.name in str(exc) or str(item.offset) in str(exc), exc
                report = index_files([path])
                assert report is not None
            except _Hang:
                pytest.fail(f"{path}: reading took more than 20 s")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, old)
    assert broken          # the collection has deliberately broken files, each reported as a value
