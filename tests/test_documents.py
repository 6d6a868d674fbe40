"""One file's bytes → document, citations and problems (crawler.documents and its helpers)."""

from __future__ import annotations

import datetime as dt
import doctest
import hashlib
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler import decoding, frontmatter, htmlbody, titles
from crawler.documents import Document, ParsedDocument, parse_document


@pytest.mark.parametrize("module", [decoding, frontmatter, htmlbody, titles], ids=lambda m: m.__name__)
def test_doctests(module: ModuleType) -> None:
    assert doctest.testmod(module).failed == 0


def parse(text: str | bytes, doc_id: str = "doc.txt") -> ParsedDocument:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_document(data, doc_id=doc_id, path=f"/corpus/{doc_id}")


def doc_of(parsed: ParsedDocument) -> Document:
    assert parsed.document is not None, parsed.problems
    return parsed.document


def roles(parsed: ParsedDocument) -> list[tuple[str, str]]:
    return [(c.role, url) for url, c in parsed.citations]


FRONT_MATTER_ONLY = """\
---
title: "Harbour robots take the night shift"
excerpt: "Automated cranes now unload most container ships after dark."
publishedDateTime: 2023-03-02T21:15:00Z
published: true
originalUrl: "https://news.example.org/2023/harbour-robots.html"
webUrl: "https://NEWS.example.org:443/2023/harbour-robots.html#top"
provider:
  name: Example News
  domain: example.org
images:
  - url: "https://img.example.org/cranes.jpg"
    width: 1600
    height: "900"
related:
  - title: "Port unions weigh automation deal"
    excerpt: "Talks resume on Monday."
    publishedDateTime: 2023-03-01T08:00:00Z
    webUrl: "https://other.example.net/unions"
    images:
      - url: "https://other.example.net/u.png"
        width: 640
        height: 480
secured: "aHR0cHM6Ly9ub3QtYS11cmw="
---
"""


def test_front_matter_only() -> None:
    parsed = parse(FRONT_MATTER_ONLY)
    doc = doc_of(parsed)
    assert doc.shape == "front-matter"
    assert doc.title == "Harbour robots take the night shift"
    assert doc.excerpt == "Automated cranes now unload most container ships after dark."
    assert doc.published == dt.datetime(2023, 3, 2, 21, 15, tzinfo=dt.UTC)
    assert doc.snapshot_url == "https://news.example.org/2023/harbour-robots.html"
    assert doc.snapshot_via == "originalUrl"
    assert doc.body == ""
    assert doc.content_hash == hashlib.sha256(FRONT_MATTER_ONLY.encode()).hexdigest()
    assert roles(parsed) == [
        ("originalUrl", "https://news.example.org/2023/harbour-robots.html"),
        ("webUrl", "https://news.example.org/2023/harbour-robots.html"),
        ("images[0].url", "https://img.example.org/cranes.jpg"),
        ("related[0].webUrl", "https://other.example.net/unions"),
        ("related[0].images[0].url", "https://other.example.net/u.png"),
    ]
    assert doc.urls == tuple(dict.fromkeys(url for _, url in roles(parsed)))
    assert parsed.problems == ()


def test_metadata_comes_from_the_enclosing_mapping() -> None:
    cites = {c.role: c for _, c in parse(FRONT_MATTER_ONLY).citations}
    image = cites["images[0].url"]
    assert (image.title, image.width, image.height) == (None, 1600, 900)
    related = cites["related[0].webUrl"]
    assert related.title == "Port unions weigh automation deal"
    assert related.excerpt == "Talks resume on Monday."
    assert related.published == "2023-03-01T08:00:00+00:00"
    assert cites["related[0].images[0].url"].title is None
    assert cites["originalUrl"].title == "Harbour robots take the night shift"


HTML_DOC = """

---
title: '临港新片区算力中心投入使用'
date: Tue, 07 Mar 2023 10:30:00 +0800
headimg: 'https://img.example.cn/a/head.jpg'
thumbnail: 'https://img.example.cn/a/head.jpg'
---
<base href="https://www.example.cn/news/2023/">
<div>
<p>　　新的<a href="https://finance.example.cn/stock/x.shtml">计算中心</a>今天开始运行。</p>
<div class="img"><img src="https://img.example.cn/a/head.jpg" width="550" height="366"></div>
<p>第二段<br>换行之后</p>
<img src="photo2.jpg">
<a href="javascript:void(0)">分享</a> <a href="mailto:desk@example.cn">来信</a> <a href="#top">顶部</a>
<script>var tracker = "不要这段";</script>
<style>.img{border:0}</style>
<!-- 这是注释 -->
</div>
"""


