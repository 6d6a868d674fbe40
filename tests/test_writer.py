"""The trio writer: revisits in and across runs, 304s, rollover, indexes, closing on errors."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trio
import trio.testing
from warcio.archiveiterator import ArchiveIterator

from archive.cdxj import read_cdxj
from archive.records import PROFILE_IDENTICAL, PROFILE_NOT_MODIFIED, CaptureRef, capture_metadata
from archive.writer import open_warc_writer
from tests.warcfixtures import fastwarc_verify, fixed_ids, make_exchange, warcio_check


def clock() -> object:
    t = [datetime(2024, 5, 1, tzinfo=UTC)]

    def now() -> datetime:
        t[0] += timedelta(seconds=1)
        return t[0]
    return now


def records_of(path: Path) -> list[tuple[str, dict[str, str]]]:
    with path.open("rb") as fh:
        return [(r.rec_type, dict(r.rec_headers.headers)) for r in ArchiveIterator(fh)]


async def test_write_exchange_with_metadata_and_in_run_revisit(tmp_path: Path) -> None:
    warcs = tmp_path / "warcs"
    async with open_warc_writer(warcs, prefix="t", warcinfo={"software": "citecrawl/test", "configuration": {"a": 1}},
                                new_id=fixed_ids(), now=clock(), host="box") as w:  # type: ignore[arg-type]
        first = await w.write_exchange(make_exchange(), metadata=capture_metadata(robots="allowed"))
        again = await w.write_exchange(make_exchange())
        changed = await w.write_exchange(make_exchange(body=b"<html>new</html>"))
        stats = w.statistics()
    assert not first.is_revisit and first.metadata is not None
    assert again.is_revisit and again.revisit_of == first.capture_ref
    assert not changed.is_revisit
    assert (stats.responses, stats.revisits, stats.records) == (2, 1, 1 + 3 + 2 + 2)
    [path] = list(warcs.glob("*.warc.gz"))
    assert path.name == "t-20240501000001000-00000-box.warc.gz"
    assert not list(warcs.glob("*.open"))
    recs = records_of(path)
    assert [t for t, _ in recs] == ["warcinfo", "response", "request", "metadata", "revisit", "request",
                                    "response", "request"]
    info_id = recs[0][1]["WARC-Record-ID"]
    assert all(h.get("WARC-Warcinfo-ID") == info_id for _, h in recs[1:])
    revisit = recs[4][1]
    assert revisit["WARC-Profile"] == PROFILE_IDENTICAL
    assert revisit["WARC-Refers-To"] == first.response.record_id
    assert revisit["WARC-Refers-To-Date"] == first.response.date
    assert recs[3][1]["WARC-Concurrent-To"] == first.response.record_id
    code, out = warcio_check(path)
    assert code == 0, out
    assert all(b for _, b, _ in fastwarc_verify(path))
    index = list(read_cdxj(tmp_path / "indexes" / (path.name.removesuffix(".warc.gz") + ".cdxj")))
    assert sorted(e.fields["mime"] for e in index) == ["text/html", "text/html", "warc/revisit"]


async def test_cross_run_revisit_uses_the_injected_lookup(tmp_path: Path) -> None:
    earlier = CaptureRef("http://example.com/page?a=1", "<urn:uuid:old>", "2023-01-01T00:00:00.000000Z",
                         "sha1:O57NSEYVH37NN5YSIJIQGZF2VAMOK4GK")
    asked: list[str] = []

    def lookup(url: str) -> CaptureRef | None:
        asked.append(url)
        return earlier if url == earlier.url else None

    async with open_warc_writer(tmp_path / "w", earlier_capture=lookup) as w:
        same = await w.write_exchange(make_exchange())
        other = await w.write_exchange(make_exchange("http://example.com/other"))
        truncated = await w.write_exchange(make_exchange(truncated="length"))
    assert same.is_revisit and same.revisit_of == earlier
    assert not other.is_revisit and not truncated.is_revisit
    assert asked == ["http://example.com/page?a=1", "http://example.com/other"]


async def test_304_becomes_server_not_modified_revisit(tmp_path: Path) -> None:
    async with open_warc_writer(tmp_path / "w") as w:
        original = await w.write_exchange(make_exchange())
        nm = await w.write_exchange(make_exchange(body=b"", status=304, reason="Not Modified", headers=()))
        explicit = await w.write_revisit(make_exchange(), profile=PROFILE_IDENTICAL, refers_to=None)
    assert nm.is_revisit and nm.revisit_of == original.capture_ref
    [path] = list((tmp_path / "w").glob("*.warc.gz"))
    revisits = [h for t, h in records_of(path) if t == "revisit"]
    assert revisits[0]["WARC-Profile"] == PROFILE_NOT_MODIFIED
    assert revisits[0]["WARC-Payload-Digest"] == original.payload_digest
    assert explicit.is_revisit and "WARC-Refers-To" not in revisits[1]


async def test_rollover_closes_and_indexes_each_file(tmp_path: Path) -> None:
    import os
    async with open_warc_writer(tmp_path / "warcs", rollover_bytes=150_000, gzip_level=1, host="h") as w:
        for i in range(5):
            await w.write_exchange(make_exchange(f"http://example.com/{i}", os.urandom(100_000)))
        assert w.statistics().files_closed == 2
    files = sorted((tmp_path / "warcs").glob("*.warc.gz"))
    assert len(files) == 3
    assert [f.name.split("-")[2] for f in files] == ["00000", "00001", "00002"]
    for f in files:
        assert records_of(f)[0][0] == "warcinfo"
        assert records_of(f)[0][1]["WARC-Filename"] == f.name
    indexes = sorted((tmp_path / "indexes").glob("*.cdxj"))
    assert sum(len(list(read_cdxj(p))) for p in indexes) == 5


async def test_plain_warc_when_level_zero_and_no_file_when_idle(tmp_path: Path) -> None:
    async with open_warc_writer(tmp_path / "idle"):
        pass
    assert not list((tmp_path / "idle").iterdir())
    async with open_warc_writer(tmp_path / "plain", gzip_level=0) as w:
        await w.write_exchange(make_exchange())
    [path] = list((tmp_path / "plain").iterdir())
    assert path.suffix == ".warc"
    assert warcio_check(path)[0] == 0


async def test_file_is_closed_when_the_block_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with open_warc_writer(tmp_path / "w") as w:
            await w.write_exchange(make_exchange())
            raise RuntimeError("boom")
    assert len(list((tmp_path / "w").glob("*.warc.gz"))) == 1
    assert not list((tmp_path / "w").glob("*.open"))


async def test_write_error_reaches_the_caller_and_leaves_the_file_open(tmp_path: Path) -> None:
    from io import BytesIO

    from archive.records import Record
    bogus = Record((("WARC-Type", "resource"),), b"", BytesIO(b"short"), 10_000)   # a bug upstream
    async with open_warc_writer(tmp_path / "w") as w:
        await w.write_exchange(make_exchange())
        with pytest.raises(ValueError, match="shorter than its stated length"):
            await w.write_record(bogus)
        with pytest.raises(RuntimeError, match="stopped after an error"):
            await w.write_exchange(make_exchange())
    assert len(list((tmp_path / "w").glob("*.open"))) == 1   # recover() will keep its complete records


async def test_concurrent_writers_share_one_file(tmp_path: Path) -> None:
    async with open_warc_writer(tmp_path / "w", queue=2) as w:
        async with trio.open_nursery() as nursery:
            for i in range(20):
                nursery.start_soon(w.write_exchange, make_exchange(f"http://example.com/{i}", b"x" * i))
        await w.checkpoint()
    [path] = list((tmp_path / "w").glob("*.warc.gz"))
    kinds = [t for t, _ in records_of(path)]
    assert kinds.count("response") == 20 and kinds.count("request") == 20
    # each response is immediately followed by its own request
    recs = records_of(path)
    for (t, h), (t2, h2) in itertools.pairwise(recs):
        if t == "response":
            assert t2 == "request" and h2["WARC-Concurrent-To"] == h["WARC-Record-ID"]


async def test_the_writer_remembers_only_the_last_captures_of_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Older captures of the run are found through ``earlier_capture`` (the state store), not in memory."""
    import archive.writer

    monkeypatch.setattr(archive.writer, "RUN_MEMORY", 2)
    recorded: dict[str, CaptureRef] = {}
    async with open_warc_writer(tmp_path / "w", earlier_capture=lambda url: None) as w:
        first = await w.write_exchange(make_exchange("http://example.com/a"))
        await w.write_exchange(make_exchange("http://example.com/b"))
        again_a = await w.write_exchange(make_exchange("http://example.com/a"))   # a and b remembered
        await w.write_exchange(make_exchange("http://example.com/c"))
        await w.write_exchange(make_exchange("http://example.com/d"))
        forgotten_a = await w.write_exchange(make_exchange("http://example.com/a"))  # c and d pushed a out
        recorded["a"] = first.capture_ref
    assert again_a.is_revisit and again_a.revisit_of == first.capture_ref
    assert not forgotten_a.is_revisit                     # nothing told the writer about it any more

    async with open_warc_writer(tmp_path / "w2", earlier_capture=lambda url: recorded.get(url[-1])) as w:
        for name in "bcd":
            await w.write_exchange(make_exchange(f"http://example.com/{name}"))
        from_store = await w.write_exchange(make_exchange("http://example.com/a"))
    assert from_store.is_revisit and from_store.revisit_of == first.capture_ref


