"""Scanning a corpus: walking folders, aggregating URLs, title linking, problems, scale helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler import corpus as corpus_module
from crawler.corpus import COMMAND_LINE, CitedUrl, ScanResult, iter_documents, load_document, scan
from crawler.errors import UsageError

REPO = Path(__file__).resolve().parent.parent
# ../shared/seeds beside the main checkout; a worktree under ../wt/ looks one level further up
SEEDS = next((p for p in (REPO.parent / "shared" / "seeds", REPO.parent.parent / "shared" / "seeds") if p.is_dir()),
             REPO.parent / "shared" / "seeds")
EXAMPLE = REPO / "config" / "example-corpus"


def write(root: Path, rel: str, content: str | bytes) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def by_url(result: ScanResult) -> dict[str, tuple[tuple[str, str], ...]]:
    return {u.url: tuple((c.document, c.role) for c in u.citations) for u in result.urls}


def kinds(result: ScanResult) -> list[tuple[str, str]]:
    return [(p.path, p.kind) for p in result.problems]


ARTICLE = """\
---
title: "Tidal power plant doubles output"
originalUrl: "https://news.example.org/tidal.html"
webUrl: "https://news.example.org/tidal.html"
images:
  - url: "https://img.example.org/tidal.jpg"
    width: 1200
    height: 800
related:
  - title: "Engineers test new turbine blades"
    webUrl: "https://other.example.net/blades"
  - title: "Why the estuary matters — a “field” guide"
    webUrl: "https://guide.example.com/estuary"
    images:
      - url: "https://img.example.org/tidal.jpg"
