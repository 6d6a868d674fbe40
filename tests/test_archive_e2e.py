"""`citecrawl archive` end to end over a loopback origin, then the same run replayed from its WARCs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archive.report_spool import SPOOL_DIR
from crawler.cli import main
from crawler.corpus import scan
from tests.origin import serve_origin
from tests.scenario import EXPECTED_URL_VERDICTS, HOSTS, build_corpus, build_origin
from tests.warcfixtures import fastwarc_verify, warcio_check


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "test.toml"
    cfg.write_text("""
[politeness]
delay = 0.0
jitter = 0.0
max_attempts = 2
backoff_base = 0.05
backoff_max = 0.1
[network]
fetch_deadline = 0.6
read_timeout = 0.5
connect_timeout = 1.0
allow_networks = ["127.0.0.0/8"]
[warc]
rollover_bytes = 1000000
""", encoding="utf-8")
    return cfg


def _report(out: Path) -> tuple[dict[str, dict], dict[str, dict], dict]:
    lines = [json.loads(x) for x in (out / "report.jsonl").read_text(encoding="utf-8").splitlines()]
    run = lines[0]
    urls = {x["url"]: x for x in lines if x["record"] == "url"}
    docs = {x["document"]: x for x in lines if x["record"] == "document"}
    return urls, docs, run


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    tmp = tmp_path_factory.mktemp("e2e")
    corpus = build_corpus(tmp / "corpus")
    out = tmp / "collection"
    with serve_origin() as origin:
        build_origin(origin)
        resolve = [f"--resolve={h}:{origin.port}:127.0.0.1" for h in HOSTS]
        # the corpus cites port-less URLs; point them at the origin's port
        for f in corpus.iterdir():
            text = f.read_text(encoding="utf-8")
            for h in HOSTS:
                text = text.replace(f"http://{h}/", f"http://{h}:{origin.port}/")
            f.write_text(text, encoding="utf-8")
        code = main(["archive", str(corpus), "--config", str(_config(tmp)), "--out", str(out), "--quiet",
                     "--json", *resolve])
        assert code == 0
        port = origin.port
    return corpus, out, port


def _expected(port: int) -> dict[str, str]:
    return {u.replace(".test/", f".test:{port}/"): v for u, v in EXPECTED_URL_VERDICTS.items()}


def test_every_verdict(archived: tuple[Path, Path, int]) -> None:
    _, out, port = archived
    urls, docs, run = _report(out)
    got = {u: urls[u]["verdict"] for u in _expected(port)}
    assert got == _expected(port)
    assert run["partial"] is False
    moved = urls[next(u for u in urls if "/museum" in u)]
    assert moved["final_url"].endswith("/culture/museum-reopens") and moved["content_verdict"] == "unchanged"
    assert docs["004_orphan.txt"]["verdict"] == "no_source"
    assert docs["001_ferry.txt"]["verdict"] == "minor_changes"
    assert docs["003_cn.txt"]["verdict"] == "unchanged"


def test_report_is_in_corpus_order_and_leaves_no_spool(archived: tuple[Path, Path, int]) -> None:
    corpus, out, _ = archived
    lines = [json.loads(x) for x in (out / "report.jsonl").read_text(encoding="utf-8").splitlines()]
    cited = [u.url for u in scan([corpus]).urls]
    # URLs are judged as their fetches end (any order); the report lists them as the corpus does
    assert [x["url"] for x in lines if x["record"] == "url"] == cited
    assert [x["record"] for x in lines] == ["run"] + ["url"] * len(cited) + ["document"] * lines[0]["documents"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('class="diff"') == sum(1 for x in lines if x.get("paragraphs") and x["verdict"] in
                                            {"minor_changes", "major_changes", "different_page", "moved"})
    assert not (out / SPOOL_DIR).exists()


def test_warcs_are_valid_and_indexed(archived: tuple[Path, Path, int]) -> None:
    _, out, _ = archived
    warcs = sorted((out / "warcs").glob("*.warc.gz"))
    assert warcs and not list((out / "warcs").glob("*.open"))
    for warc in warcs:
        code, output = warcio_check(warc)
        assert code == 0, output
        verdicts = fastwarc_verify(warc)
        assert verdicts and all(block for _, block, _ in verdicts), verdicts
        assert all(payload is not False for kind, _, payload in verdicts if kind == "response"), verdicts
    assert main(["verify", str(out / "warcs")]) == 0
    index = "".join(p.read_text(encoding="utf-8") for p in (out / "indexes").glob("*.cdxj"))
    assert "robots.txt" in index and "tidal.html" in index


def test_replay_gives_the_same_report(archived: tuple[Path, Path, int], tmp_path: Path) -> None:
    corpus, out, _ = archived
    urls_live, docs_live, _ = _report(out)
    again = tmp_path / "replayed"
    code = main(["archive", str(corpus), "--config", str(_config(tmp_path)), "--out", str(again), "--quiet",
                 "--replay", str(out / "warcs")])
    assert code == 0
    urls_replay, docs_replay, _ = _report(again)
    live = {u: r["verdict"] for u, r in urls_live.items()}
    replay = {u: r["verdict"] for u, r in urls_replay.items()}
    # the slow page never answered, so the archive has nothing to replay for it: both say unreachable
    assert replay == live
    assert {d: r["verdict"] for d, r in docs_replay.items()} == {d: r["verdict"] for d, r in docs_live.items()}


def test_a_bare_url_argument_is_archived(archived: tuple[Path, Path, int], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``citecrawl archive URL``: cited by no document, so no citation is stored (it used to fail)."""
    _, out, port = archived
    url = next(u for u in _expected(port) if "tidal.html" in u)
    again = tmp_path / "one"
    capsys.readouterr()
    code = main(["archive", url, "--config", str(_config(tmp_path)), "--out", str(again), "--quiet", "--json",
                 "--replay", str(out / "warcs")])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["urls"] == 1 and summary["fetched"] == 1
    urls, _, _ = _report(again)
    assert list(urls) == [url]


