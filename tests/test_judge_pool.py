"""The judging processes: frames on pipes, the same verdicts as judging here, clear errors when a process fails."""

from __future__ import annotations

import io
import os
import pickle
import signal
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trio

from archive.exchange import CapturedRequest, CapturedResponse, Exchange, Timings
from crawler.config import Config
from crawler.documents import Citation
from crawler.frames import MAX_FRAME_BYTES, FrameBuffer, FrameError, encode_frame, read_frame
from crawler.judge_pool import JUDGE_NICENESS, JudgeGone, JudgingError, open_judge_pool
from crawler.judging import judge_one
from crawler.outcomes import FetchResult, Outcome
from crawler.scanstore import CitedUrl

PAGE = ("<html><head><title>Harbour lights return</title></head><body><article><h1>Harbour lights return</h1>"
        + "".join(f"<p>The harbour council voted on the lights for the {n}th time, and the lamps were lit again "
                  f"along the quay after a winter in the dark.</p>" for n in range(12))
        + "</article></body></html>").encode()


def _result(url: str, body: bytes = PAGE) -> FetchResult:
    exchange = Exchange(
        request=CapturedRequest("GET", url, "/", "HTTP/1.1", ((b"Host", b"example.org"),)),
        response=CapturedResponse("HTTP/1.1", 200, "OK", ((b"Content-Type", b"text/html; charset=utf-8"),)),
        date=datetime(2026, 1, 2, tzinfo=UTC), peer_ip=None, timings=Timings(0.0, 0.1, 0.2),
        body=io.BytesIO(body), body_length=len(body))
    return FetchResult(url, "page", Outcome.OK, status=200, final_url=url, hops=(exchange,))


def _cited(url: str, title: str = "Harbour lights return") -> CitedUrl:
    return CitedUrl(url, (Citation("doc.md", "related[0].webUrl", title=title, excerpt="lamps were lit again"),))


# -- frames -----------------------------------------------------------------------------------------

def test_frames_come_out_whole_whatever_the_pieces_they_arrive_in() -> None:
    items = [("job", 1, {"a": [1, 2]}), b"x" * 70_000, None, "é" * 10]
    data = b"".join(encode_frame(i) for i in items)
    for size in (1, 3, 4, 5, 4096, len(data)):
        buf = FrameBuffer()
        got = [obj for start in range(0, len(data), size) for obj in buf.feed(data[start:start + size])]
        assert got == items and buf.pending == 0, size


def test_a_frame_announcing_too_many_bytes_is_refused() -> None:
    with pytest.raises(FrameError, match="over the"):
        FrameBuffer().feed((MAX_FRAME_BYTES + 1).to_bytes(4, "big") + b"x")


def test_bytes_that_are_not_a_pickle_are_a_frame_error() -> None:
    with pytest.raises(FrameError, match="does not unpickle"):
        FrameBuffer().feed((5).to_bytes(4, "big") + b"hello")


def test_read_frame_tells_a_clean_end_from_a_cut_frame() -> None:
    frame = encode_frame(["one"])
    assert read_frame(io.BytesIO(frame)) == ["one"]
    with pytest.raises(EOFError):
        read_frame(io.BytesIO(b""))
    with pytest.raises(FrameError, match="before the end"):
        read_frame(io.BytesIO(frame[:-1]))
    with pytest.raises(FrameError, match="length"):
        read_frame(io.BytesIO(frame[:2]))


# -- the pool -------------------------------------------------------------------------------------