---
"""


def test_one_cited_url_carries_every_document_and_role(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", ARTICLE)
    write(tmp_path, "b/c.txt", "---\ntitle: Follow-up\nwebUrl: https://news.example.org/follow\n"
                               "related:\n  - title: x\n    webUrl: 'HTTPS://news.example.org:443/tidal.html#comments'\n---\n")
    result = scan([tmp_path])
    urls = by_url(result)
    assert urls["https://news.example.org/tidal.html"] == (
        ("a.txt", "originalUrl"), ("a.txt", "webUrl"), ("b/c.txt", "related[0].webUrl"))
    assert urls["https://img.example.org/tidal.jpg"] == (("a.txt", "images[0].url"), ("a.txt", "related[1].images[0].url"))
    cited = next(u for u in result.urls if u.url == "https://news.example.org/tidal.html")
    assert cited.roles == ("originalUrl", "webUrl", "related[0].webUrl")
    assert cited.documents == ("a.txt", "b/c.txt")
    assert len(result.urls) == 5
    assert all(d.body is None for d in result.documents)  # bodies are dropped; load_document has them


def test_title_linking_normalises_width_case_quotes_and_punctuation(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", ARTICLE)
    write(tmp_path, "copy1.txt", "ＥＮＧＩＮＥＥＲＳ test new turbine blades!\n\nBody text.")
    write(tmp_path, "copy2.txt", 'Why the estuary matters - a "field" guide\nBody.')
    write(tmp_path, "lonely.txt", "A title nobody cites\nBody mentions example.org only.")
    result = scan([tmp_path])
    docs = {d.id: d for d in result.documents}
    assert (docs["copy1.txt"].snapshot_url, docs["copy1.txt"].snapshot_via) == ("https://other.example.net/blades", "title")
    assert docs["copy2.txt"].snapshot_url == "https://guide.example.com/estuary"
    assert docs["lonely.txt"].snapshot_url is None
    assert docs["a.txt"].snapshot_via == "originalUrl"
    assert kinds(result) == [("lonely.txt", "no-cited-url")]
    assert result.statistics().linked_by_title == 2


def test_no_link_to_an_image_or_to_the_documents_own_citation(tmp_path: Path) -> None:
    # headimg sits beside the document's own title; the document must not become a snapshot of its picture
    write(tmp_path, "pic.txt", "---\ntitle: Storm closes bridge\nheadimg: https://img.example.org/storm.jpg\n---\n")
    write(tmp_path, "self.txt", "---\ntitle: Only me\nrelated:\n  - title: Only me\n    webUrl: https://example.org/me\n---\n")
    write(tmp_path, "text.txt", "Storm closes bridge\nA plain-text copy.")
    docs = {d.id: d for d in scan([tmp_path]).documents}
    assert docs["pic.txt"].snapshot_url is None
    assert docs["self.txt"].snapshot_url is None
    assert docs["text.txt"].snapshot_url is None


def test_ambiguous_titles_prefer_the_url_most_documents_cite(tmp_path: Path) -> None:
    for name, url in [("a.txt", "https://one.example/x"), ("b.txt", "https://two.example/x"), ("c.txt", "https://two.example/x")]:
        write(tmp_path, name, f"---\nrelated:\n  - title: Same headline\n    webUrl: {url}\n---\n")
    write(tmp_path, "d.txt", "Same headline\nbody")
    docs = {d.id: d for d in scan([tmp_path]).documents}
    assert docs["d.txt"].snapshot_url == "https://two.example/x"


def test_bad_files_are_reported_and_the_scan_goes_on(tmp_path: Path) -> None:
    write(tmp_path, "01-binary.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01")
    write(tmp_path, "02-empty.txt", b"")
    write(tmp_path, "03-broken.txt", "---\ntitle: 'unterminated\n---\n")
    write(tmp_path, "04-gbk.txt", ("临港算力中心开始运行\n新的计算中心今天在上海开始运行，为企业提供服务。\n" * 3).encode("gbk"))
    write(tmp_path, "05-good.txt", ARTICLE)
    write(tmp_path, "06-big.txt", "Big\n" + "x" * 5000)
    result = scan([tmp_path], max_document_bytes=4000)
    assert kinds(result) == [("01-binary.jpg", "binary"), ("02-empty.txt", "empty"), ("03-broken.txt", "bad-yaml"),
                             ("04-gbk.txt", "not-utf8-decoded"), ("06-big.txt", "too-large"),
                             ("04-gbk.txt", "no-cited-url")]
    assert [d.id for d in result.documents] == ["04-gbk.txt", "05-good.txt"]
    assert result.documents[0].title == "临港算力中心开始运行"


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a.txt", ARTICLE)
    locked = write(tmp_path, "b.txt", ARTICLE)
    real_open = open

    def guarded(path: str, *args: Any, **kwargs: Any) -> Any:
        if path == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(corpus_module, "open", guarded, raising=False)
    result = scan([tmp_path])
    assert kinds(result) == [("b.txt", "unreadable")]
    assert "Permission denied" in result.problems[0].message
    assert [d.id for d in result.documents] == ["a.txt"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_by_permissions(tmp_path: Path) -> None:
    p = write(tmp_path, "secret.txt", ARTICLE)
    p.chmod(0)
    try:
        assert kinds(scan([tmp_path])) == [("secret.txt", "unreadable")]
    finally:
        p.chmod(0o644)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifos_and_dangling_links_do_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    write(tmp_path, "ok.txt", ARTICLE)
    result = scan([tmp_path])
    assert kinds(result) == [("dangling.txt", "unreadable"), ("pipe", "unreadable")]
    assert [d.id for d in result.documents] == ["ok.txt"]


def test_symlink_loops_end_and_linked_folders_are_read(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write(corpus, "a/doc.txt", ARTICLE)
    (corpus / "a" / "loop").symlink_to(corpus, target_is_directory=True)
    (corpus / "self").symlink_to(".", target_is_directory=True)
    outside = write(tmp_path, "elsewhere/x.txt", "Elsewhere\nhttps://example.org/elsewhere")
    (corpus / "linked").symlink_to(outside.parent, target_is_directory=True)
    result = scan([corpus])
    assert [d.id for d in result.documents] == ["a/doc.txt", "linked/x.txt"]


def test_hidden_files_and_folders_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, ".git/objects/x.txt", ARTICLE)
    write(tmp_path, ".DS_Store", b"\x00\x00\x00\x01Bud1")
    write(tmp_path, "doc.txt", ARTICLE)
    result = scan([tmp_path])
    assert [d.id for d in result.documents] == ["doc.txt"]
    assert result.problems == ()


def test_ids_are_relative_posix_paths_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, "z.txt", "Z\nbody https://example.org/z")
    write(tmp_path, "b/2.txt", "Two\nhttps://example.org/2")
    write(tmp_path, "b/1.txt", "One\nhttps://example.org/1")
    write(tmp_path, "a.txt", "A\nhttps://example.org/a")
    assert [d.id for d in scan([tmp_path]).documents] == ["a.txt", "z.txt", "b/1.txt", "b/2.txt"]
    # a single file: its folder is the root; several paths: their common folder
    assert [d.id for d in scan([tmp_path / "b" / "1.txt"]).documents] == ["1.txt"]
    assert [d.id for d in scan([tmp_path / "b", tmp_path / "z.txt"]).documents] == ["b/1.txt", "b/2.txt", "z.txt"]
    assert [d.id for d in scan([tmp_path / "b"], root=tmp_path).documents] == ["b/1.txt", "b/2.txt"]
    # the same file reached twice is one document
    assert len(scan([tmp_path, tmp_path / "a.txt"]).documents) == 4


def test_urls_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", ARTICLE)
    result = scan([tmp_path, "https://news.example.org/tidal.html", "https://fresh.example.org/page",
                   "https://fresh.example.org/page#again", "mailto:someone@example.org"])
    urls = by_url(result)
    assert urls["https://fresh.example.org/page"] == ((COMMAND_LINE, "argument"),)
    assert urls["https://news.example.org/tidal.html"][-1] == (COMMAND_LINE, "argument")
    assert kinds(result) == [(COMMAND_LINE, "skipped-url")]
    only_urls = scan(["https://fresh.example.org/page"])
    assert (only_urls.documents, len(only_urls.urls), only_urls.root) == ((), 1, None)


def test_a_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or folder"):
        scan([tmp_path / "nope"])


def test_load_document_and_streaming_give_the_body(tmp_path: Path) -> None:
    write(tmp_path, "sub/doc.txt", "Title\nThe stored body.\nhttps://example.org/x")
    scanned = scan([tmp_path]).documents[0]
    assert scanned.body is None
    again = load_document(scanned.path, root=tmp_path)
    assert again.document is not None
    assert (again.document.id, again.document.body) == ("sub/doc.txt", "The stored body.\nhttps://example.org/x")
    assert again.document.content_hash == scanned.content_hash
    streamed = [p.document.body for p in iter_documents([tmp_path]) if p.document]
    assert streamed == ["The stored body.\nhttps://example.org/x"]


def test_statistics(tmp_path: Path) -> None:
    write(tmp_path, "a.txt", ARTICLE)
    write(tmp_path, "b.txt", "Engineers test new turbine blades\nbody")
    write(tmp_path, "c.txt", b"")
    s = scan([tmp_path]).statistics()
    assert (s.documents, s.urls, s.citations, s.linked_by_title) == (2, 4, 6, 1)
    assert s.shapes == {"front-matter": 1, "text": 1}
    assert s.problems == {"empty": 1}


def test_example_corpus_shows_every_shape_and_a_title_link() -> None:
    result = scan([EXAMPLE])
    shapes = {d.shape for d in result.documents}
    assert {"front-matter", "front-matter+html", "text"} <= shapes
    assert len(result.documents) >= 5
    assert any(d.snapshot_via == "title" for d in result.documents)
    assert all(p.is_notice for p in result.problems)
    seed_urls = {"https://www.globaltimes.cn/page/202201/1246734.shtml",
                 "https://finance.sina.com.cn/realstock/company/sh600848/nc.shtml"}
    assert seed_urls <= {u.url for u in result.urls}


def test_facts_of_a_url_agree_with_the_three_lookups() -> None:
    """``facts`` (one query) gives each URL's place, citations and snapshots as the lookups one by one do."""
    with scan([EXAMPLE]) as result:
        urls = [u.url for u in result.urls]
        index = result.url_index()
        several = 0
        for url in urls:
            found = result.facts(url)
            assert found.place == index.position(url)
            assert found.cited == result.cited(url) and found.snapshots == result.snapshots(url)
            several += len(found.cited.citations) > 1
        assert several and any(result.facts(u).snapshots for u in urls)   # not only the easy cases
        none = result.facts("https://not.cited.example/")
        assert (none.place, none.cited, none.snapshots) == (None, CitedUrl("https://not.cited.example/", ()), [])


