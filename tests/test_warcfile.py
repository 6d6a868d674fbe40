"""Files on disk: gzip members, round trips through warcio and FastWARC, recovery after a kill."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.cdxj import read_cdxj
from archive.framing import Frame, FramingFault, iter_frames
from archive.records import (
    PROFILE_NOT_MODIFIED,
    capture_records,
    metadata_record,
    revisit_record,
    warcinfo_record,
)
from archive.warcfile import WarcFile, index_path_for, next_serial, recover, warc_filename
from tests.warcfixtures import DATE, fastwarc_verify, fixed_ids, make_exchange, warcio_check

REPO = Path(__file__).resolve().parent.parent


def write_sample(directory: Path, *, gzip_level: int, algorithm: str = "sha1") -> tuple[Path, list]:
    ids = fixed_ids()
    name = warc_filename("t", datetime(2024, 5, 1, tzinfo=UTC), 0, "box", gzip=gzip_level > 0)
    f = WarcFile(directory, name, gzip_level=gzip_level, index_dir=directory / "indexes")
    locs = f.write([warcinfo_record(name, [("software", "test")], date=DATE, record_id=ids(), algorithm=algorithm)])  # type: ignore[arg-type]
    bodies = [b"<html>one</html>", b"a\r\n0123456789\r\n0\r\n\r\n", os.urandom(300_000),
              # compressed already: the payload goes into stored deflate blocks of the same member
              gzip.compress(b"<p>tide</p>" * 4000), b"\xff\xd8\xff\xe0" + os.urandom(150_000)]
    for i, body in enumerate(bodies):
        ex = make_exchange(f"http://example.com/{i}", body,
                           headers=((b"Content-Type", b"text/html"), (b"Transfer-Encoding", b"chunked")))
        pair = capture_records(ex, new_id=ids, algorithm=algorithm)  # type: ignore[arg-type]
        locs += f.write([*pair.records, metadata_record(ex.url, [("robots", "allowed")], date=DATE,
                                                        record_id=ids(), concurrent_to=pair.response.record_id,
                                                        algorithm=algorithm)])  # type: ignore[arg-type]
    nm = make_exchange("http://example.com/0", b"", status=304, reason="Not Modified", headers=())
    locs += f.write(revisit_record(nm, profile=PROFILE_NOT_MODIFIED, refers_to=None, new_id=ids,
                                   algorithm=algorithm).records)  # type: ignore[arg-type]
    assert f.open_path.exists() and not f.final_path.exists()
    path = f.close()
    assert path.exists() and not f.open_path.exists()
    return path, [(bodies, locs)]


@pytest.mark.parametrize("gzip_level", [0, 6])
@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_round_trip_warcio_fastwarc_and_checkers(tmp_path: Path, gzip_level: int, algorithm: str) -> None:
    path, [(bodies, locs)] = write_sample(tmp_path, gzip_level=gzip_level, algorithm=algorithm)
    assert path.name.endswith(".warc.gz" if gzip_level else ".warc")
    # warcio: every record at the offset we reported, bodies intact
    with path.open("rb") as fh:
        it = ArchiveIterator(fh)
        seen = []
        for rec in it:
            body = rec.content_stream().read()
            seen.append((rec.rec_type, it.get_record_offset(), it.get_record_length(), body))
    trailer = 0 if gzip_level else 4     # warcio leaves the closing CRLF CRLF out of a plain record's length
    assert [(t, o, n + trailer) for t, o, n, _ in seen] == [(x.record_type, x.offset, x.length) for x in locs]
    assert [b for t, _, _, b in seen if t == "response"] == bodies
    # the checkers archivists use
    code, out = warcio_check(path)
    assert code == 0, out
    assert out.count("digest pass") == len(locs) - 1           # all but the revisit
    results = fastwarc_verify(path)
    assert len(results) == len(locs)
    assert all(block for _, block, _ in results), results
    assert all(payload for kind, _, payload in results if kind in ("response", "request")), results
    # strict framing agrees with the reported locations
    with path.open("rb") as fh:
        frames = list(iter_frames(fh))
    assert all(isinstance(f, Frame) for f in frames)
    assert [(f.offset, f.length) for f in frames if isinstance(f, Frame)] == [(x.offset, x.length) for x in locs]
    # and the index written at close points at the responses and the revisit
    entries = list(read_cdxj(index_path_for(path, tmp_path / "indexes")))
    assert sorted(e.fields["offset"] for e in entries) == sorted(
        str(x.offset) for x in locs if x.record_type in ("response", "revisit"))


def test_each_record_is_its_own_gzip_member(tmp_path: Path) -> None:
    import zlib
    path, [(_, locs)] = write_sample(tmp_path, gzip_level=6)
    data = path.read_bytes()
    for loc in locs:
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        d.decompress(data[loc.offset:loc.offset + loc.length])
        assert d.eof and d.unused_data == b""


def test_names_and_serials(tmp_path: Path) -> None:
    when = datetime(2024, 5, 1, 12, 0, 0, 999999, tzinfo=UTC)
    assert warc_filename("p", when, 3, "h") == "p-20240501120000999-00003-h.warc.gz"
    assert next_serial(tmp_path, "p") == 0
    (tmp_path / "p-20240501120000999-00003-h.warc.gz").write_bytes(b"")
    (tmp_path / "p-20240501120000999-00007-h.warc.gz.open").write_bytes(b"")
    assert next_serial(tmp_path, "p") == 8


def _partial(tmp_path: Path, gzip_level: int) -> tuple[Path, list]:
    path, [(_, locs)] = write_sample(tmp_path, gzip_level=gzip_level)
    open_path = path.with_name(path.name + ".open")
    data = path.read_bytes()
    cut = locs[-3].offset + locs[-3].length // 2          # half-way through a record
    open_path.write_bytes(data[:cut])
    path.unlink()
    return open_path, locs[:-3]


@pytest.mark.parametrize("gzip_level", [0, 6])
def test_recover_keeps_complete_records_and_cuts_the_tail(tmp_path: Path, gzip_level: int) -> None:
    open_path, complete = _partial(tmp_path, gzip_level)
    [result] = recover(tmp_path, index_dir=tmp_path / "indexes")
    assert result.records == len(complete) and result.cut_bytes > 0 and result.fault
    final = result.path
    assert not open_path.exists() and final.name == open_path.name.removesuffix(".open")
    assert final.stat().st_size == complete[-1].offset + complete[-1].length
    code, out = warcio_check(final)
    assert code == 0, out
    with final.open("rb") as fh:
        assert [(f.offset, f.length) for f in iter_frames(fh) if isinstance(f, Frame)] == [
            (x.offset, x.length) for x in complete]
    assert recover(tmp_path) == []          # idempotent


def test_recover_removes_a_file_without_any_complete_record(tmp_path: Path) -> None:
    p = tmp_path / "x-20240101000000000-00000-h.warc.gz.open"
    p.write_bytes(b"\x1f\x8b\x08\x00partial")
    [result] = recover(tmp_path)
    assert result.removed and not p.exists() and result.records == 0


def test_framing_reports_clipped_and_multi_record_members(tmp_path: Path) -> None:
    import gzip
    rec = capture_records(make_exchange(), new_id=fixed_ids()).response.to_bytes()
    two = tmp_path / "two.warc.gz"
    two.write_bytes(gzip.compress(rec + rec))
    with two.open("rb") as fh:
        [fault] = list(iter_frames(fh))
    assert isinstance(fault, FramingFault) and "more than one record" in fault.message
    bad_len = tmp_path / "len.warc"
    bad_len.write_bytes(rec.replace(b"Content-Length: 97", b"Content-Length: 95"))
    with bad_len.open("rb") as fh:
        [fault] = list(iter_frames(fh))
    assert isinstance(fault, FramingFault) and "CRLF" in fault.message


CHILD = textwrap.dedent("""
    import json, sys, time, io
    sys.path[:0] = [{repo!r}, {tests!r}]
    import trio
    from archive.writer import open_warc_writer
    from warcfixtures import make_exchange

    class Stalling(io.BytesIO):
        '''Reads normally for the digest pass; on the write pass (the second: payload and block digests
        in one pass when there is no earlier capture, then the write) stalls forever after 1 MB.'''
        passes = 0
        def seek(self, pos, whence=0):
            if pos == 0 and whence == 0:
                self.passes += 1
            return super().seek(pos, whence)
        def read(self, n=-1):
            if self.passes >= 2 and self.tell() > 1_000_000:
                print("STALLED", flush=True)
                time.sleep(3600)
            return super().read(n)

    async def main():
        async with open_warc_writer({out!r}, prefix="kill", gzip_level=1) as w:
            for i in range(5):
                r = await w.write_exchange(make_exchange(f"http://example.com/{{i}}", bytes([i]) * 50_000))
                print(json.dumps([r.response.offset, r.response.length, r.response.record_id]), flush=True)
            await w.checkpoint()
            ex = make_exchange("http://example.com/big", b"")
            import os
            body = Stalling(os.urandom(3_000_000))
            object.__setattr__(ex, "body", body)
            object.__setattr__(ex, "body_length", 3_000_000)
            await w.write_exchange(ex)
    trio.run(main)
