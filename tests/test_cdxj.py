"""CDXJ lines as pywb's cdxj-indexer writes them, SURT keys, and the ``index`` command."""

from __future__ import annotations

import argparse
import doctest
from pathlib import Path

import pytest

import archive.cdxj
import archive.surt
from archive.cdxj import index_files, parse_cdxj_line, read_cdxj, timestamp14
from archive.surt import surt_key
from archive.writer import open_warc_writer
from crawler.commands import index as index_command
from tests.warcfixtures import make_exchange


def run_index(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    index_command.add_arguments(parser)
    return index_command.run(parser.parse_args(list(argv)))


@pytest.mark.parametrize(("url", "key"), [
    ("http://www.example.com/", "com,example)/"),
    ("https://Example.COM:443/Path/?b=2&a=1#x", "com,example)/path?a=2&b=1".replace("a=2&b=1", "a=1&b=2")),
    ("http://example.com:8080/a", "com,example:8080)/a"),
    ("http://user:pw@example.com/a/./b/../c", "com,example)/a/c"),
    ("http://example.com/s?jsessionid=0123456789abcdef0123456789abcdef&x=1", "com,example)/s?x=1"),
    ("http://www2.example.com/%7Euser/", "com,example)/~user"),
    ("http://3232235777/", "1,1,168,192)/"),
    ("http://bücher.de/", "de,xn--bcher-kva)/"),
    ("filedesc://x.arc", "filedesc://x.arc"),
])
def test_surt_keys_match_pywb(url: str, key: str) -> None:
    assert surt_key(url) == key


def test_doctests() -> None:
    assert doctest.testmod(archive.surt).failed == 0
    assert doctest.testmod(archive.cdxj).failed == 0


def test_timestamp14_of_odd_dates() -> None:
    assert timestamp14("2024-05-01T12:00:00Z") == "20240501120000"
    assert timestamp14("2024-05-01") == "20240501000000"


async def _collection(tmp_path: Path) -> Path:
    async with open_warc_writer(tmp_path / "warcs", rollover_bytes=2_000) as w:
        await w.write_exchange(make_exchange("http://example.com/b", b"B" * 3000))
        await w.write_exchange(make_exchange("http://example.com/a", b"A"))
        await w.write_exchange(make_exchange("http://example.com/a", b"A"))          # revisit
        await w.write_exchange(make_exchange(
            "http://example.com/old", b"", status=301, reason="Moved Permanently",
            headers=((b"Location", b"http://example.com/a"), (b"Content-Length", b"0"))))
    return tmp_path


async def test_index_command_rebuilds_what_the_writer_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await _collection(tmp_path)
    written = sorted(line for p in (tmp_path / "indexes").glob("*.cdxj") for line in p.read_text().splitlines())
    assert run_index(str(tmp_path / "warcs"), "-o", str(tmp_path / "all.cdxj")) == 0
    rebuilt = (tmp_path / "all.cdxj").read_text().splitlines()
    assert rebuilt == sorted(written, key=lambda s: s.encode())
    assert rebuilt == sorted(rebuilt, key=lambda s: s.encode())            # LC_ALL=C order
    entries = [parse_cdxj_line(line) for line in rebuilt]
    assert {e.fields.get("mime") for e in entries} == {"text/html", "warc/revisit", None}   # the 301 has no type
    [moved] = [e for e in entries if e.url.endswith("/old")]
    assert moved.fields["status"] == "301" and moved.fields["location"] == "http://example.com/a"
    assert set(moved.fields) >= {"url", "status", "digest", "length", "offset", "filename"}
    # stdout form and --per-file form
    assert run_index(str(tmp_path / "warcs")) == 0
    assert capsys.readouterr().out.splitlines() == rebuilt
    assert run_index(str(tmp_path / "warcs"), "--per-file", str(tmp_path / "again")) == 0
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == sorted(p.name for p in (tmp_path / "indexes").iterdir())


async def test_broken_files_are_reported_and_the_rest_indexed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await _collection(tmp_path)
    good = sorted((tmp_path / "warcs").glob("*.warc.gz"))
    clipped = tmp_path / "warcs" / "clipped.warc.gz"
    clipped.write_bytes(good[0].read_bytes()[:-50])
    (tmp_path / "warcs" / "notes.warc").write_bytes(b"this is not a WARC file\r\n")
    code = run_index(str(tmp_path / "warcs"))
    captured = capsys.readouterr()
    assert code == 3
    broken = [line for line in captured.err.splitlines() if "BROKEN" in line]
    assert len(broken) == 2 and any("clipped.warc.gz" in b for b in broken) and any("notes.warc" in b for b in broken)
    # every record of the good files, and those of the clipped copy that end before the cut
    size = clipped.stat().st_size
    whole = [e for e in index_files(good[:1]).entries if int(e.fields["offset"]) + int(e.fields["length"]) <= size]
    assert len(captured.out.splitlines()) == len(index_files(good).entries) + len(whole)


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    from crawler.errors import UsageError
    with pytest.raises(UsageError):
        run_index(str(tmp_path / "nope"))


@pytest.mark.shared_data
def test_indexes_every_real_warc_without_crashing(shared_data: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = run_index(str(shared_data / "warcs"), "-o", str(tmp_path / "all.cdxj"))
    err = capsys.readouterr().err
    assert code == 3                                           # the collection has deliberately broken files
    broken = [line for line in err.splitlines() if "BROKEN" in line]
    assert any("example-wrong-chunks.warc.gz" in b for b in broken)
    assert any("skip-non-open.warc.gz" in b for b in broken)
    entries = list(read_cdxj(tmp_path / "all.cdxj"))
    assert len(entries) > 700
    assert any(e.fields["filename"].endswith(".arc") for e in entries)          # ARC files too
    assert any(e.fields.get("mime") == "warc/revisit" for e in entries)


def _varied_records(ids: object) -> list[object]:
    """Records of every kind the writer makes, with the HTTP heads an index line depends on."""
    from archive.records import (
        PROFILE_IDENTICAL,
        PROFILE_NOT_MODIFIED,
        Record,
        capture_records,
        metadata_record,
        revisit_record,
    )
    from tests.warcfixtures import DATE

    new_id = ids  # type: ignore[assignment]
    out: list[object] = []
    cases = [
        make_exchange("http://example.com/a?x=1", b"<p>a</p>"),
        make_exchange("https://Example.COM:443/b", b"\x1f\x8bgz", headers=(
            (b"content-type", b"TEXT/HTML ; charset=UTF-8"), (b"Content-Encoding", b"gzip"))),
        make_exchange("http://example.com/moved", b"", status=301, reason="Moved Permanently", headers=(
            (b"Location", b"  /elsewhere?q=1 "), (b"Content-Length", b"0"), (b"LOCATION", b"/second"))),
        make_exchange("http://example.com/none", b"nothing", status=404, reason="", headers=()),
        make_exchange("http://example.com/h2", b"<p>2</p>", http_version="HTTP/2"),
        make_exchange("http://example.com/weird", b"x", headers=((b"Content-Type", b";charset=x"), (b"X-Odd", b""))),
        make_exchange("http://example.com/found", b"", status=302, reason="Found", headers=()),
    ]
    for ex in cases:
        pair = capture_records(ex, new_id=new_id)  # type: ignore[arg-type]
        out += [*pair.records, metadata_record(ex.url, [("robots", "allowed")], date=DATE, record_id=new_id(),  # type: ignore[operator]
                                               concurrent_to=pair.response.record_id)]
    same = cases[0]
    digest = out[0].header("WARC-Payload-Digest")  # type: ignore[attr-defined]
    from archive.records import CaptureRef
    ref = CaptureRef(same.url, out[0].record_id, "2024-05-01T12:00:00Z", digest)  # type: ignore[attr-defined]
    out += revisit_record(same, profile=PROFILE_IDENTICAL, refers_to=ref, new_id=new_id).records  # type: ignore[arg-type]
    nm = make_exchange("http://example.com/a?x=1", b"", status=304, reason="Not Modified", headers=())
    out += revisit_record(nm, profile=PROFILE_NOT_MODIFIED, refers_to=None, new_id=new_id).records  # type: ignore[arg-type]
    out += revisit_record(nm, profile=PROFILE_NOT_MODIFIED, refers_to=ref, new_id=new_id).records  # type: ignore[arg-type]
    out.append(Record((("WARC-Type", "resource"), ("WARC-Record-ID", new_id()),  # type: ignore[operator]
                       ("WARC-Date", "2024-05-01T12:00:00Z"), ("WARC-Target-URI", "urn:log:1"),
                       ("WARC-Payload-Digest", "sha1:AAAA"), ("Content-Type", "text/plain"),
                       ("Content-Length", "3")), b"log"))
    return out


@pytest.mark.parametrize("gzip_level", [0, 6])
def test_the_index_built_while_writing_is_the_index_read_back(tmp_path: Path, gzip_level: int) -> None:
    """The writer indexes records as it writes them: line for line what reading the file gives."""
    from archive.records import Record
    from archive.warcfile import WarcFile, index_path_for
    from tests.warcfixtures import fixed_ids

    f = WarcFile(tmp_path, "t.warc.gz" if gzip_level else "t.warc", gzip_level=gzip_level, index_dir=tmp_path / "ix")
    for rec in _varied_records(fixed_ids()):
        assert isinstance(rec, Record)
        f.write([rec])
    assert f._entries is not None and f._entries.lines == 11     # built while writing, nothing read back
    path = f.close()
    written = index_path_for(path, tmp_path / "ix").read_text()
    read_back = index_files([path])
    assert not read_back.faults
    assert written == "".join(sorted(e.line() + "\n" for e in read_back.entries))
    assert '"location": "/elsewhere?q=1"' in written and '"mime": "TEXT/HTML"' in written


def test_records_only_reading_can_index_make_the_writer_read_the_file(tmp_path: Path) -> None:
    """A resource without a payload digest (the reader computes one) or a non-ASCII head: index by reading."""
    from archive.cdxj import NeedsReading, entry_for_written
    from archive.records import Record, capture_records
    from archive.warcfile import WarcFile, index_path_for

    log = Record((("WARC-Type", "resource"), ("WARC-Record-ID", "<urn:uuid:1>"), ("WARC-Date", "2024-05-01T12:00:00Z"),
                  ("WARC-Target-URI", "urn:log:1"), ("Content-Type", "text/plain"), ("Content-Length", "3")), b"log")
    odd = capture_records(make_exchange("http://example.com/é", b"x", headers=(
        (b"Content-Type", "text/html; é".encode()),))).response
    for rec in (log, odd):
        with pytest.raises(NeedsReading):
            entry_for_written(rec, filename="t.warc.gz", offset=0, length=1)
    f = WarcFile(tmp_path, "t.warc.gz", index_dir=tmp_path / "ix")
    f.write([log, odd])
    assert f._entries is None
    path = f.close()
    lines = index_path_for(path, tmp_path / "ix").read_text().splitlines()
    assert len(lines) == 2 and all('"digest": "sha1:' in line for line in lines)