def test_scan_requests_carry_each_urls_facts_until_taken() -> None:
    """A run's requests read the scan a page at a time; each URL handed out keeps what ``facts``
    would look up, until its result takes it (once)."""
    from crawler.crawl import CrawlRequest
    from crawler.pipeline import scan_requests

    with scan([EXAMPLE]) as result:
        urls = [u.url for u in result.urls]
        requests = scan_requests(result)
        assert len(requests) == len(urls)
        assert requests.take_facts(urls[0]) is None                 # nothing handed out yet
        handed = iter(requests)
        first = next(handed)
        assert first == CrawlRequest(urls[0]) and requests.take_facts(urls[1]) is None
        assert [r.url for r in handed] == urls[1:]
        for url in reversed(urls):
            assert requests.take_facts(url) == result.facts(url)
            assert requests.take_facts(url) is None                 # taken
        assert CrawlRequest(urls[2]) in requests and CrawlRequest("https://not.cited.example/") not in requests


def test_cited_urls_in_pages_agree_with_one_url_lookups() -> None:
    """The paged read a run's report uses gives, URL by URL, what cited() and snapshots() give."""
    with scan([EXAMPLE]) as result:
        urls = [u.url for u in result.urls]
        assert len(urls) > 7 and any(result.snapshots(u) for u in urls)   # title-linked snapshots among them
        got = list(result.cited_urls(page_rows=3))          # several pages, a part-page at the end
        assert [place for place, _, _ in got] == list(range(len(urls)))
        for place, cited, docs in got:
            assert cited == result.cited(urls[place]) and docs == result.snapshots(urls[place])
        index = result.url_index()
        assert index.positions([*reversed(urls), "https://not.cited.example/"]) == {u: n for n, u in enumerate(urls)}
        assert [index.position(u) for u in urls] == list(range(len(urls)))
        skipped = {1, 4, 5}
        assert [place for place, _, _ in result.cited_urls(keep=lambda p: p not in skipped, page_rows=3)] == \
            [p for p in range(len(urls)) if p not in skipped]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