def test_front_matter_then_html_body() -> None:
    parsed = parse(HTML_DOC)
    doc = doc_of(parsed)
    assert doc.shape == "front-matter+html"
    assert doc.title == "临港新片区算力中心投入使用"
    assert doc.published == dt.datetime(2023, 3, 7, 2, 30, tzinfo=dt.UTC)
    assert doc.body == "新的计算中心今天开始运行。\n第二段\n换行之后\n分享 来信 顶部"
    assert "不要" not in doc.body and "注释" not in doc.body and "border" not in doc.body
    assert roles(parsed) == [
        ("headimg", "https://img.example.cn/a/head.jpg"),
        ("thumbnail", "https://img.example.cn/a/head.jpg"),
        ("body.a", "https://finance.example.cn/stock/x.shtml"),
        ("body.img", "https://img.example.cn/a/head.jpg"),
        ("body.img", "https://www.example.cn/news/2023/photo2.jpg"),  # resolved against <base>
    ]
    body_img = next(c for url, c in parsed.citations if c.role == "body.img")
    assert (body_img.width, body_img.height) == (550, 366)
    assert doc.snapshot_url is None  # headimg is not the page
    skipped = [p.message for p in parsed.problems if p.kind == "skipped-url"]
    assert len(skipped) == 3
    assert any("javascript" in m for m in skipped) and any("mailto" in m for m in skipped)
    assert all(p.is_notice for p in parsed.problems)


def test_relative_links_resolve_against_the_documents_own_url_or_are_skipped() -> None:
    with_url = parse("---\noriginalUrl: https://example.org/news/a.html\n---\n<p><img src='../i/b.jpg'></p>")
    assert ("body.img", "https://example.org/i/b.jpg") in roles(with_url)
    without = parse("---\ntitle: t\n---\n<p><img src='../i/b.jpg'></p>")
    assert roles(without) == []
    assert [p.kind for p in without.problems] == ["skipped-url"]
    assert "no base URL" in without.problems[0].message


def test_plain_text() -> None:
    text = "\n\n  Harbour robots take the night shift  \nBy a staff writer\n\nSee en.lingang.gov.cn or the report " \
           "at https://reports.example.org/2023/cranes.pdf.\n"
    parsed = parse(text)
    doc = doc_of(parsed)
    assert doc.shape == "text"
    assert doc.title == "Harbour robots take the night shift"
    assert doc.body.startswith("By a staff writer") and doc.body.endswith("cranes.pdf.")
    assert roles(parsed) == [("body.text", "https://reports.example.org/2023/cranes.pdf")]
    assert doc.published is None and doc.snapshot_url is None


def test_front_matter_then_text_body() -> None:
    parsed = parse("---\ntitle: Notes\nwebUrl: https://example.org/notes\n---\n# Notes\nMore at https://example.org/more\n")
    doc = doc_of(parsed)
    assert doc.shape == "front-matter+text"
    assert doc.body == "# Notes\nMore at https://example.org/more"
    assert doc.snapshot_via == "webUrl"
    assert roles(parsed)[-1] == ("body.text", "https://example.org/more")


def test_bare_html_page() -> None:
    parsed = parse("<!doctype html><html><head><title> Saved  page </title></head>"
                   "<body><h1>Head</h1><p>Text <a href='https://example.org/x'>x</a></p></body></html>")
    doc = doc_of(parsed)
    assert (doc.shape, doc.title, doc.body) == ("html", "Saved page", "Head\nText x")
    assert roles(parsed) == [("body.a", "https://example.org/x")]


def test_url_in_longer_front_matter_text_and_odd_keys() -> None:
    parsed = parse("---\nnote: 'mirror at https://mirror.example.org/a, or none'\n7: https://example.org/seven\n"
                   "tags: [https://example.org/tag]\nprovider: {domain: example.org}\n---\n")
    assert roles(parsed) == [("note", "https://mirror.example.org/a"), ("7", "https://example.org/seven"),
                             ("tags[0]", "https://example.org/tag")]


def test_same_url_same_role_counted_once_per_document() -> None:
    parsed = parse("---\ntitle: t\n---\n<img src='https://example.org/a.jpg'><img src='https://EXAMPLE.org/a.jpg'>")
    assert roles(parsed) == [("body.img", "https://example.org/a.jpg")]


def test_gbk_text_is_decoded_with_a_notice() -> None:
    text = "临港新片区算力中心投入使用\n今天，新的计算中心在上海开始运行，为周边企业提供算力服务。\n" * 3
    parsed = parse(text.encode("gbk"))
    doc = doc_of(parsed)
    assert doc.title == "临港新片区算力中心投入使用"
    assert doc.encoding == "gb18030"
    assert [p.kind for p in parsed.problems] == ["not-utf8-decoded"]


