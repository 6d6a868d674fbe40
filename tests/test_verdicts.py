"""The verdict table: every fetch outcome and every content case, with its evidence."""

from __future__ import annotations

import pytest

from archive.images import ImageInfo
from archive.redirects import is_elsewhere, registered_domain
from archive.verdicts import (
    ATTENTION,
    SEVERITY,
    Citation,
    DocumentInput,
    Fetched,
    FoundArticle,
    Snapshot,
    ThresholdValues,
    UrlInput,
    Verdict,
    judge_document,
    judge_url,
    needs_attention,
    role_kind,
    url_kind,
)
from tests.texts import EN, EN_OTHER, ZH, ZH_OTHER, text

T = ThresholdValues()
URL = "https://news.example.com/2022/01/24/story.html"
ARTICLE_CITE = Citation("doc-0", "originalUrl", title="A new computing centre opens",
                        excerpt="A new computing centre opened on Monday in the port…", published="2022-01-24T14:56:00Z")
IMAGE_CITE = Citation("doc-0", "images[0].url", width=1280, height=720)
LINK_CITE = Citation("doc-3", "body.a")


def article(paragraphs: list[str], title: str = "A new computing centre opens - Example News",
            published: str | None = "2022-01-24T22:56:00+08:00") -> FoundArticle:
    return FoundArticle(title=title, text=text(paragraphs), paragraphs=tuple(paragraphs), published=published)


def ok(found: FoundArticle | None = None, *, image: ImageInfo | None = None, final_url: str = URL,
       content_type: str = "text/html; charset=utf-8", redirects: tuple[str, ...] = ()) -> Fetched:
    return Fetched("ok", 200, final_url, redirects, content_type, image=image, article=found)


def judge(fetch: Fetched | None, *cites: Citation, snapshot: Snapshot | None = None):  # type: ignore[no-untyped-def]
    return judge_url(UrlInput(URL, cites or (ARTICLE_CITE,), fetch, snapshot), T, min_article_chars=100)


@pytest.mark.parametrize(("role", "kind"), [
    ("originalUrl", "article"), ("webUrl", "article"), ("related[3].webUrl", "article"),
    ("images[0].url", "image"), ("related[1].images[0].url", "image"), ("headimg", "image"),
    ("thumbnail", "image"), ("body.img", "image"),
    ("body.a", "link"), ("body.text", "link"), ("argument", "link"), ("provider.url", "link"),
    ("related[0].title", "link"),
])
def test_role_kind(role: str, kind: str) -> None:
    assert role_kind(role) == kind


def test_url_kind_precedence() -> None:
    assert url_kind([LINK_CITE, ARTICLE_CITE]) == "article"
    assert url_kind([ARTICLE_CITE, IMAGE_CITE]) == "image"
    assert url_kind([LINK_CITE], Snapshot("doc-1")) == "article"
    assert url_kind([]) == "link"


@pytest.mark.parametrize(("fetch", "verdict"), [
    (None, Verdict.PENDING),
    (Fetched("deferred", detail="crawl-delay 120 s over the 30 s cap"), Verdict.DEFERRED),
    (Fetched("robots_disallowed"), Verdict.BLOCKED),
    (Fetched("http_error", 401), Verdict.BLOCKED),
    (Fetched("http_error", 403), Verdict.BLOCKED),
    (Fetched("http_error", 451), Verdict.BLOCKED),
    (Fetched("http_error", 404), Verdict.GONE),
    (Fetched("http_error", 410), Verdict.GONE),
    (Fetched("dns", detail="no such host"), Verdict.UNREACHABLE),
    (Fetched("connect"), Verdict.UNREACHABLE),
    (Fetched("tls", detail="certificate has expired"), Verdict.UNREACHABLE),
    (Fetched("timeout"), Verdict.UNREACHABLE),
    (Fetched("address_refused", detail="10.0.0.1 is private"), Verdict.UNREACHABLE),
    (Fetched("http_error", 503), Verdict.UNREACHABLE),
    (Fetched("http_error", 500), Verdict.UNREACHABLE),
    (Fetched("http_error", 429), Verdict.UNREACHABLE),
    (Fetched("http_error", 400), Verdict.ERROR),
    (Fetched("http_error", 418), Verdict.ERROR),
    (Fetched("http_error", None), Verdict.ERROR),
    (Fetched("ok", 304), Verdict.ERROR),
    (Fetched("too_many_redirects"), Verdict.ERROR),
    (Fetched("redirect_loop"), Verdict.ERROR),
    (Fetched("something_new"), Verdict.ERROR),
])
@pytest.mark.parametrize("cite", [ARTICLE_CITE, IMAGE_CITE, LINK_CITE], ids=["article", "image", "link"])
def test_fetch_failures(fetch: Fetched | None, verdict: Verdict, cite: Citation) -> None:
    v = judge(fetch, cite)
    assert v.verdict == verdict
    if fetch is not None:
        assert (v.evidence.outcome, v.evidence.status, v.evidence.detail) == (fetch.outcome, fetch.status, fetch.detail)
    assert v.comparison is None