def test_seeds() -> None:
    result = scan([SEEDS])
    docs = {d.id[:3]: d for d in result.documents}
    from_000 = [u for u in result.urls if docs["000"].id in u.documents]
    from_003 = [u for u in result.urls if docs["003"].id in u.documents]
    assert (len(result.urls), len(from_000), len(from_003)) == (12, 6, 6)
    assert [u.roles for u in from_000 if len(u.roles) > 1] == [("originalUrl", "webUrl")]
    assert ("headimg", "thumbnail", "body.img") in [u.roles for u in from_003]
    assert [u.url for u in from_003 if u.roles == ("body.a",)] == [
        "https://finance.sina.com.cn/realstock/company/sh600848/nc.shtml"]
    assert docs["001"].snapshot_url == "https://www.globaltimes.cn/page/202201/1246734.shtml"
    assert docs["001"].snapshot_via == "title"
    assert {p.path[:3] for p in result.problems if p.kind == "no-cited-url"} == {"002", "004"}
    assert docs["003"].published is not None and docs["000"].published is not None


def test_module_exports_are_curated() -> None:
    assert set(corpus_module.__all__) <= set(dir(corpus_module))
    assert "scan" in corpus_module.__all__ and sys.modules["crawler.corpus"] is corpus_module


def test_parallel_scan_equals_the_serial_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large corpora are parsed in worker processes; the result must be the same, in the same order."""
    import subprocess

    subprocess.run([sys.executable, str(Path(__file__).resolve().parent.parent / "scripts" / "gen_corpus.py"),
                    str(tmp_path / "c"), "-n", "120", "--seed", "3"], check=True, capture_output=True)
    serial = scan([tmp_path / "c"])
    monkeypatch.setattr(corpus_module, "PARALLEL_FILES", 10)
    monkeypatch.setattr(corpus_module, "_BATCH", 16)
    parallel = scan([tmp_path / "c"])
    for part in ("documents", "urls", "problems"):
        assert list(getattr(parallel, part)) == list(getattr(serial, part)), part
    assert len(serial.documents) > 100 and serial.problems and serial.urls
