"""What is read of a fetched body: an article's text, an image's header, a link's integrity only."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime

from archive.exchange import CapturedRequest, CapturedResponse, Exchange, Timings
from crawler.evaluate import examine_body

PAGE = ("<html><head><title>Quay lamps</title></head><body><article>"
        + "<p>The lamps along the quay were lit again after the council found the money for them.</p>" * 10
        + "</article></body></html>").encode()


def _exchange(body: bytes, *headers: tuple[bytes, bytes]) -> Exchange:
    return Exchange(
        request=CapturedRequest("GET", "https://example.org/quay", "/quay", "HTTP/1.1", ((b"Host", b"example.org"),)),
        response=CapturedResponse("HTTP/1.1", 200, "OK", ((b"Content-Type", b"text/html; charset=utf-8"), *headers)),
        date=datetime(2026, 1, 2, tzinfo=UTC), peer_ip=None, timings=Timings(0.0, 0.1, 0.2),
        body=io.BytesIO(body), body_length=len(body))


def test_an_article_page_is_read() -> None:
    found = examine_body(_exchange(PAGE), kind="article", max_decompressed=1 << 20)
    assert found.article is not None and "lamps along the quay" in found.article.text
    assert found.problem == ""


def test_a_link_page_is_decoded_but_its_text_is_not_extracted() -> None:
    found = examine_body(_exchange(gzip.compress(PAGE), (b"Content-Encoding", b"gzip")), kind="link",
                         max_decompressed=1 << 20)
    assert found.article is None and found.problem == ""
    assert found.content_type == "text/html; charset=utf-8"


def test_a_link_page_that_is_broken_says_so() -> None:
    cut = examine_body(_exchange(gzip.compress(PAGE)[:-30], (b"Content-Encoding", b"gzip")), kind="link",
                       max_decompressed=1 << 20)
    assert cut.article is None and cut.problem == "body truncated before the end"
    broken = examine_body(_exchange(b"not gzip at all", (b"Content-Encoding", b"gzip")), kind="link",
                          max_decompressed=1 << 20)
    assert broken.article is None and broken.problem.startswith("content decoding failed")