async def test_the_processes_give_the_verdicts_judged_here() -> None:
    config = Config()
    urls = [f"https://example.org/{i}" for i in range(6)]
    expected = [judge_one(config, None, _cited(u, "Harbour lights return" if i % 2 else "Storm closes the bridge"),
                          (), _result(u)) for i, u in enumerate(urls)]
    got: dict[int, object] = {}
    async with open_judge_pool(2, config, None) as pool:
        assert len(set(pool.pids)) == 2

        async def one(i: int, url: str) -> None:
            got[i] = await pool.judge(_cited(url, "Harbour lights return" if i % 2 else "Storm closes the bridge"),
                                      (), _result(url))

        async with trio.open_nursery() as nursery:
            for i, url in enumerate(urls):
                nursery.start_soon(one, i, url)
        pids = pool.pids
        # both have judged (jobs go to the least busy), so both are past their boot line by now:
        # judging yields the CPU to the event loop (the kernel caps niceness at 19)
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pids] == [min(19, mine + JUDGE_NICENESS)] * 2
    assert [got[i] for i in range(len(urls))] == expected
    assert {str(v.verdict) for v in expected} == {"unchanged", "minor_changes"}   # both paths of the verdict
    for pid in pids:                                   # ended and reaped when the pool closed
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_a_job_that_raises_in_its_process_says_where() -> None:
    async with open_judge_pool(1, Config(), None) as pool:
        with pytest.raises(JudgingError, match=r"judging https://example.org/x: Traceback"):
            await pool.judge(None, (), _result("https://example.org/x"))  # type: ignore[arg-type]
        # the process goes on with the next job
        verdict = await pool.judge(_cited("https://example.org/y"), (), _result("https://example.org/y"))
        assert str(verdict.verdict) == "unchanged"


async def test_a_killed_process_fails_its_job_and_the_next_ones_clearly() -> None:
    async with open_judge_pool(1, Config(), None) as pool:
        os.kill(pool.pids[0], signal.SIGKILL)
        with pytest.raises(JudgingError, match=r"judging process ended \(killed by SIGKILL\)"):
            await pool.judge(_cited("https://example.org/a"), (), _result("https://example.org/a"))
        with pytest.raises(JudgingError, match="no judging process left"):
            await pool.judge(_cited("https://example.org/b"), (), _result("https://example.org/b"))


async def test_leaving_the_pool_early_ends_its_processes() -> None:
    with trio.CancelScope() as scope:
        async with open_judge_pool(2, Config(), None) as pool:
            pids = pool.pids
            scope.cancel()
            await trio.sleep_forever()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_job_pickles() -> None:
    """What crosses the pipe: the result with its body in memory."""
    job = (0, _cited("https://example.org/p"), (), _result("https://example.org/p"))
    back = pickle.loads(pickle.dumps(job))
    assert back[3].hops[0].read_body() == PAGE


async def test_a_run_whose_judging_process_ended_reports_its_pages_fetched_not_compared() -> None:
    """The pipeline's side: a page whose judge is gone is archived all the same, and says why it was not read."""
    from archive.verdicts import NOT_COMPARED
    from crawler.corpus import scan
    from crawler.pipeline import _Judge

    class GonePool:
        async def judge(self, cited: CitedUrl, docs: object, result: FetchResult) -> object:
            raise JudgeGone(result.url, "a judging process ended (killed by SIGKILL)")

    notes: list[str] = []
    urls = ["https://example.org/a", "https://example.org/b"]
    with scan(urls) as found:
        judge = _Judge(Config(), found, workers=2, note=notes.append)
        judge._pool = GonePool()  # type: ignore[assignment]
        verdicts = [await judge.judge_async(_result(u), judge.facts(u)) for u in urls]
    assert [str(v.verdict) for v in verdicts] == ["fetched", "fetched"]
    assert all(v.evidence.notes == (NOT_COMPARED, "not judged: a judging process ended (killed by SIGKILL)")
               for v in verdicts)
    assert notes == ["a judging process ended (killed by SIGKILL); its pages are archived but not compared"]


async def test_a_result_with_its_bodies_on_disk_crosses_with_the_final_body_only(tmp_path: Path) -> None:
    """Bodies are spooled files, which do not pickle: the pool reads the final one when the job is sent."""
    url = "https://example.org/final"
    first = _result("https://example.org/old").hops[0]
    final = _result(url).hops[0]
    spooled = tmp_path / "body"
    spooled.write_bytes(PAGE)
    hops = (replace(first, body=(tmp_path / "first").open("w+b")), replace(final, body=spooled.open("rb")))
    result = replace(_result(url), hops=hops)
    with pytest.raises(TypeError):
        pickle.dumps(result)                          # as the pipeline has it
    async with open_judge_pool(1, Config(), None) as pool:
        verdict = await pool.judge(_cited(url), (), result)
    assert verdict == judge_one(Config(), None, _cited(url), (), replace(result, hops=(hops[0], _result(url).hops[0])))
    for hop in hops:
        hop.close()
