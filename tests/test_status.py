"""``citecrawl status`` through ``crawler.cli.main``: text, JSON, a missing or newer store."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from crawler import cli, exitcodes
from crawler.commands import status
from crawler.lock import RunLock
from crawler.schedule import RecrawlPolicy
from crawler.state import STATE_FILENAME, Capture, Citation, DocumentSeen, open_state_store

DAY = 86400.0


@pytest.fixture(autouse=True)
def only_status(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the parser with this command alone: other commands live on other branches until merged."""
    monkeypatch.setattr(cli, "COMMANDS", ("status",))


def make_collection(root: Path, *, now: float) -> Path:
    coll = root / "coll"
    s = open_state_store(coll)
    urls = [f"https://news.example/{i}" for i in range(15)]
    s.upsert_documents([DocumentSeen("000.txt", "h")], now=now - 10 * DAY)
    s.replace_citations({"000.txt": [Citation(u, "webUrl") for u in urls]
                         + [Citation("https://img.example/1.jpg", "images[0].url")]}, now=now - 10 * DAY)
    run = s.start_run(now=now - 8 * DAY, pid=4242, host="cronhost")
    policy = RecrawlPolicy()
    s.record_capture(Capture(url=urls[0], fetched_at=now - 8 * DAY, outcome="ok", status=200, verdict="unchanged"),
                     run_id=run, policy=policy)  # due again: a week has passed
    s.record_capture(Capture(url=urls[1], fetched_at=now - 2 * DAY, outcome="timeout"), run_id=run, policy=policy)
    s.record_capture(Capture(url="https://img.example/1.jpg", fetched_at=now - 8 * DAY, outcome="ok", status=200,
                             verdict="unchanged"), run_id=run, policy=policy)
    s.finish_run(run, now=now - 8 * DAY + 3723, counts={"fetched": 3, "failed": 1}, exit_status=0)
    s.start_run(now=now - 60, pid=4343, host="cronhost")  # killed: never finished
    s.close()
    return coll


def test_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    coll = make_collection(tmp_path, now=time.time())
    assert cli.main(["status", "--out", str(coll)]) == exitcodes.OK
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"collection {coll} (state schema 3)"
    assert lines[1] == "documents 1, cited URLs 16, captures 3, runs 2"
    assert "due now: 15 (new 13, recheck 1, retry 1)" in out
    listed = [line for line in lines if line.startswith("  new         https://news.example/")]
    assert len(listed) == 10  # the longest due first: new URLs cited ten days ago
    assert "  … and 5 more" in out
    assert "did not finish (still going, or killed)" in out
    assert "1h02m03s, exit 0  failed=1 fetched=3" in out
    assert out.rstrip().endswith("verdicts: not fetched 13, unchanged 2, unjudged 1")
    assert "a run is going" not in out


def test_json_and_running_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    coll = make_collection(tmp_path, now=time.time())
    config = tmp_path / "c.toml"
    config.write_text('[collection]\nout = "coll"\n[recrawl]\narticle = "30d"\n', encoding="utf-8")
    with RunLock(coll):
        assert cli.main(["status", "--config", str(config), "--json", "--runs", "1"]) == exitcodes.OK
    report = json.loads(capsys.readouterr().out)
    assert report["collection"] == str(coll)
    assert report["running"]["pid"] > 0
    assert report["due"]["total"] == 14 and report["due"]["by_reason"] == {"new": 13, "retry": 1}
    assert len(report["due"]["first"]) == 10 and report["due"]["first"][0]["reason"] == "new"
    assert [r["exit_status"] for r in report["runs"]] == [None]
    assert report["verdicts"] == {"not fetched": 13, "unchanged": 2, "unjudged": 1}
    assert report["totals"]["captures"] == 3


def test_missing_store_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--out", str(tmp_path / "nothing")]) == exitcodes.USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"citecrawl: no state store in {tmp_path / 'nothing'}") and err.count("\n") == 1
    assert not (tmp_path / "nothing").exists()  # status creates nothing


def test_newer_store_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    coll = make_collection(tmp_path, now=time.time())
    conn = sqlite3.connect(coll / STATE_FILENAME)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    assert cli.main(["status", "--out", str(coll)]) == exitcodes.INTERNAL
    assert "newer than this citecrawl knows" in capsys.readouterr().err


def test_gather_with_injected_now(tmp_path: Path) -> None:
    """Status is a pure function of the store and ``now``: a week later the failed URL and the page are due."""
    now = 1_700_000_000.0
    coll = make_collection(tmp_path, now=now)
    s = open_state_store(coll, readonly=True)
    report = status.gather(s, collection=coll, policy=RecrawlPolicy(), now=now - 3 * DAY, first=2)
    assert report["due"]["by_reason"] == {"new": 13}  # the retry is due in a day, the recheck in 4
    assert report["now"] == "2023-11-11T22:13:20Z"
    assert report["runs"][1]["started"] == "2023-11-06T22:13:20Z" and report["runs"][1]["duration"] == 3723
    s.close()
    assert "… and 11 more" in status.render(report)
