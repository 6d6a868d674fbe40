"""report.jsonl fields, report.html escaping and structure, the terminal summary, partial reports."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from archive.images import ImageInfo
from archive.report import HTML_NAME, JSONL_NAME, url_record, write_reports
from archive.report_html import render_html, script_json, word_diff
from archive.report_spool import SPOOL_DIR, ReportSpool
from archive.report_terminal import plain_summary, print_summary
from archive.summary import summarize
from archive.verdicts import (
    Citation,
    DocumentInput,
    DocumentVerdict,
    Fetched,
    FoundArticle,
    Snapshot,
    ThresholdValues,
    UrlInput,
    UrlVerdict,
    Verdict,
    judge_document,
    judge_url,
)
from tests.texts import EN, EN_OTHER, ZH, text

EVIL = '</script><script>alert("x")</script><!-- <img src=x onerror=alert(1)> & "quotes"'
WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
URL_FIELDS = ["record", "url", "verdict", "kind", "needs_attention", "citations", "documents", "snapshot", "outcome",
              "status", "final_url", "redirects", "content_type", "detail", "basis", "recall", "precision",
              "similarity", "title_similarity", "excerpt_score", "published_cited", "published_found",
              "published_same_day", "image_type", "image_width", "image_height", "cited_sizes", "content_verdict",
              "paragraphs", "notes"]
DOC_FIELDS = ["record", "document", "title", "verdict", "needs_attention", "source_url", "url_verdicts", "detail"]
RUN_FIELDS = ["record", "generated", "partial", "urls", "documents", "url_verdicts", "document_verdicts", "attention"]


def sample() -> tuple[list[UrlVerdict], list[DocumentVerdict]]:
    t = ThresholdValues()
    changed = [*EN[:3], EN_OTHER[0], *EN[4:]]
    items = [
        UrlInput("https://news.example.com/a", (Citation("doc<1>", "originalUrl", title=EVIL),),
                 Fetched("ok", 200, "https://news.example.com/a", (), "text/html",
                         article=FoundArticle(EVIL, text(changed), tuple(changed), "2022-01-24")),
                 Snapshot("doc<1>", title=EVIL, text=text(EN) + "\n" + EVIL, published="2022-01-24T10:00:00Z")),
        UrlInput("https://example.cn/zh", (Citation("doc2", "webUrl", title="计算中心"),),
                 Fetched("ok", 200, "https://example.cn/zh", (), "text/html",
                         article=FoundArticle("计算中心", text(ZH), tuple(ZH))),
                 Snapshot("doc2", title="计算中心", text=text(ZH))),
        UrlInput("https://img.example.com/x.png", (Citation("doc<1>", "images[0].url", width=100, height=50),),
                 Fetched("ok", 200, None, (), "image/png", image=ImageInfo("image/png", 50, 25))),
        UrlInput("javascript:alert(1)", (Citation("doc2", "body.a"),), Fetched("http_error", 404, detail=EVIL)),
        UrlInput("https://later.example.com/", (Citation("doc2", "body.a"),), None),
    ]
    urls = [judge_url(i, t, min_article_chars=50) for i in items]
    by_url = {v.url: v.verdict for v in urls}
    docs = [judge_document(DocumentInput("doc<1>", EVIL, items[0].url, tuple(i.url for i in items)), by_url),
            judge_document(DocumentInput("doc2", "计算中心", items[1].url, (items[1].url, items[3].url)), by_url),
            judge_document(DocumentInput("doc3", "no link"), by_url)]
    return urls, docs


def test_jsonl_fields_are_stable(tmp_path: Path) -> None:
    urls, docs = sample()
    paths, summary = write_reports(tmp_path, urls, docs, generated=WHEN)
    assert paths.jsonl == tmp_path / JSONL_NAME and paths.html == tmp_path / HTML_NAME
    lines = [json.loads(line) for line in paths.jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r["record"] for r in lines] == ["run"] + ["url"] * 5 + ["document"] * 3
    assert list(lines[0]) == RUN_FIELDS
    assert all(list(r) == URL_FIELDS for r in lines[1:6])
    assert all(list(r) == DOC_FIELDS for r in lines[6:])
    run = lines[0]
    assert run["partial"] is False and run["generated"] == "2024-05-01T12:00:00+00:00"
    assert run["url_verdicts"] == {"major_changes": 1, "unchanged": 1, "image_changed": 1, "gone": 1, "pending": 1}
    assert run["document_verdicts"] == {"major_changes": 1, "unchanged": 1, "no_source": 1}
    assert run["attention"] == summary.attention == 3
    first = lines[1]
    assert first["verdict"] == "major_changes" and first["basis"] == "text" and first["snapshot"] == "doc<1>"
    assert first["paragraphs"] == {"kept": 5, "changed": 0, "removed": 2, "added": 1, "moved": 0}
    assert first["published_same_day"] is True and first["title_similarity"] == 1.0
    image = lines[3]
    assert (image["image_width"], image["image_height"], image["cited_sizes"]) == (50, 25, [[100, 50]])
    assert lines[4]["status"] == 404 and lines[4]["detail"] == EVIL
    assert lines[6]["url_verdicts"] == {"gone": 1, "image_changed": 1, "pending": 1, "unchanged": 1}
    assert (tmp_path / JSONL_NAME).stat().st_mode & 0o777 == 0o644


def test_previous_verdicts_limit_attention_to_news(tmp_path: Path) -> None:
    urls, docs = sample()
    previous = {"https://news.example.com/a": Verdict.MAJOR_CHANGES, "javascript:alert(1)": Verdict.GONE}
    _, summary = write_reports(tmp_path, urls, docs, generated=WHEN, previous=previous)
    assert summary.attention == 1
    assert url_record(urls[0], Verdict.MAJOR_CHANGES)["needs_attention"] is False


def test_html_escapes_everything_from_pages_and_corpus(tmp_path: Path) -> None:
    urls, docs = sample()
    paths, _ = write_reports(tmp_path, urls, docs, generated=WHEN)
    page = paths.html.read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<img src=x" not in page and "onerror=alert(1)>" not in page
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "doc&lt;1&gt;" in page and "doc<1>" not in page
    # exactly the two script elements of the template, and the JSON one cannot be closed early
    assert len(re.findall(r"<script\b", page)) == 2 and page.count("</script>") == 2
    assert 'href="javascript:' not in page                    # a javascript: URL is shown, not linked
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r'(src|href)="(https?:)?//', page.split("<body>")[0])  # nothing loaded from outside
    data = re.search(r'<script type="application/json" id="citecrawl-run">(.*?)</script>', page, re.S)
    assert data is not None and json.loads(data.group(1))["urls"] == 5


def test_html_structure(tmp_path: Path) -> None:
    urls, docs = sample()
    paths, _ = write_reports(tmp_path, urls, docs, generated=WHEN, partial=True)
    page = paths.html.read_text(encoding="utf-8")
    assert "Partial report" in page and "(partial)" in page
    assert page.count('<tr data-verdict="') == 8               # 5 URLs and 3 documents
    assert 'id="diff-0"' in page and 'href="#diff-0"' in page   # the changed article has its diff
    assert 'id="diff-1"' not in page                           # the unchanged one has none
    diff = page.split('id="diff-0"')[1]
    assert diff.count('class="removed"') == 2 and diff.count('class="added"') == 1
    assert "Stored (doc&lt;1&gt;)" in diff
    assert "计算中心" in page


def test_partial_report_in_jsonl(tmp_path: Path) -> None:
    urls, docs = sample()
    paths, summary = write_reports(tmp_path / "new" / "dir", urls, docs, generated=WHEN, partial=True)
    run = json.loads(paths.jsonl.read_text(encoding="utf-8").splitlines()[0])
    assert run["partial"] is True and summary.partial
    assert not list(paths.jsonl.parent.glob(".*.tmp"))


def test_failed_write_leaves_the_old_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urls, docs = sample()
    paths, _ = write_reports(tmp_path, urls, docs, generated=WHEN)
    before = paths.html.read_text(encoding="utf-8")

    def broken(*args: object, **kwargs: object) -> str:
        raise KeyboardInterrupt                            # the stream breaks half-way, after the rows

    monkeypatch.setattr("archive.report_spool.html_tail", broken)
    with pytest.raises(KeyboardInterrupt):
        write_reports(tmp_path, urls[:1], docs, generated=WHEN, partial=True)
    assert paths.html.read_text(encoding="utf-8") == before
    assert json.loads(paths.jsonl.read_text(encoding="utf-8").splitlines()[0])["partial"] is True
    assert not list(tmp_path.glob(".*.tmp")) and not (tmp_path / SPOOL_DIR).exists()


def test_script_json_cannot_close_the_element() -> None:
    out = script_json({"a": "</script><!-- x -->", "b": "\u2028&"})
    assert "<" not in out and ">" not in out and "&" not in out and "\u2028" not in out
    assert json.loads(out) == {"a": "</script><!-- x -->", "b": "\u2028&"}


def test_word_diff() -> None:
    assert word_diff("same words", "same words") == ("same words", "same words")
    left, right = word_diff("峰值算力达到数千", "峰值算力达到三千")
    assert left == "峰值算力达到<del>数</del>千" and right == "峰值算力达到<ins>三</ins>千"
    assert word_diff("", "<new>") == ("", "<ins>&lt;new&gt;</ins>")


def test_terminal_summary_plain_when_not_a_terminal(tmp_path: Path) -> None:
    urls, docs = sample()
    paths, summary = write_reports(tmp_path, urls, docs, generated=WHEN)
    buf = io.StringIO()
    print_summary(summary, paths, file=buf)
    out = buf.getvalue().splitlines()
    assert out == plain_summary(summary, paths)
    assert out[0] == "citecrawl: 5 URLs in 3 documents; 3 need a person"
    assert out[1] == "citecrawl: urls: unchanged 1, major_changes 1, gone 1, image_changed 1, pending 1"
    assert out[-1] == f"citecrawl: report: {paths.html} ({paths.jsonl})"
    assert "\x1b[" not in buf.getvalue()


def test_terminal_summary_table_on_a_terminal(tmp_path: Path) -> None:
    urls, docs = sample()
    paths, summary = write_reports(tmp_path / "[odd]", urls, docs, generated=WHEN, partial=True)
    buf = io.StringIO()
    print_summary(summary, paths, console=Console(file=buf, force_terminal=True, width=100, color_system=None))
    out = buf.getvalue()
    assert "PARTIAL" in out and "major changes" in out and "image changed" in out and "no source" in out
    assert "3 need a person" in out and "[odd]" in out and str(paths.jsonl.name) in out


def test_spool_reports_in_corpus_order_whatever_the_judging_order(tmp_path: Path) -> None:
    urls, docs = sample()
    previous = {"javascript:alert(1)": Verdict.GONE}
    with ReportSpool(tmp_path, [v.url for v in urls], previous=previous) as spool:
        assert (tmp_path / SPOOL_DIR).is_dir()
        for n in (3, 0, 4):                                # judged as results came in
            spool.add_url(urls[n])
        assert list(spool.verdicts.missing()) == [urls[1].url, urls[2].url]
        assert list(spool.verdicts) == [urls[0].url, urls[3].url, urls[4].url]
        assert urls[1].url not in spool.verdicts and spool.expects(urls[1].url)
        assert not spool.expects(urls[0].url) and not spool.expects("https://elsewhere.example/")
        for url in spool.verdicts.missing():
            spool.add_url(next(v for v in urls if v.url == url))
        for d in docs:
            spool.add_document(d)
        stats = spool.statistics()
        assert (stats.urls, stats.expected, stats.documents) == (5, 5, 3) and stats.spooled_bytes > 0
        assert dict(spool.verdicts) == {v.url: v.verdict for v in urls}
        paths, summary = spool.finish(generated=WHEN, partial=True)
    assert not (tmp_path / SPOOL_DIR).exists()               # the spool is gone with the run
    assert summary == summarize(urls, docs, generated=WHEN, partial=True, previous=previous)
    # byte for byte what the in-memory rendering makes, diff anchors included
    assert paths.html.read_text(encoding="utf-8") == render_html(summary, urls, docs, previous=previous)
    lines = [json.loads(line) for line in paths.jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r.get("url") for r in lines[1:6]] == [v.url for v in urls]
    assert lines[4]["needs_attention"] is False and lines[1]["needs_attention"] is True
    assert [r["document"] for r in lines[6:]] == [d.document for d in docs]


def test_spool_adds_an_expected_url_once_and_skips_the_rest(tmp_path: Path) -> None:
    urls, _ = sample()
    with ReportSpool(tmp_path, [v.url for v in urls[:2]]) as spool:
        assert spool.add_if_expected(urls[1])
        assert not spool.add_if_expected(urls[1])              # spooled already
        assert not spool.add_if_expected(urls[2])              # not one of the report's URLs
        assert list(spool.verdicts) == [urls[1].url] and list(spool.verdicts.missing()) == [urls[0].url]
    with ReportSpool(tmp_path / "by-place", [v.url for v in urls[:2]]) as spool:   # the place known already
        assert spool.add_at_if_expected(0, urls[0])
        assert not spool.add_at_if_expected(0, urls[0])       # spooled already
        assert not spool.add_at_if_expected(None, urls[2])    # not one of the report's URLs
        assert list(spool.verdicts) == [urls[0].url]


def test_spool_by_place_and_verdicts_of_many_urls(tmp_path: Path) -> None:
    """A caller iterating the report's URLs in order adds by place; a document's roll-up asks for many at once."""
    urls, _ = sample()
    with ReportSpool(tmp_path, [v.url for v in urls]) as spool:
        spool.add_at(2, urls[2])
        spool.add_url(urls[0])
        assert [spool.expects_at(n) for n in range(5)] == [False, True, False, True, True]
        with pytest.raises(ValueError, match="already in the report"):
            spool.add_at(2, urls[2])
        asked = [urls[0].url, urls[1].url, urls[2].url, "https://elsewhere.example/"]
        assert spool.verdicts.of(asked) == {urls[0].url: urls[0].verdict, urls[2].url: urls[2].verdict}


def test_spool_refuses_a_url_twice_and_a_report_with_holes(tmp_path: Path) -> None:
    urls, _ = sample()
    with pytest.raises(ValueError, match="listed twice"):
        ReportSpool(tmp_path, [urls[0].url, urls[1].url, urls[0].url])
    with ReportSpool(tmp_path, [urls[0].url, urls[1].url]) as spool:
        spool.add_url(urls[0])
        with pytest.raises(ValueError, match="already in the report"):
            spool.add_url(urls[0])
        with pytest.raises(KeyError, match="not one of the report's URLs"):
            spool.add_url(urls[2])
        with pytest.raises(ValueError, match="1 of 2 URLs have no record"):
            spool.finish(generated=WHEN)
    assert not (tmp_path / JSONL_NAME).exists() and not (tmp_path / SPOOL_DIR).exists()


def test_spool_without_changed_articles(tmp_path: Path) -> None:
    urls, _ = sample()
    rest = urls[1:]
    with ReportSpool(tmp_path, [v.url for v in rest]) as spool:
        for v in rest:
            spool.add_url(v)
        paths, summary = spool.finish(generated=WHEN)
    page = paths.html.read_text(encoding="utf-8")
    assert "No article changed." in page and 'class="diff"' not in page
    assert page == render_html(summary, rest, [])