def test_utf8_bom_and_utf16_with_bom() -> None:
    assert doc_of(parse(b"\xef\xbb\xbf---\ntitle: BOM\n---\n")).title == "BOM"
    doc = doc_of(parse("Title here\nbody".encode("utf-16")))
    assert (doc.title, doc.encoding) == ("Title here", "utf-16")


@pytest.mark.parametrize(("data", "kind"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
    (bytes(range(1, 32)) * 50 + b"\xff\xfe\xfd", "binary"),
    (b"", "empty"),
    (b" \n\t\n  ", "empty"),
    (b"---\ntitle: [unclosed\n---\n", "bad-yaml"),
    (b"---\ntitle: x\nno closing line\n", "bad-yaml"),
    (b"---\n- just\n- a list\n---\n", "bad-yaml"),
    (b"---\na: " + b"[" * 5000 + b"]" * 5000 + b"\n---\n", "bad-yaml"),  # libyaml would crash deeper
    (b"---\na:\n" + b" " * 1200 + b"b: c\n---\n", "bad-yaml"),
])
def test_bad_files_give_one_problem_and_no_document(data: bytes, kind: str) -> None:
    parsed = parse(data)
    assert parsed.document is None
    assert [p.kind for p in parsed.problems][-1] == kind
    assert all(p.path == "doc.txt" for p in parsed.problems)


def test_broken_yaml_names_the_line() -> None:
    parsed = parse("\n\n---\ntitle: ok\nexcerpt: [broken\n---\n")
    assert "line 6" in parsed.problems[0].message or "line 5" in parsed.problems[0].message


def test_tags_are_never_constructed() -> None:
    parsed = parse("---\n!!python/object/apply:os.system\nargs: [echo hi]\nurl: !custom https://example.org/t\n---\n")
    assert roles(parsed) == [("url", "https://example.org/t")]
    assert parsed.problems == ()


def test_scalar_types() -> None:
    parsed = parse("---\nimages:\n  - {url: 'https://example.org/i.png', width: 1_024, height: 7.0}\n"
                   "  - {url: 'https://example.org/j.png', width: wide, height: true}\n---\n")
    sizes = [(c.width, c.height) for _, c in parsed.citations]
    assert sizes == [(1024, 7), (None, None)]


def test_unreadable_date_is_a_notice() -> None:
    for value in ("sometime last spring", "2022-13-45T10:00:00Z"):
        parsed = parse(f"---\ntitle: t\ndate: {value}\nwebUrl: https://example.org/\n---\n")
        assert doc_of(parsed).published is None
        assert [p.kind for p in parsed.problems] == ["bad-date"]


def test_naive_dates_are_taken_as_utc() -> None:
    assert doc_of(parse("---\ndate: 2023-06-05\n---\n")).published == dt.datetime(2023, 6, 5, tzinfo=dt.UTC)
    assert doc_of(parse("---\ndate: '2023-06-05 08:00'\n---\n")).published == dt.datetime(2023, 6, 5, 8, tzinfo=dt.UTC)


def test_alias_bomb_and_self_reference_do_not_blow_up() -> None:
    lines = ["---", 'a0: &a0 ["https://example.org/x", "https://example.org/y"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 20)]
    lines += ["loop: &l [*l]", "---", ""]
    parsed = parse("\n".join(lines))
    assert sorted(url for _, url in roles(parsed)) == ["https://example.org/x", "https://example.org/y"]


# -- fuzz: never raises, whatever the bytes ------------------------------------------------------------

_pieces = st.sampled_from([
    "---\n", "\n", "title: ", "'", '"', "url: ", "https://example.org/a", "http://", "javascript:x", "- ", "  ",
    "images:\n", "  - url: ", "width: 10\n", ": ", "[", "]", "{", "}", "&a ", "*a", "!!str ", "!tag ",
    "<p>", "</p>", "<img src='", "<a href=\"", "#", "<!--", "-->", "<script>", "\x00", "\ufeff", "中文", "date: ",
    "Mon, 24 Jan 2022 03:05:25 GMT", "2022-01-24T14:56:00Z", "9999-99-99", "...\n", "\t", "\r\n",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_pieces, max_size=40).map("".join))
def test_structured_fuzz_never_raises(text: str) -> None:
    _check(parse(text))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_never_raise(data: bytes) -> None:
    _check(parse(data))


def _check(parsed: ParsedDocument) -> None:
    assert (parsed.document is None) == any(not p.is_notice for p in parsed.problems)
    for url, citation in parsed.citations:
        assert url.startswith(("http://", "https://"))
        assert citation.document == "doc.txt"
    if parsed.document is not None:
        assert parsed.document.shape in {"front-matter", "front-matter+html", "front-matter+text", "text", "html"}
        assert isinstance(parsed.document.body, str)
