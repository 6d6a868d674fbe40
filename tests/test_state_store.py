"""Every method of the SQLite state store, and three scheduled "runs" over simulated days."""

from __future__ import annotations

import doctest
import math
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler import state as state_module
from crawler.errors import StateError
from crawler.schedule import RecrawlPolicy
from crawler.state import (
    STATE_FILENAME,
    Capture,
    Citation,
    DocumentSeen,
    DueUrl,
    RobotsEntry,
    StateStore,
    UrlChange,
    WarcRef,
    open_state_store,
)
from crawler.state_sqlite import SqliteStateStore

DAY = 86400.0
T0 = 1_700_000_000.0  # a fixed "now" for day 0
POLICY = RecrawlPolicy()
A = "https://news.example/a"
B = "https://news.example/b"
IMG = "https://img.example/1.jpg"
LINK = "https://other.example/x"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStateStore]:
    s = SqliteStateStore(tmp_path / STATE_FILENAME)
    yield s
    s.close()


def ref(url: str, n: int = 1, kind: str = "response") -> WarcRef:
    return WarcRef(filename=f"c-{n}.warc.gz", offset=100 * n, length=50 + n, record_id=f"<urn:uuid:{n}>",
                   record_type=kind, date=f"2023-11-14T22:13:{n:02d}Z", target_uri=url)  # type: ignore[arg-type]


def ok(url: str, at: float, n: int = 1, **kw: object) -> Capture:
    fields: dict = {"status": 200, "final_url": url, "payload_digest": f"sha1:D{n}", "warc": ref(url, n)}
    fields.update(kw)
    return Capture(url=url, fetched_at=at, outcome="ok", **fields)


def seed(store: StateStore, now: float = T0) -> None:
    store.upsert_documents([DocumentSeen("000.txt", "h0", "Title 0", A), DocumentSeen("001.txt", "h1", "Title 1")],
                           now=now)
    store.replace_citations({
        "000.txt": [Citation(A, "originalUrl"), Citation(A, "webUrl"), Citation(IMG, "images[0].url"),
                    Citation(B, "related[1].webUrl")],
        "001.txt": [Citation(B, "webUrl"), Citation(LINK, "body.a")],
    }, now=now)


def test_doctests() -> None:
    assert doctest.testmod(state_module).failed == 0


def test_open_creates_wal_store_with_settings(tmp_path: Path) -> None:
    s = open_state_store(tmp_path / "coll")
    assert isinstance(s, SqliteStateStore)
    conn = s._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    assert s.statistics().schema_version == 3
    s.close()
    assert (tmp_path / "coll" / STATE_FILENAME).is_file()


def test_upsert_documents_reports_new_and_changed(store: SqliteStateStore) -> None:
    d = store.upsert_documents([DocumentSeen("a", "1"), DocumentSeen("b", "2")], now=T0)
    assert (d.new, d.changed, d.unchanged) == (("a", "b"), (), 0)
    d = store.upsert_documents([DocumentSeen("a", "1"), DocumentSeen("b", "3", "new title"), DocumentSeen("c", "4")],
                               now=T0 + 1)
    assert (d.new, d.changed, d.unchanged) == (("c",), ("b",), 1)
    rows = dict((p, (h, t, lc, ls)) for p, h, t, lc, ls in store._conn.execute(
        "SELECT path, content_hash, title, last_changed, last_scanned FROM documents"))
    assert rows["a"] == ("1", None, T0, T0 + 1)
    assert rows["b"] == ("3", "new title", T0 + 1, T0 + 1)