def test_gone_after_redirect_keeps_the_target() -> None:
    v = judge(Fetched("http_error", 404, "https://news.example.com/404", ("https://news.example.com/404",)))
    assert v.verdict == Verdict.GONE
    assert v.evidence.final_url == "https://news.example.com/404"
    assert v.evidence.redirects == ("https://news.example.com/404",)


# -- articles with a stored body ------------------------------------------------------------------------

@pytest.mark.parametrize(("same", "other"), [(EN, EN_OTHER), (ZH, ZH_OTHER)], ids=["en", "zh"])
def test_article_text_verdicts(same: list[str], other: list[str]) -> None:
    snap = Snapshot("doc-1", title="A new computing centre opens", text=text(same))
    unchanged = judge(ok(article(same)), snapshot=snap)
    assert unchanged.verdict == Verdict.UNCHANGED
    assert unchanged.evidence.basis == "text" and unchanged.evidence.recall == 1.0
    assert unchanged.comparison is not None and unchanged.kind == "article"

    minor = list(same)
    minor[1] = minor[1][: len(minor[1]) * 2 // 3] + ("and cheaply." if same is EN else "廉价地。")
    assert judge(ok(article(minor)), snapshot=snap).verdict == Verdict.MINOR_CHANGES

    major = [*same[:3], *other[:3]]
    v = judge(ok(article(major)), snapshot=snap)
    assert v.verdict == Verdict.MAJOR_CHANGES
    assert v.comparison is not None and v.comparison.counts()["removed"] == 3

    v = judge(ok(article(other)), snapshot=snap)
    assert v.verdict == Verdict.DIFFERENT_PAGE
    assert v.evidence.recall is not None and v.evidence.recall < T.major


def test_changed_title_makes_unchanged_text_minor() -> None:
    snap = Snapshot("doc-1", title="A new computing centre opens", text=text(EN))
    v = judge(ok(article(EN, title="Ferry timetable for the summer festival")), snapshot=snap)
    assert v.verdict == Verdict.MINOR_CHANGES
    assert v.evidence.title_similarity is not None and v.evidence.title_similarity < T.title_similarity
    assert "title changed" in v.evidence.notes


def test_published_date_is_evidence_not_verdict() -> None:
    snap = Snapshot("doc-1", title="A new computing centre opens", text=text(EN), published="2022-01-24T14:56:00Z")
    same_day = judge(ok(article(EN)), snapshot=snap)
    assert same_day.evidence.published is not None and same_day.evidence.published.same_day
    later = judge(ok(article(EN, published="2023-06-05")), snapshot=snap)
    assert later.verdict == Verdict.UNCHANGED
    assert later.evidence.published is not None and not later.evidence.published.same_day
    assert "published date differs" in later.evidence.notes


def test_thresholds_come_from_the_caller() -> None:
    snap = Snapshot("doc-1", text=text(EN))
    minor = list(EN)
    minor[1] = minor[1][: len(minor[1]) * 2 // 3] + "and cheaply."
    strict = judge_url(UrlInput(URL, (ARTICLE_CITE,), ok(article(minor)), snap), T)
    lenient = judge_url(UrlInput(URL, (ARTICLE_CITE,), ok(article(minor)), snap),
                        ThresholdValues(unchanged=0.9, minor=0.8, major=0.3))
    assert (strict.verdict, lenient.verdict) == (Verdict.MINOR_CHANGES, Verdict.UNCHANGED)


# -- articles judged by excerpt and title ----------------------------------------------------------------

@pytest.mark.parametrize(("found", "verdict"), [
    (article(EN), Verdict.UNCHANGED),
    (article(EN, title="Ferry timetable"), Verdict.MINOR_CHANGES),
    (article(EN[1:]), Verdict.MAJOR_CHANGES),
    (article(EN_OTHER, title="Ferry timetable"), Verdict.DIFFERENT_PAGE),
])
def test_excerpt_and_title_basis(found: FoundArticle, verdict: Verdict) -> None:
    v = judge(ok(found))
    assert v.verdict == verdict
    assert v.evidence.basis == "excerpt" and v.evidence.excerpt_score is not None
    assert v.comparison is None


def test_title_only_basis_and_nothing_stored() -> None:
    only_title = Citation("doc-0", "related[0].webUrl", title="A new computing centre opens")
    assert judge(ok(article(EN)), only_title).verdict == Verdict.UNCHANGED
    v = judge(ok(article(EN, title="Ferry timetable")), only_title)
    assert (v.verdict, v.evidence.basis) == (Verdict.DIFFERENT_PAGE, "title")
    bare = judge(ok(article(EN)), Citation("doc-0", "webUrl"))
    assert bare.verdict == Verdict.FETCHED and "nothing stored to compare" in bare.evidence.notes


@pytest.mark.parametrize("fetch", [
    ok(article(EN), content_type="application/pdf"),
    ok(article(["Too short."])),
    ok(None),
    ok(article(EN), content_type="image/jpeg"),
])
def test_not_an_article(fetch: Fetched) -> None:
    assert judge(fetch, snapshot=Snapshot("doc-1", text=text(EN))).verdict == Verdict.NOT_AN_ARTICLE


def test_missing_content_type_is_judged_by_the_text() -> None:
    fetch = Fetched("ok", 200, URL, (), None, article=article(EN))
    assert judge(fetch, snapshot=Snapshot("doc-1", text=text(EN))).verdict == Verdict.UNCHANGED


# -- moves ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("final", "moved"), [
    (URL, False),
    ("http://news.example.com/2022/01/24/story.html", False),
    ("https://www.example.com/2022/01/24/story.html/", False),
    ("https://example.com/", True),
    ("https://news.example.com/2022/01/24/other-story.html", True),
    ("https://news.example.org/2022/01/24/story.html", True),
])
def test_moved(final: str, moved: bool) -> None:
    snap = Snapshot("doc-1", text=text(EN))
    v = judge(ok(article(EN), final_url=final, redirects=(final,) if final != URL else ()), snapshot=snap)
    if moved:
        assert v.verdict == Verdict.MOVED
        assert v.evidence.content_verdict == Verdict.UNCHANGED
        assert v.evidence.final_url == final
    else:
        assert v.verdict == Verdict.UNCHANGED and v.evidence.content_verdict is None


