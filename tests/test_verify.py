"""``citecrawl verify``: passes our files, catches every kind of damage."""

from __future__ import annotations

import argparse
import doctest
from pathlib import Path

import pytest

import archive.verify
from archive.verify import verify_file
from archive.writer import open_warc_writer
from crawler import exitcodes
from crawler.commands import verify as verify_command
from tests.warcfixtures import make_exchange


def run_verify(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    verify_command.add_arguments(parser)
    return verify_command.run(parser.parse_args(list(argv)))


async def collection(root: Path, *, gzip_level: int = 6, digest: str = "sha1") -> Path:
    async with open_warc_writer(root / "warcs", gzip_level=gzip_level, digest=digest) as w:  # type: ignore[arg-type]
        await w.write_exchange(make_exchange("http://example.com/a", b"<p>alpha</p>" * 20),
                               metadata=[("robots", "allowed")])
        await w.write_exchange(make_exchange("http://example.com/b", b"<p>beta</p>",
                                             headers=((b"Transfer-Encoding", b"chunked"),)))
        await w.write_exchange(make_exchange("http://example.com/a", b"<p>alpha</p>" * 20))   # revisit
    [path] = list((root / "warcs").iterdir())
    return path


@pytest.mark.parametrize(("gzip_level", "digest"), [(6, "sha1"), (0, "sha256")])
async def test_our_collection_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     gzip_level: int, digest: str) -> None:
    path = await collection(tmp_path, gzip_level=gzip_level, digest=digest)
    assert run_verify(str(tmp_path)) == exitcodes.OK
    out = capsys.readouterr().out
    assert out.startswith(f"OK   {path}") and "3 index lines" in out
    verdict = verify_file(path)
    assert verdict.records == 1 + 2 * 3 + 1 and verdict.digests_checked >= 12


async def test_a_flipped_body_byte_fails_both_digests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = await collection(tmp_path, gzip_level=0)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"<p>beta</p>", b"<p>BETA</p>"))
    assert run_verify(str(tmp_path)) == exitcodes.VERIFY_FAILED
    out = capsys.readouterr().out
    assert "WARC-Block-Digest does not match" in out and "WARC-Payload-Digest does not match" in out


async def test_bad_framing_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = await collection(tmp_path)
    path.write_bytes(path.read_bytes()[:-10])
    assert run_verify(str(path)) == exitcodes.VERIFY_FAILED
    assert "gzip member clipped" in capsys.readouterr().out


async def test_index_inconsistencies_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await collection(tmp_path)
    [index] = list((tmp_path / "indexes").iterdir())
    lines = index.read_text().splitlines()
    wrong_digest = lines[0].replace('"digest": "sha1:', '"digest": "sha1:X')
    wrong_offset = lines[1].replace('"offset": "', '"offset": "1')
    index.write_text("\n".join([wrong_digest, wrong_offset]) + "\n")        # and the third line dropped
    assert run_verify(str(tmp_path)) == exitcodes.VERIFY_FAILED
    out = capsys.readouterr().out
    assert "has digest sha1:X" in out and "where no record starts" in out and "missing from the index" in out


async def test_open_file_is_a_fault(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = await collection(tmp_path)
    path.rename(path.with_name(path.name + ".open"))
    assert run_verify(str(tmp_path / "warcs")) == exitcodes.VERIFY_FAILED
    assert "left open" in capsys.readouterr().out


def test_doctests() -> None:
    assert doctest.testmod(archive.verify).failed == 0


@pytest.mark.shared_data
def test_real_files_never_crash_verify(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_verify(str(shared_data / "warcs"), "-q") == exitcodes.VERIFY_FAILED   # it has broken files
    captured = capsys.readouterr()
    assert "example-trunc.warc" in captured.out
    assert "pywb/example.warc.gz" not in captured.out                    # a sound foreign file passes
