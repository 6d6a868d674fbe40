"""Checks of a whole collection folder after a hostile run, a kill or a full disk.

* every WARC passes ``warcio check`` and FastWARC's digest verification, and no
  ``.open`` file is left once a run ended;
* the state store agrees with the WARCs: every capture's (file, offset) holds a
  response or revisit record with that record ID and target URI;
* :func:`records_by_url` lists what the WARCs hold per target URI, to count what
  was kept.

Used by tests/test_hostile.py, tests/test_crash.py and scripts/kill_loop.py (which
puts the repository root on ``sys.path``).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from tests.warcfixtures import fastwarc_verify, warcio_check

__all__ = ["WarcRecordInfo", "check_state_matches_warcs", "check_warcs_valid", "records_by_url"]


@dataclass(frozen=True, slots=True)
class WarcRecordInfo:
    filename: str
    offset: int
    record_type: str
    record_id: str
    target_uri: str | None
    truncated: str | None
    status: int | None


def _warcs(out: Path) -> list[Path]:
    return sorted(p for p in (out / "warcs").glob("*.warc*") if not p.name.endswith(".open"))


def iter_warc_records(path: Path) -> list[WarcRecordInfo]:
    found = []
    with path.open("rb") as fh:
        it = ArchiveIterator(fh)
        for rec in it:
            status = None
            if rec.http_headers is not None and rec.rec_type in ("response", "revisit"):
                code = rec.http_headers.get_statuscode()
                status = int(code) if code and code.isdigit() else None
            found.append(WarcRecordInfo(path.name, it.get_record_offset(), rec.rec_type,
                                        rec.rec_headers.get_header("WARC-Record-ID"),
                                        rec.rec_headers.get_header("WARC-Target-URI"),
                                        rec.rec_headers.get_header("WARC-Truncated"), status))
            rec.content_stream().read()
    return found


def records_by_url(out: Path) -> dict[str, list[WarcRecordInfo]]:
    """Every record of every finished WARC of the collection, by target URI."""
    by: dict[str, list[WarcRecordInfo]] = defaultdict(list)
    for warc in _warcs(out):
        for rec in iter_warc_records(warc):
            if rec.target_uri:
                by[rec.target_uri].append(rec)
    return dict(by)


def check_warcs_valid(out: Path, *, allow_open: bool = False) -> list[str]:
    """Problems with the collection's WARC files (empty list: all valid)."""
    problems = []
    warcs = _warcs(out)
    if not allow_open:
        problems += [f"{p.name}: left open" for p in (out / "warcs").glob("*.open")]
    for warc in warcs:
        code, output = warcio_check(warc)
        if code != 0:
            problems.append(f"{warc.name}: warcio check failed: {output[-500:]}")
        try:
            verdicts = fastwarc_verify(warc)
        except Exception as exc:
            problems.append(f"{warc.name}: fastwarc failed: {exc!r}")
            continue
        if not verdicts:
            problems.append(f"{warc.name}: no records")
        bad = [v for v in verdicts if not v[1] or v[2] is False]
        if bad:
            problems.append(f"{warc.name}: digest mismatch {bad}")
    return problems


def check_state_matches_warcs(out: Path) -> list[str]:
    """Problems where state.sqlite points at a record the WARCs do not hold as it says."""
    db = out / "state.sqlite"
    if not db.exists():
        return []
    at: dict[tuple[str, int], WarcRecordInfo] = {}
    for warc in _warcs(out):
        for rec in iter_warc_records(warc):
            at[(rec.filename, rec.offset)] = rec
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT u.url, c.warc_filename, c.warc_offset, c.record_id, c.record_type "
                           "FROM captures c JOIN urls u ON u.id = c.url_id "
                           "WHERE c.warc_filename IS NOT NULL").fetchall()
    finally:
        con.close()
    problems = []
    for url, filename, offset, record_id, record_type in rows:
        rec = at.get((filename, offset))
        if rec is None:
            problems.append(f"{url}: capture points at {filename}@{offset}, where no record starts")
        elif (rec.record_id, rec.record_type) != (record_id, record_type):
            problems.append(f"{url}: {filename}@{offset} holds {rec.record_type} {rec.record_id}, "
                            f"state says {record_type} {record_id}")
    return problems