def _writes_by_thread(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Record each capture's ``(URL, written on the event loop's thread)``."""
    import threading

    from archive.warcfile import WarcFile

    seen: list[tuple[str, bool]] = []
    loop_thread = threading.get_ident()
    original = WarcFile.write

    def spy(self: WarcFile, records: object) -> object:
        first = records[0]  # type: ignore[index]
        if first.header("WARC-Type") in ("response", "revisit"):
            seen.append((first.header("WARC-Target-URI"), threading.get_ident() == loop_thread))
        return original(self, records)  # type: ignore[arg-type]

    monkeypatch.setattr(WarcFile, "write", spy)
    return seen


async def test_only_captures_with_something_to_deflate_go_to_the_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip
    import os

    from archive.writer import INLINE_MAX_BYTES

    seen = _writes_by_thread(monkeypatch)
    packed = gzip.compress(os.urandom(20_000))
    async with open_warc_writer(tmp_path / "w") as w:
        await w.write_exchange(make_exchange("http://example.com/first"))                  # opens the file
        await w.write_exchange(make_exchange("http://example.com/small"))
        await w.write_exchange(make_exchange("http://example.com/gzip", packed))
        await w.write_exchange(make_exchange("http://example.com/html", b"<p>text</p>" * 2000))
        await w.write_exchange(make_exchange("http://example.com/huge-gzip",
                                             packed + b"\0" * (INLINE_MAX_BYTES + 1 - len(packed))))
    assert seen == [("http://example.com/first", False), ("http://example.com/small", True),
                    ("http://example.com/gzip", True), ("http://example.com/html", False),
                    ("http://example.com/huge-gzip", False)]
    [path] = list((tmp_path / "w").glob("*.warc.gz"))
    warcio_check(path)
    fastwarc_verify(path)


async def test_a_slow_inline_write_sends_the_next_writes_to_the_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.writer

    seen = _writes_by_thread(monkeypatch)
    ticks = iter([0.0, 5.0] + [5.0] * 100)          # the first inline write takes 5 s, the rest nothing
    monkeypatch.setattr(archive.writer, "_clock", lambda: next(ticks))
    monkeypatch.setattr(archive.writer, "INLINE_PAUSE_JOBS", 2)
    async with open_warc_writer(tmp_path / "w") as w:
        for i in range(6):
            await w.write_exchange(make_exchange(f"http://example.com/{i}"))
    assert [on_loop for _, on_loop in seen] == [False, True, False, False, True, True]


async def test_an_inline_write_on_an_idle_writer_needs_no_trip_through_the_scheduler(tmp_path: Path) -> None:
    """With the owner idle and nothing queued, the caller's task writes: no checkpoint, no task switch."""
    async with open_warc_writer(tmp_path / "w") as w:
        await w.write_exchange(make_exchange("http://example.com/first"))       # opens the file (thread)
        with trio.testing.assert_no_checkpoints():
            small = await w.write_exchange(make_exchange("http://example.com/small"))
        assert small.response.target_uri == "http://example.com/small"
    [path] = list((tmp_path / "w").glob("*.warc.gz"))
    assert [t for t, _ in records_of(path)] == ["warcinfo", "response", "request", "response", "request"]
    warcio_check(path)
    fastwarc_verify(path)