def test_replace_citations_counts_new_urls_and_replaces(store: SqliteStateStore) -> None:
    store.upsert_documents([DocumentSeen("d", "1"), DocumentSeen("e", "1")], now=T0)
    assert store.replace_citations({"d": [Citation(A, "webUrl"), Citation(IMG, "images[0].url")]}, now=T0) == 2
    assert store.replace_citations({"e": [Citation(A, "related[0].webUrl")]}, now=T0) == 0
    assert store.url_state(A).roles == ("related[0].webUrl", "webUrl")  # type: ignore[union-attr]
    assert store.replace_citations({"d": [Citation(B, "webUrl")]}, now=T0) == 1
    assert store.url_state(A).roles == ("related[0].webUrl",)  # type: ignore[union-attr]
    assert store.url_state(IMG).roles == ()  # type: ignore[union-attr]
    assert store.statistics().cited_urls == 2
    with pytest.raises(ValueError, match="unknown document 'nope'"):
        store.replace_citations({"nope": [Citation(A, "webUrl")]}, now=T0)


def test_citations_that_did_not_change_are_not_rewritten(store: SqliteStateStore) -> None:
    """A scheduled run records every document's citations; unchanged ones keep their rows as they are."""
    store.upsert_documents([DocumentSeen("d", "1")], now=T0)
    cited = [Citation(A, "webUrl"), Citation(IMG, "images[0].url")]
    store.replace_citations({"d": cited}, now=T0)

    def rows_written_by(citations: list[Citation], now: float) -> int:
        before = store._conn.total_changes
        store.replace_citations({"d": citations}, now=now)
        return store._conn.total_changes - before

    assert rows_written_by(list(reversed(cited)), T0 + 1) == 0          # the same pairs, in any order
    assert rows_written_by([Citation(A, "webUrl")], T0 + 2) > 0        # one gone: rewritten
    assert store.url_state(IMG).roles == () and store.url_state(A).roles == ("webUrl",)  # type: ignore[union-attr]
    assert rows_written_by([Citation(A, "webUrl")], T0 + 3) == 0
    assert rows_written_by([], T0 + 4) > 0                              # none left
    assert store.url_state(A).roles == ()  # type: ignore[union-attr]


def test_remove_documents_drops_their_citations(store: SqliteStateStore) -> None:
    seed(store)
    assert store.remove_documents(["001.txt", "missing.txt"]) == 1
    due = {d.url for d in store.due_urls(T0, POLICY)}
    assert due == {A, B, IMG}  # LINK is cited by nobody now
    assert store.statistics().documents == 1


def test_first_run_everything_is_new_in_citation_order(store: SqliteStateStore) -> None:
    seed(store)
    store.upsert_documents([DocumentSeen("002.txt", "h2")], now=T0 + 5)
    store.replace_citations({"002.txt": [Citation("https://late.example/", "webUrl")]}, now=T0 + 5)
    due = store.due_urls(T0 + 10, POLICY)
    assert [d.reason for d in due] == ["new"] * 5
    assert due[-1].url == "https://late.example/"
    assert [d.url for d in due[:4]] == [IMG, A, B, LINK]  # in the order first stored
    assert [d.host for d in due[:4]] == ["img.example", "news.example", "news.example", "other.example"]
    assert all(d.previous_capture is None and d.etag is None for d in due)
    assert [d.url for d in store.due_urls(T0 + 10, POLICY, limit=2)] == [IMG, A]