def test_moved_link_and_image_on_a_cdn() -> None:
    assert judge(ok(final_url="https://elsewhere.example.net/"), LINK_CITE).verdict == Verdict.MOVED
    img = judge(ok(image=ImageInfo("image/jpeg", 1280, 720), final_url="https://cdn.example.net/x.jpg",
                   content_type="image/jpeg"), IMAGE_CITE)
    assert img.verdict == Verdict.IMAGE_OK and "redirected elsewhere" in img.evidence.notes


def test_capture_only_decides_from_the_fetch_alone() -> None:
    """A body archived but not read is ``fetched``, whatever its kind; failures and moves still count."""
    from dataclasses import replace

    from archive.verdicts import NOT_COMPARED

    snap = Snapshot("doc-1", text=text(EN))
    for cite in (ARTICLE_CITE, IMAGE_CITE, LINK_CITE):
        v = judge(replace(ok(), examined=False), cite, snapshot=snap)
        assert v.verdict == Verdict.FETCHED and v.evidence.notes == (NOT_COMPARED,) and v.comparison is None
    moved = judge(replace(ok(final_url="https://elsewhere.example.net/"), examined=False), snapshot=snap)
    assert moved.verdict == Verdict.MOVED and moved.evidence.content_verdict == Verdict.FETCHED
    gone = judge(replace(Fetched("http_error", 404), examined=False), snapshot=snap)
    assert gone.verdict == Verdict.GONE


