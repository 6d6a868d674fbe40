"""Crash consistency: a process SIGKILLed while writing leaves the state of its last commit, nothing half-done."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.schedule import RecrawlPolicy
from crawler.state import STATE_FILENAME
from crawler.state_sqlite import SqliteStateStore

REPO = Path(__file__).resolve().parent.parent

COMMON = """
import sys, time
from crawler.state import Capture, Citation, DocumentSeen, WarcRef
from crawler.state_sqlite import SqliteStateStore
from crawler.schedule import RecrawlPolicy
store = SqliteStateStore(sys.argv[1])
URLS = [f"https://h{i % 50}.example/{i}" for i in range(2000)]
"""

MANY_SMALL = COMMON + """
store.upsert_documents([DocumentSeen("d", "1")], now=0.0)
store.replace_citations({"d": [Citation(u, "webUrl") for u in URLS]}, now=0.0)
print("seeded", flush=True)
for n, u in enumerate(URLS, start=1):
    store.record_capture(Capture(url=u, fetched_at=float(n), outcome="ok", status=200, payload_digest=f"sha1:{n}",
                                 warc=WarcRef("f.warc.gz", n * 10, 10, f"<urn:uuid:{n}>", "response", "d", u)),
                         run_id=None, policy=RecrawlPolicy())
    print(n, flush=True)
"""

ONE_BIG = COMMON + """
store.upsert_documents([DocumentSeen("d", "1"), DocumentSeen("e", "1")], now=0.0)
store.replace_citations({"d": [Citation(u, "webUrl") for u in URLS[:10]]}, now=0.0)
store._conn.execute("PRAGMA cache_size = 5")  # spill uncommitted pages into the WAL before the commit
import os
print(os.path.getsize(sys.argv[1] + "-wal"), flush=True)
steps = 0
def pause_midway():
    global steps
    steps += 1
    if steps == 200:
        print("midway", flush=True)
        time.sleep(60)
    return 0
store._conn.set_progress_handler(pause_midway, 1000)
store.replace_citations({"d": [Citation(u, "images[0].url") for u in URLS],
                         "e": [Citation(u + "?e", "body.a") for u in URLS]}, now=1.0)
print("committed", flush=True)
"""


def run_and_kill(script: str, db: Path, *, until: str) -> list[str]:
    """Run ``script``, SIGKILL it once it prints a line ``until``; returns what it printed."""
    lines: list[str] = []
    with subprocess.Popen([sys.executable, "-c", script, str(db)], cwd=REPO, text=True,
                          stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())
            if lines[-1] == until:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, lines[-3:]
    return lines


def check_integrity(db: Path) -> None:
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


@pytest.mark.slow
def test_killed_between_captures_keeps_every_commit(tmp_path: Path) -> None:
    db = tmp_path / STATE_FILENAME
    printed = run_and_kill(MANY_SMALL, db, until="300")
    committed = int(printed[-1])
    check_integrity(db)
    with SqliteStateStore(db) as s:
        n = s.statistics().captures
        assert n >= committed  # every commit it reported survived (it ran on a little before the kill landed)
        # what is there is a prefix of the loop: no gaps, no capture without its URL update
        fetched = [t for (t,) in s._conn.execute("SELECT fetched_at FROM captures ORDER BY id")]
        assert fetched == [float(i) for i in range(1, n + 1)]
        # every capture is fully applied: its URL's scheduling state points at it
        rows = s._conn.execute("SELECT count(*) FROM urls u JOIN captures c ON c.id = u.last_capture "
                               "WHERE u.last_finished = c.fetched_at AND u.last_outcome = 'ok'").fetchone()[0]
        assert rows == n
        due = s.due_urls(10_000.0, RecrawlPolicy())
        assert len(due) == 2000 - n and all(d.reason == "new" for d in due)


@pytest.mark.slow
def test_killed_inside_a_big_transaction_leaves_the_previous_state(tmp_path: Path) -> None:
    db = tmp_path / STATE_FILENAME
    printed = run_and_kill(ONE_BIG, db, until="midway")
    assert "committed" not in printed
    wal_before = int(printed[0])
    assert (tmp_path / (STATE_FILENAME + "-wal")).stat().st_size > wal_before  # uncommitted frames hit the disk
    check_integrity(db)
    with SqliteStateStore(db) as s:
        stats = s.statistics()
        assert (stats.urls, stats.cited_urls) == (10, 10)
        roles = {r for (r,) in s._conn.execute("SELECT DISTINCT role FROM citations")}
        assert roles == {"webUrl"}