def test_due_urls_come_a_page_at_a_time_with_the_store_free_between(
        store: SqliteStateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    import crawler.state_sqlite

    seed(store)
    whole = store.due_urls(T0 + 10, POLICY)
    monkeypatch.setattr(crawler.state_sqlite, "_DUE_PAGE", 2)
    handed: list[DueUrl] = []
    for d in store.iter_due_urls(T0 + 10, POLICY):
        store.begin_attempts([d.url], run_id=1, now=T0 + 10)        # a write between two pages
        handed.append(d)
    assert handed == whole and len(whole) == 4
    assert [d.url for d in store.iter_due_urls(T0 + 10, POLICY, limit=3)] == [d.url for d in whole[:3]]


def test_three_scheduled_runs_over_simulated_days(store: SqliteStateStore) -> None:
    """Day 0 fetches everything; day 1 nothing that is not due; day 7 rechecks pages with validators."""
    seed(store)
    run1 = store.start_run(now=T0, pid=10, host="h")
    for n, url in enumerate(store.due_urls(T0, POLICY), start=1):
        if url.url == LINK:
            store.record_capture(Capture(url=LINK, fetched_at=T0 + n, outcome="timeout"), run_id=run1, policy=POLICY)
        else:
            store.record_capture(ok(url.url, T0 + n, n, etag=f'"e{n}"', last_modified="Tue, 14 Nov 2023 00:00:00 GMT"),
                                 run_id=run1, policy=POLICY)
    store.finish_run(run1, now=T0 + 60, counts={"fetched": 4}, exit_status=0)

    day1 = store.due_urls(T0 + DAY + 60, POLICY)
    assert [(d.url, d.reason) for d in day1] == [(LINK, "retry")]  # only the failed link, after failure_first
    assert store.due_urls(T0 + DAY - 60, POLICY) == []

    day7 = {d.url: d for d in store.due_urls(T0 + 7 * DAY + 60, POLICY)}
    assert set(day7) == {A, B, LINK}  # the image is never rechecked
    assert day7[A].reason == "recheck" and day7[A].etag and day7[A].last_modified
    prev = day7[A].previous_capture
    assert prev is not None and prev.url == A and prev.target_uri == A and prev.payload_digest
    assert prev.record_id.startswith("<urn:uuid:") and prev.filename.endswith(".warc.gz")
    # a 304 keeps the validators and the revisit points at it; next recheck a week later
    run2 = store.start_run(now=T0 + 7 * DAY, pid=11, host="h")
    r = store.record_capture(Capture(url=A, fetched_at=T0 + 7 * DAY + 100, outcome="ok", status=304,
                                     warc=ref(A, 9, "revisit")), run_id=run2, policy=POLICY)
    assert r.next_due == T0 + 14 * DAY + 100
    assert store.url_state(A).next_due == r.next_due  # type: ignore[union-attr]
    again = {d.url: d for d in store.due_urls(T0 + 14 * DAY + 200, POLICY)}
    assert again[A].etag == day7[A].etag
    assert again[A].previous_capture == prev  # a revisit is never the original of a revisit
    # a 200 without validators clears them
    store.record_capture(ok(A, T0 + 14 * DAY + 300, 10), run_id=run2, policy=POLICY)
    st = store.url_state(A)
    assert st is not None and st.captures == 3 and st.consecutive_failures == 0
    assert {d.url: d for d in store.due_urls(T0 + 30 * DAY, POLICY)}[A].etag is None


def test_failures_count_up_and_reset(store: SqliteStateStore) -> None:
    seed(store)
    t = T0
    for expected_gap in (1, 2, 4):
        r = store.record_capture(Capture(url=B, fetched_at=t, outcome="http_error", status=503), run_id=None,
                                 policy=POLICY)
        assert r.next_due == t + expected_gap * DAY
        t = r.next_due
    assert store.url_state(B).consecutive_failures == 3  # type: ignore[union-attr]
    store.record_capture(ok(B, t), run_id=None, policy=POLICY)
    assert store.url_state(B).consecutive_failures == 0  # type: ignore[union-attr]


def test_a_batch_of_captures_is_recorded_as_one_by_one(tmp_path: Path) -> None:
    """``record_captures`` gives what the same ``record_capture`` calls give, a URL twice in a
    batch included (the second sees the first), in one transaction."""
    batch = [Capture(url=B, fetched_at=T0, outcome="http_error", status=503), ok(A, T0 + 1, 1),
             Capture(url=B, fetched_at=T0 + 2, outcome="http_error", status=503), ok(IMG, T0 + 3, 2),
             Capture(url="https://uncited.example/", fetched_at=T0 + 4, outcome="dns")]
    stores = [SqliteStateStore(tmp_path / name) for name in ("one", "batch")]
    try:
        for s in stores:
            seed(s)
        singles = [stores[0].record_capture(c, run_id=None, policy=POLICY) for c in batch]
        statements: list[str] = []
        stores[1]._conn.set_trace_callback(statements.append)
        assert stores[1].record_captures(batch, run_id=None, policy=POLICY) == singles
        stores[1]._conn.set_trace_callback(None)
        assert [x for x in statements if x.split()[0] in ("BEGIN", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"]
        for url in (A, B, IMG, "https://uncited.example/"):
            assert stores[0].url_state(url) == stores[1].url_state(url)
        assert stores[1].url_state(B).consecutive_failures == 2  # type: ignore[union-attr]
    finally:
        for s in stores:
            s.close()


def test_deferred_records_nothing_and_stays_due(store: SqliteStateStore) -> None:
    seed(store)
    run = store.start_run(now=T0, pid=1, host="h")
    store.begin_attempts([A], run_id=run, now=T0)
    r = store.record_capture(Capture(url=A, fetched_at=T0 + 1, outcome="deferred"), run_id=run, policy=POLICY)
    assert r.capture_id is None and r.next_due == T0
    st = store.url_state(A)
    assert st is not None and st.captures == 0 and not st.in_flight
    assert A in {d.url for d in store.due_urls(T0 + 2, POLICY)}


def test_in_flight_comes_back_as_interrupted_first(tmp_path: Path) -> None:
    s = SqliteStateStore(tmp_path / STATE_FILENAME)
    seed(s)
    run = s.start_run(now=T0, pid=1, host="h")
    for n, url in enumerate((A, IMG, B, LINK)):
        s.record_capture(ok(url, T0 + n, n + 1), run_id=run, policy=POLICY)
    s.begin_attempts([B, IMG], run_id=run, now=T0 + 7 * DAY)
    s.record_capture(ok(IMG, T0 + 7 * DAY, 7), run_id=run, policy=POLICY)  # IMG finished, B was in flight
    s._conn.close()  # the process dies: no finish_run, no more writes
    s = SqliteStateStore(tmp_path / STATE_FILENAME)
    due = s.due_urls(T0 + 7 * DAY + 10, POLICY)
    assert [(d.url, d.reason) for d in due] == [(B, "interrupted"), (A, "recheck")]
    assert s.last_runs(1)[0].finished is None
    s.close()


def test_uncited_capture_is_remembered_but_never_due(store: SqliteStateStore) -> None:
    r = store.record_capture(ok("https://one.off/", T0), run_id=None, policy=POLICY)
    assert r.capture_id == 1 and math.isinf(r.next_due)
    assert store.due_urls(T0 + 1e9, POLICY) == []
    assert store.last_capture("https://one.off/") is not None


def test_last_capture_follows_target_uri_and_skips_revisits(store: SqliteStateStore) -> None:
    seed(store)
    final = "https://news.example/a-moved"
    store.record_capture(ok(A, T0, 1, final_url=final, warc=ref(final, 1)), run_id=None, policy=POLICY)
    store.record_capture(ok(A, T0 + 1, 2, final_url=final, warc=ref(final, 2, "revisit")), run_id=None, policy=POLICY)
    prev = store.last_capture(final)
    assert prev is not None and prev.record_id == "<urn:uuid:1>" and prev.url == A
    assert (prev.filename, prev.offset, prev.length, prev.date) == ("c-1.warc.gz", 100, 51, "2023-11-14T22:13:01Z")
    assert store.last_capture(A) is None
    assert store.last_capture("https://never.example/") is None


def test_runs(store: SqliteStateStore) -> None:
    r1 = store.start_run(now=T0, pid=1, host="h1")
    r2 = store.start_run(now=T0 + DAY, pid=2, host="h2")
    store.finish_run(r1, now=T0 + 90, counts={"fetched": 3, "failed": 1}, exit_status=3)
    runs = store.last_runs(5)
    assert [r.id for r in runs] == [r2, r1]
    assert runs[1].counts == {"failed": 1, "fetched": 3} and runs[1].exit_status == 3 and runs[1].duration == 90
    assert runs[0].finished is None and runs[0].duration is None and runs[0].host == "h2"
    assert len(store.last_runs(1)) == 1
    with pytest.raises(ValueError, match="no run 99"):
        store.finish_run(99, now=T0, counts={}, exit_status=0)


def test_verdict_counts_and_set_verdict(store: SqliteStateStore) -> None:
    seed(store)
    r = store.record_capture(ok(A, T0, verdict="unchanged", evidence={"recall": 0.99}), run_id=None, policy=POLICY)
    store.record_capture(ok(B, T0), run_id=None, policy=POLICY)
    assert store.verdict_counts() == {"not fetched": 2, "unchanged": 1, "unjudged": 1}
    assert r.capture_id is not None
    store.set_verdict(r.capture_id, verdict="minor changes", evidence={"recall": 0.9, "note": "ünïcode"})
    assert store.verdict_counts()["minor changes"] == 1
    ev = store._conn.execute("SELECT evidence FROM captures WHERE id = ?", (r.capture_id,)).fetchone()[0]
    assert ev == '{"note": "ünïcode", "recall": 0.9}'
    with pytest.raises(ValueError):
        store.set_verdict(999, verdict="x")


def test_changes_since(store: SqliteStateStore) -> None:
    seed(store)
    run1 = store.start_run(now=T0, pid=1, host="h")
    store.upsert_documents([DocumentSeen("000.txt", "h0"), DocumentSeen("001.txt", "h1")], now=T0, run_id=run1)
    store.record_capture(ok(A, T0, verdict="unchanged"), run_id=run1, policy=POLICY)
    store.record_capture(ok(B, T0, verdict="unchanged"), run_id=run1, policy=POLICY)
    store.record_capture(Capture(url=LINK, fetched_at=T0, outcome="dns"), run_id=run1, policy=POLICY)
    store.record_capture(ok(IMG, T0, final_url="https://img.example/2.jpg"), run_id=run1, policy=POLICY)
    store.finish_run(run1, now=T0 + 10, counts={}, exit_status=0)
    first = store.changes_since(None)
    assert first.new_documents == ("000.txt", "001.txt")
    # a name that does not resolve is unreachable, not gone (404/410 say gone)
    assert {(c.url, c.kind) for c in first.urls} == {(LINK, "unreachable"), (IMG, "moved")}

    run2 = store.start_run(now=T0 + 7 * DAY, pid=1, host="h")
    store.upsert_documents([DocumentSeen("002.txt", "h2")], now=T0 + 7 * DAY, run_id=run2)
    store.record_capture(Capture(url=A, fetched_at=T0 + 7 * DAY, outcome="http_error", status=404), run_id=run2,
                         policy=POLICY)
    store.record_capture(ok(B, T0 + 7 * DAY, final_url="https://news.example/b2", verdict="major changes"),
                         run_id=run2, policy=POLICY)
    store.record_capture(ok(LINK, T0 + 7 * DAY), run_id=run2, policy=POLICY)
    changes = store.changes_since(run1)
    assert changes.new_documents == ("002.txt",)
    assert sorted(changes.urls, key=lambda c: (c.url, c.kind)) == [
        UrlChange(A, "gone", "ok 200", "http_error 404"),
        UrlChange(B, "changed", "unchanged", "major changes"),
        UrlChange(B, "moved", B, "https://news.example/b2"),
        UrlChange(LINK, "recovered", "dns", "ok 200"),
    ]
    assert [c.url for c in changes.of_kind("gone")] == [A]
    assert store.changes_since(run2).urls == ()
    # spooled: read at the call, then handed out with the store free meanwhile, as often as asked
    with store.spooled_changes(run1) as spooled:
        streamed = iter(spooled)
        first_change = next(streamed)
        assert store.last_runs(1)[0].id == run2
        assert (first_change, *streamed) == changes.urls
        assert tuple(spooled) == changes.urls
    assert store.new_documents_since(run1) == ("002.txt",)

    run3 = store.start_run(now=T0 + 14 * DAY, pid=1, host="h")
    store.record_capture(Capture(url=B, fetched_at=T0 + 14 * DAY, outcome="timeout"), run_id=run3, policy=POLICY)
    store.record_capture(Capture(url=A, fetched_at=T0 + 14 * DAY, outcome="http_error", status=410), run_id=run3,
                         policy=POLICY)
    assert store.changes_since(run2).urls == (UrlChange(B, "unreachable", "ok 200", "timeout"),)


def test_robots_cache(store: SqliteStateStore) -> None:
    assert store.robots_get("https://news.example:443") is None
    e = RobotsEntry("https://news.example:443", T0, 200, b"User-agent: *\nDisallow: /x\n", "sha1:R")
    store.robots_put(e)
    assert store.robots_get("https://news.example:443") == e
    e2 = RobotsEntry("https://news.example:443", T0 + DAY, 503, None)
    store.robots_put(e2)
    assert store.robots_get("https://news.example:443") == e2


def test_readonly(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="no state store here"):
        open_state_store(tmp_path, readonly=True)
    with SqliteStateStore(tmp_path / STATE_FILENAME) as s:
        seed(s)
    ro = open_state_store(tmp_path, readonly=True)
    assert ro.statistics().documents == 2 and len(ro.due_urls(T0, POLICY)) == 4
    with pytest.raises(StateError, match="read-only"):
        ro.start_run(now=T0, pid=1, host="h")
    ro.close()


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / STATE_FILENAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="not a usable state store"):
        open_state_store(tmp_path)


def test_a_failed_write_rolls_back_whole(store: SqliteStateStore) -> None:
    seed(store)
    with pytest.raises(ValueError):
        store.replace_citations({"000.txt": [Citation("https://new.example/", "webUrl")], "ghost": []}, now=T0)
    assert store.url_state("https://new.example/") is None
    assert store.url_state(A).roles == ("originalUrl", "webUrl")  # type: ignore[union-attr]


def test_threads_share_one_store(store: SqliteStateStore) -> None:
    """trio.to_thread calls may come from several worker threads; the store serialises them."""
    seed(store)
    urls = [f"https://t.example/{i}" for i in range(200)]
    store.upsert_documents([DocumentSeen("t", "1")], now=T0)
    store.replace_citations({"t": [Citation(u, "webUrl") for u in urls]}, now=T0)
    errors: list[BaseException] = []

    def work(part: list[str]) -> None:
        try:
            for u in part:
                store.record_capture(ok(u, T0), run_id=None, policy=POLICY)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(urls[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and store.statistics().captures == 200


def test_second_connection_sees_committed_state(tmp_path: Path) -> None:
    with SqliteStateStore(tmp_path / STATE_FILENAME) as s:
        seed(s)
        s.record_capture(ok(A, T0), run_id=None, policy=POLICY)
        other = sqlite3.connect(tmp_path / STATE_FILENAME)
        assert other.execute("SELECT count(*) FROM captures").fetchone()[0] == 1
        other.close()


def test_a_document_that_no_longer_cites_a_url_drops_it_from_the_store(tmp_path: Path) -> None:
    """record_scan gives every document's citations, none included: the URL is then cited by nobody."""
    from crawler.commands.archive import record_scan
    from crawler.corpus import scan

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    doc = corpus / "a.txt"
    doc.write_text('---\ntitle: "Harbour"\noriginalUrl: "https://news.example/a"\n---\n', encoding="utf-8")
    with SqliteStateStore(tmp_path / "state.sqlite") as store:
        with scan([corpus]) as found:
            record_scan(store, found, T0)
        assert store.url_state("https://news.example/a").roles == ("originalUrl",)  # type: ignore[union-attr]
        doc.write_text('---\ntitle: "Harbour"\n---\nThe text alone now.\n', encoding="utf-8")
        with scan([corpus]) as found:
            record_scan(store, found, T0 + 1)
        assert store.url_state("https://news.example/a").roles == ()  # type: ignore[union-attr]
        assert store.due_urls(T0 + 2, POLICY) == []