def test_registered_domain_and_elsewhere() -> None:
    assert registered_domain("a.b.example.co.uk") == "example.co.uk"
    assert registered_domain("[::1]") == "[::1]"
    assert not is_elsewhere("https://example.com/a/index.html", "https://example.com/a/")
    assert is_elsewhere("https://example.com/a?id=1", "https://example.com/a?id=2")
    assert not is_elsewhere("https://example.com/a?x=1&y=2", "https://example.com/a?y=2&x=1")
    assert is_elsewhere("https://[::1/a", "https://example.com/a")


# -- images and links ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("info", "verdict"), [
    (ImageInfo("image/jpeg", 1280, 720), Verdict.IMAGE_OK),
    (ImageInfo("image/webp", 1290, 726), Verdict.IMAGE_OK),          # within 2 %
    (ImageInfo("image/jpeg", 640, 360), Verdict.IMAGE_CHANGED),      # resized
    (ImageInfo("image/jpeg", 1280, 800), Verdict.IMAGE_CHANGED),
    (ImageInfo("image/svg+xml"), Verdict.IMAGE_OK),                  # no pixel size to compare
    (None, Verdict.NOT_AN_IMAGE),                                    # e.g. an HTML error page with 200
])
def test_image_verdicts(info: ImageInfo | None, verdict: Verdict) -> None:
    v = judge(ok(image=info, content_type="image/jpeg"), IMAGE_CITE)
    assert v.verdict == verdict and v.kind == "image"
    assert v.evidence.image == info and v.evidence.cited_sizes == ((1280, 720),)


def test_image_cited_at_two_sizes_matches_either() -> None:
    other = Citation("doc-2", "headimg", width=640, height=360)
    v = judge(ok(image=ImageInfo("image/jpeg", 640, 360)), IMAGE_CITE, other)
    assert v.verdict == Verdict.IMAGE_OK and v.evidence.cited_sizes == ((1280, 720), (640, 360))
    assert v.documents == ("doc-0", "doc-2")


def test_image_without_cited_size() -> None:
    v = judge(ok(image=ImageInfo("image/png", 5, 5)), Citation("doc-3", "body.img"))
    assert v.verdict == Verdict.IMAGE_OK and v.evidence.notes == ("size not compared",)


def test_link_fetched() -> None:
    v = judge(ok(), LINK_CITE)
    assert (v.verdict, v.kind, v.evidence.status) == (Verdict.FETCHED, "link", 200)


# -- documents and attention ---------------------------------------------------------------------------

def test_documents_roll_up() -> None:
    snap = Snapshot("doc-1", text=text(EN))
    judged = {
        URL: judge(ok(article(EN)), snapshot=snap),
        "https://img.example.com/a.jpg": judge(ok(image=ImageInfo("image/jpeg", 10, 10)), IMAGE_CITE),
        "https://gone.example.com/": judge(Fetched("http_error", 404), LINK_CITE),
    }
    by_url = {u: v.verdict for u, v in judged.items()}
    doc = judge_document(DocumentInput("doc-1", "Title", URL, (URL, *by_url, "https://not-yet.example.com/")), by_url)
    assert doc.verdict == Verdict.UNCHANGED and doc.source_url == URL
    assert doc.url_counts == {"gone": 1, "image_changed": 1, "pending": 1}
    assert doc.attention_urls == 2
    images_only = judge_document(DocumentInput("doc-2", cited_urls=(URL, "https://gone.example.com/")), by_url)
    assert images_only.verdict == Verdict.GONE and "most serious" in images_only.detail
    assert judge_document(DocumentInput("doc-5", cited_urls=(URL,)), by_url).verdict == Verdict.UNCHANGED
    assert judge_document(DocumentInput("doc-6"), by_url).verdict == Verdict.NO_SOURCE
    assert set(SEVERITY) == set(Verdict)
    assert judge_document(DocumentInput("doc-3", source_url="https://x.example/"), by_url).verdict == Verdict.PENDING
    bad = judge_document(DocumentInput("doc-4", problem="not UTF-8 text"), by_url)
    assert (bad.verdict, bad.detail) == (Verdict.UNREADABLE, "not UTF-8 text")


def test_needs_attention() -> None:
    assert {v for v in Verdict if needs_attention(v)} == ATTENTION
    assert Verdict.MINOR_CHANGES not in ATTENTION and Verdict.BLOCKED not in ATTENTION
    assert needs_attention(Verdict.MOVED, Verdict.UNCHANGED)
    assert not needs_attention(Verdict.MOVED, Verdict.MOVED)