async def test_inline_writes_in_the_callers_task_still_roll_over(tmp_path: Path) -> None:
    async with open_warc_writer(tmp_path / "warcs", rollover_bytes=1_500, host="h") as w:
        for i in range(6):
            await w.write_exchange(make_exchange(f"http://example.com/{i}", b"<p>x</p>"))
        assert w.statistics().files_closed >= 2
    files = sorted((tmp_path / "warcs").glob("*.warc.gz"))
    assert not list((tmp_path / "warcs").glob("*.open"))
    urls = [h["WARC-Target-URI"] for f in files for t, h in records_of(f) if t == "response"]
    assert urls == [f"http://example.com/{i}" for i in range(6)]
    for f in files:
        assert records_of(f)[0][0] == "warcinfo"
        warcio_check(f)
    assert sum(len(list(read_cdxj(p))) for p in (tmp_path / "indexes").glob("*.cdxj")) == 6


async def test_a_write_failing_in_the_callers_task_stops_the_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.warcfile import WarcFile

    async with open_warc_writer(tmp_path / "w") as w:
        await w.write_exchange(make_exchange("http://example.com/first"))

        def full(self: WarcFile, records: object) -> object:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(WarcFile, "write", full)
        with pytest.raises(OSError, match="No space"):
            await w.write_exchange(make_exchange("http://example.com/second"))
        with pytest.raises(RuntimeError, match="stopped after an error"):
            await w.write_exchange(make_exchange("http://example.com/third"))
    assert len(list((tmp_path / "w").glob("*.open"))) == 1   # recover() keeps its complete records
