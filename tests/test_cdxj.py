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