""")


@pytest.mark.slow
def test_sigkill_mid_record_then_recover_keeps_every_complete_record(tmp_path: Path) -> None:
    out = tmp_path / "warcs"
    script = CHILD.format(repo=str(REPO), tests=str(REPO / "tests"), out=str(out))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    written = []
    try:
        for line in proc.stdout:
            if line.startswith("STALLED"):
                break
            written.append(json.loads(line))
        else:
            pytest.fail(f"child ended early with {proc.wait()}")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert len(written) == 5
    [open_file] = list(out.glob("*.open"))              # at most one .open per writer
    size_before = open_file.stat().st_size
    [result] = recover(out, index_dir=tmp_path / "indexes")
    assert result.cut_bytes > 0, "the kill should have left a partial record"
    assert result.kept_bytes + result.cut_bytes == size_before
    assert result.records == 1 + 5 * 2                   # warcinfo + 5 × (response, request)
    code, report = warcio_check(result.path)
    assert code == 0, report
    with result.path.open("rb") as fh:
        frames = {f.offset: f for f in iter_frames(fh) if isinstance(f, Frame)}
    for offset, length, record_id in written:          # every location the writer reported is intact
        assert frames[offset].length == length and frames[offset].header("WARC-Record-ID") == record_id
    entries = list(read_cdxj(index_path_for(result.path, tmp_path / "indexes")))
    assert len(entries) == 5


@pytest.mark.parametrize("gzip_level", [0, 6])
def test_writeback_is_started_every_few_megabytes_over_the_whole_file(tmp_path: Path, gzip_level: int,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Written data is handed to the kernel's writeback as the file grows (so that the fsync at close
    waits for the tail only): consecutive ranges from offset 0, each at least WRITEBACK_BYTES long."""
    import archive.warcfile as warcfile

    calls: list[tuple[int, int, int]] = []
    monkeypatch.setattr(warcfile, "WRITEBACK_BYTES", 100_000)
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, offset, length, advice: calls.append((offset, length, advice)))
    path, _ = write_sample(tmp_path, gzip_level=gzip_level)
    assert len(calls) >= 2
    assert all(advice == os.POSIX_FADV_DONTNEED and length >= 100_000 for _, length, advice in calls)
    assert [offset for offset, _, _ in calls] == [0] + [o + n for o, n, _ in calls[:-1]]   # no gap, no overlap
    assert calls[-1][0] + calls[-1][1] <= path.stat().st_size
    assert warcio_check(path)


def test_a_file_system_without_fadvise_still_gets_a_whole_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import archive.warcfile as warcfile

    def refuse(fd: int, offset: int, length: int, advice: int) -> None:
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(warcfile, "WRITEBACK_BYTES", 100_000)
    monkeypatch.setattr(os, "posix_fadvise", refuse)
    path, _ = write_sample(tmp_path, gzip_level=6)
    assert warcio_check(path)