def test_judging_processes_give_the_same_verdicts(archived: tuple[Path, Path, int], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages judged in two processes (as on a large run) get exactly the verdicts judged in a thread."""
    import crawler.pipeline

    corpus, out, _ = archived
    monkeypatch.setattr(crawler.pipeline, "POOL_MIN_REQUESTS", 0)
    cfg = _config(tmp_path)
    cfg.write_text(cfg.read_text(encoding="utf-8") + "[extract]\nworkers = 2\n", encoding="utf-8")
    pooled: list[int] = []
    real_init = crawler.pipeline._Judge.__init__

    def spy(self: crawler.pipeline._Judge, *a: object, **kw: object) -> None:
        real_init(self, *a, **kw)  # type: ignore[arg-type]
        pooled.append(self.workers)

    monkeypatch.setattr(crawler.pipeline._Judge, "__init__", spy)
    again = tmp_path / "pooled"
    code = main(["archive", str(corpus), "--config", str(cfg), "--out", str(again), "--quiet",
                 "--replay", str(out / "warcs")])
    assert code == 0 and pooled == [2]
    urls_live, docs_live, _ = _report(out)
    urls_pool, docs_pool, _ = _report(again)
    assert {u: r["verdict"] for u, r in urls_pool.items()} == {u: r["verdict"] for u, r in urls_live.items()}
    assert {u: r.get("recall") for u, r in urls_pool.items()} == {u: r.get("recall") for u, r in urls_live.items()}
    assert {d: r["verdict"] for d, r in docs_pool.items()} == {d: r["verdict"] for d, r in docs_live.items()}


def test_capture_only_then_compare_gives_the_full_verdicts(archived: tuple[Path, Path, int], tmp_path: Path) -> None:
    """``archive --capture-only`` decides only what the fetch shows; ``compare`` on its WARCs does the rest."""
    from archive.verdicts import NOT_COMPARED

    corpus, out, _ = archived
    urls_live, docs_live, _ = _report(out)
    captured = tmp_path / "captured"
    code = main(["archive", str(corpus), "--config", str(_config(tmp_path)), "--out", str(captured), "--quiet",
                 "--replay", str(out / "warcs"), "--capture-only"])
    assert code == 0
    urls_cap, _, _ = _report(captured)
    content = {"unchanged", "minor_changes", "major_changes", "different_page", "not_an_article", "image_ok",
               "image_changed", "not_an_image", "fetched"}
    for url, live in urls_live.items():
        got = urls_cap[url]
        if live["verdict"] in content:          # a page came back: archived, not read
            assert got["verdict"] == "fetched" and NOT_COMPARED in got.get("notes", []), (url, got)
        else:                                   # gone, moved, unreachable …: the fetch alone says so
            assert got["verdict"] == live["verdict"], (url, got, live)
    assert sorted(p.name for p in (captured / "indexes").glob("*.cdxj"))
    compared = tmp_path / "compared"
    assert main(["compare", "--corpus", str(corpus), "--warcs", str(captured / "warcs"), "--out", str(compared),
                 "--quiet"]) == 0
    urls_cmp, docs_cmp, _ = _report(compared)
    # robots.txt kept a URL out of the WARCs: compare can only say it is not archived (the capture run said why)
    blocked = {u for u, r in urls_live.items() if r["verdict"] == "blocked"}
    assert blocked and all(urls_cap[u]["verdict"] == "blocked" for u in blocked)
    assert all(urls_cmp[u]["verdict"] == "unreachable" and "not in the archive" in urls_cmp[u]["detail"]
               for u in blocked)
    assert {u: r["verdict"] for u, r in urls_cmp.items() if u not in blocked} == \
        {u: r["verdict"] for u, r in urls_live.items() if u not in blocked}
    assert {d: r["verdict"] for d, r in docs_cmp.items()} == {d: r["verdict"] for d, r in docs_live.items()}


@pytest.mark.parametrize("command", ["compare", "archive --replay"])
def test_answers_from_disk_are_not_retried_or_slowed(archived: tuple[Path, Path, int], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    """A URL missing from the archive is missing a second later: no retries, no back-off, no gap.

    With the default politeness, 12 URLs missing from an empty archive took 16 s (2 + 4 + 8 s of
    a host's slow-down after errors); now the run takes well under one.
    """
    import crawler.pipeline

    corpus, _, _ = archived
    empty = tmp_path / "empty-warcs"
    empty.mkdir()
    seen: list[object] = []
    real = crawler.pipeline.run_pipeline

    async def spy(config, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(config.politeness)
        return await real(config, *args, **kwargs)

    # the commands import the pipeline when they run (cheap start-up), so patch it where it lives
    monkeypatch.setattr(crawler.pipeline, "run_pipeline", spy)
    out = tmp_path / "out"
    if command == "compare":
        args = ["compare", "--corpus", str(corpus), "--warcs", str(empty), "--out", str(out), "--quiet"]
    else:   # the default configuration's politeness, not the test one
        args = ["archive", str(corpus), "--out", str(out), "--quiet", "--replay", str(empty)]
    assert main(args) == 0
    [p] = seen
    assert (p.max_attempts, p.backoff_base, p.backoff_max, p.delay, p.jitter) == (1, 0.0, 0.0, 0.0, 0.0)
    urls, _, _ = _report(out)
    assert {r["verdict"] for r in urls.values()} == {"unreachable"}
    assert all("not in the archive" in r["detail"] for r in urls.values())


def test_captures_are_recorded_in_bounded_batches(archived: tuple[Path, Path, int], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The state store gets a run's captures a few a transaction (crawler.pipeline.RECORD_BATCH at
    most), every one of them, by the end of the run."""
    import sqlite3

    import crawler.pipeline
    from crawler.state_sqlite import SqliteStateStore

    corpus, out, _ = archived
    batches: list[int] = []
    real = SqliteStateStore.record_captures

    def spy(self: SqliteStateStore, captures: list, **kw: object) -> list:
        batches.append(len(captures))
        return real(self, captures, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(SqliteStateStore, "record_captures", spy)
    monkeypatch.setattr(crawler.pipeline, "RECORD_BATCH", 3)
    again = tmp_path / "again"
    capsys.readouterr()
    assert main(["archive", str(corpus), "--config", str(_config(tmp_path)), "--out", str(again), "--quiet",
                 "--json", "--replay", str(out / "warcs")]) == 0
    fetched = json.loads(capsys.readouterr().out)["fetched"]
    assert fetched > 6 and batches
    assert max(batches) <= 3 and 0 not in batches
    con = sqlite3.connect(again / "state.sqlite")
    try:
        recorded = con.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
    finally:
        con.close()
    assert sum(batches) == recorded == fetched


def test_fetched_urls_take_their_facts_from_the_requests(archived: tuple[Path, Path, int], tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A run reads each cited URL's facts with its request (crawler.pipeline.ScanRequests): no cited
    URL is looked up on its own; only what the scan does not list is (robots.txt, say)."""
    from crawler.scanstore import ScanStore

    corpus, out, _ = archived
    looked_up: list[str] = []
    real = ScanStore.facts

    def spy(self: ScanStore, url: str):  # type: ignore[no-untyped-def]
        looked_up.append(url)
        return real(self, url)

    monkeypatch.setattr(ScanStore, "facts", spy)
    assert main(["archive", str(corpus), "--config", str(_config(tmp_path)), "--out", str(tmp_path / "again"),
                 "--quiet", "--json", "--replay", str(out / "warcs")]) == 0
    with scan([str(corpus)]) as found:
        cited = {u.url for u in found.urls}
    assert len(cited) > 6
    assert not cited & set(looked_up), sorted(cited & set(looked_up))
