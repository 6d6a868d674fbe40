"""One WARC file on disk: naming, gzip members, ``.open`` → final rename, fsync, crash recovery.

Blocking code, run in worker threads by :mod:`archive.writer` (which owns each
:class:`WarcFile` from one task) and called directly by benchmarks and the
crash test.

* **Names** follow the IIPC guideline ``{prefix}-{timestamp17}-{serial:05d}-{host}.warc.gz``
  (17 digits: UTC to the millisecond). ``.warc`` when ``gzip_level`` is 0.
* **One gzip member per record** at the configured level (warcio hard-codes 9,
  about twice as slow for < 2 % smaller files), so every record can be read at
  its offset.
* **Crash safety.** A file is written as ``NAME.open`` and renamed when closed;
  close flushes and fsyncs the file and then the folder, and writes the file's CDXJ
  index from the lines built as records were written (no second read). :func:`recover` turns a
  killed writer's ``.open`` file into a valid WARC: it keeps every complete
  record (checked by :mod:`archive.framing`), cuts the partial tail, fsyncs and
  renames it, and writes its index.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from archive.cdxj import LineSpool, NeedsReading, entry_for_written, index_files, write_cdxj
from archive.framing import FramingFault, iter_frames
from archive.records import Record

__all__ = [
    "COMPRESSED_MAGIC",
    "OPEN_SUFFIX",
    "STORE_MIN_BYTES",
    "RecordLocation",
    "Recovered",
    "WarcFile",
    "already_compressed",
    "crawl_host",
    "index_path_for",
    "next_serial",
    "recover",
    "stores_payload",
    "warc_filename",
]

OPEN_SUFFIX = ".open"
_HOST_UNSAFE = re.compile(r"[^A-Za-z0-9.]+")


def crawl_host() -> str:
    """This machine's host name, made safe for a file name."""
    return _HOST_UNSAFE.sub("-", socket.gethostname().split(".")[0]).strip("-") or "localhost"


def warc_filename(prefix: str, when: datetime, serial: int, host: str, *, gzip: bool = True) -> str:
    """IIPC file name.

    >>> from datetime import UTC
    >>> warc_filename("citecrawl", datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC), 7, "box")
    'citecrawl-20240501120000123-00007-box.warc.gz'
    """
    for part in (prefix, host):
        if not part or "/" in part or os.sep in part or part.startswith("."):
            raise ValueError(f"{part!r} cannot be part of a WARC file name (the file must stay in its folder)")
    stamp = when.strftime("%Y%m%d%H%M%S") + f"{when.microsecond // 1000:03d}"
    return f"{prefix}-{stamp}-{serial:05d}-{host}.warc{'.gz' if gzip else ''}"


def next_serial(directory: Path, prefix: str) -> int:
    """One more than the highest serial of ``prefix`` files already in ``directory``, so names never repeat."""
    pattern = re.compile(re.escape(prefix) + r"-\d{17}-(\d{5})-")
    serials = [int(m.group(1)) for p in directory.iterdir() if (m := pattern.match(p.name))] if directory.is_dir() else []
    return max(serials, default=-1) + 1


def index_path_for(warc_path: Path, index_dir: Path) -> Path:
    """``indexes/NAME.cdxj`` for ``warcs/NAME.warc.gz``."""
    name = warc_path.name.removesuffix(OPEN_SUFFIX)
    for ext in (".warc.gz", ".warc"):
        name = name.removesuffix(ext)
    return index_dir / f"{name}.cdxj"


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """Where a record landed: enough for the state store and for a revisit to point back at it."""

    filename: str            # final name (no .open)
    offset: int
    length: int
    record_id: str
    record_type: str
    target_uri: str | None
    date: str                # WARC-Date as written
    payload_digest: str | None


#: bytes written between two writeback hints (:func:`_start_writeback`)
WRITEBACK_BYTES = 8 << 20


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Have the kernel start writing a range of a file to disk now, without waiting for it.

    Linux's ``POSIX_FADV_DONTNEED`` starts writeback of the range's dirty pages and drops its
    clean ones from the page cache (PostgreSQL's ``*_flush_after`` fall back on it). Without it,
    a run's WARC data sat dirty until the fsync at close, which then waited for all of it
    (0.13 s for a 40 MB file here, seconds for a 1 GB one), and a crawl's archive pushed
    other files out of the cache although it is never read back while written.
    """
    try:
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)
    except (AttributeError, OSError):     # not on this platform or file system: writeback at close
        pass


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: payloads that start like this are compressed already (gzip, zstd, xz, bzip2, zip, PNG, JPEG, GIF, WebP)
COMPRESSED_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"\xfd7zXZ\x00", b"BZh", b"PK\x03\x04",
                    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
#: below this, storing a compressed payload saves too little to matter
STORE_MIN_BYTES = 4096
#: gzip member header: deflate, no flags, no mtime, no extra flags, OS unknown (RFC 1952)
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def already_compressed(start: bytes) -> bool:
    r"""Whether a payload beginning with ``start`` is compressed data (deflating it again gains nothing).

    >>> already_compressed(b"\x1f\x8b\x08\x00"), already_compressed(b"RIFF\x00\x00\x00\x00WEBP")
    (True, True)
    >>> already_compressed(b"<!doctype html>")
    False
    """
    return start.startswith(COMPRESSED_MAGIC) or (start[:4] == b"RIFF" and start[8:12] == b"WEBP")


def stores_payload(length: int, start: bytes) -> bool:
    r"""Whether a record's payload of ``length`` bytes beginning with ``start`` is stored as it is
    (in stored deflate blocks), not deflated again: big enough to matter, and compressed already.

    >>> stores_payload(8192, b"\x1f\x8b\x08"), stores_payload(100, b"\x1f\x8b\x08"), stores_payload(8192, b"<p>")
    (True, False, False)
    """
    return length >= STORE_MIN_BYTES and already_compressed(start)


#: a member whose record block is at most this big (a request, a metadata record: a few hundred
#: bytes of head besides) is deflated with an 8 KB window (``_SMALL_WBITS``) and a smaller hash
#: (``_SMALL_MEMLEVEL``); so are the heads of stored members, and their stored payloads (level 0
#: searches no window). For input that fits the window deflate finds the same matches (same output
#: size on the benchmark's records), and the deflater costs ~6 µs to set up instead of ~60 µs: zlib
#: allocates and clears ~256 KB for the default one, and a capture needed four (~9 % of a
#: capture-only run's event loop).
SMALL_MEMBER_BYTES = 6 << 10
_SMALL_WBITS, _SMALL_MEMLEVEL = 13, 6


class _GzipMembers:
    """Each ``member()`` call compresses its pieces into one gzip member of its own.

    A record whose payload is compressed already (a gzip-encoded page, a JPEG) keeps its
    head deflated at ``level`` and its payload in stored deflate blocks, in the same
    member. Deflating 36 KB of gzip data at level 6 costs 0.73 ms and gains nothing;
    storing it costs 0.03 ms. On the benchmark's 2,000 gzip-encoded pages the run's CPU
    fell by 11 % and the WARC shrank 0.7 % (deflate's blocks over random-looking data
    are a little bigger than stored ones). Readers see an ordinary gzip member.
    """

    def __init__(self, fh: IO[bytes], level: int) -> None:
        self.fh, self.level = fh, level

    def member(self, pieces: Sequence[bytes] | Record) -> int:
        if isinstance(pieces, Record) and stores_payload(pieces.payload_length, pieces.payload_start()):
            return self._stored_payload(pieces)
        size = pieces.block_length if isinstance(pieces, Record) else sum(len(p) for p in pieces)
        small = size <= SMALL_MEMBER_BYTES
        c = zlib.compressobj(self.level, zlib.DEFLATED, (_SMALL_WBITS if small else zlib.MAX_WBITS) | 16,
                             _SMALL_MEMLEVEL if small else zlib.DEF_MEM_LEVEL)
        written = 0
        for piece in pieces.iter_bytes() if isinstance(pieces, Record) else pieces:
            written += self._write(c.compress(piece))
        return written + self._write(c.flush())

    def _stored_payload(self, rec: Record) -> int:
        """One gzip member: the head deflated (ending on a sync flush, not final), then the payload
        and the record's closing ``CRLF CRLF`` from a level-0 deflater, which ends the stream."""
        crc, size = 0, 0
        written = self._write(_GZIP_HEADER)
        head = zlib.compressobj(self.level, zlib.DEFLATED, -_SMALL_WBITS, _SMALL_MEMLEVEL)
        for piece in (rec.head_bytes(), rec.block_head):
            crc, size = zlib.crc32(piece, crc), size + len(piece)
            written += self._write(head.compress(piece))
        written += self._write(head.flush(zlib.Z_SYNC_FLUSH))
        body = zlib.compressobj(0, zlib.DEFLATED, -_SMALL_WBITS, _SMALL_MEMLEVEL)  # stored: no window to search
        for piece in itertools.chain(rec.iter_payload(), (b"\r\n\r\n",)):
            crc, size = zlib.crc32(piece, crc), size + len(piece)
            written += self._write(body.compress(piece))
        written += self._write(body.flush())
        return written + self._write(crc.to_bytes(4, "little") + (size & 0xFFFFFFFF).to_bytes(4, "little"))

    def _write(self, data: bytes) -> int:
        if data:
            self.fh.write(data)
        return len(data)


class WarcFile:
    """A WARC file being written. Not thread-safe: one owner at a time."""

    def __init__(self, directory: str | os.PathLike[str], name: str, *, gzip_level: int = 6,
                 index_dir: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.final_path = self.directory / name
        self.open_path = self.directory / (name + OPEN_SUFFIX)
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self.gzip_level = gzip_level
        if self.final_path.exists():
            raise FileExistsError(f"{self.final_path} already exists")
        # the index lines of the records written so far, built as they are written (on disk, see
        # LineSpool); None: a record only reading can index was written, so close() reads the file
        # back (as recover() does)
        self._entries: LineSpool | None = LineSpool(index_dir) if index_dir is not None else None
        try:
            self._fh: IO[bytes] = self.open_path.open("xb")
        except BaseException:
            if self._entries is not None:
                self._entries.close()
            raise
        self._gz = _GzipMembers(self._fh, gzip_level) if gzip_level > 0 else None
        self.size = 0
        self.records = 0
        self.closed = False
        self._written_back = 0       # bytes handed to :func:`_start_writeback`

    def write(self, records: Sequence[Record]) -> list[RecordLocation]:
        """Append records (one gzip member each) and flush them to the OS; return where each landed."""
        if self.closed:
            raise ValueError(f"{self.name} is closed")
        out = []
        for rec in records:
            offset = self.size
            if self._gz is not None:
                length = self._gz.member(rec)
            else:
                length = 0
                for piece in rec.iter_bytes():
                    self._fh.write(piece)
                    length += len(piece)
            self.size += length
            self.records += 1
            out.append(RecordLocation(self.name, offset, length, rec.record_id, rec.record_type,
                                      rec.header("WARC-Target-URI"), rec.header("WARC-Date") or "",
                                      rec.header("WARC-Payload-Digest")))
            if self._entries is not None and self.index_dir is not None:
                # warcio, and so the indexer reading the file back, leaves a plain record's closing
                # CRLF CRLF out of its length
                indexed = length if self._gz is not None else length - 4
                try:
                    entry = entry_for_written(rec, filename=self.name, offset=offset, length=indexed)
                except NeedsReading:
                    self._entries.close()
                    self._entries = None
                else:
                    if entry is not None:
                        self._entries.add(entry)
        self._fh.flush()
        if self.size - self._written_back >= WRITEBACK_BYTES:
            _start_writeback(self._fh.fileno(), self._written_back, self.size - self._written_back)
            self._written_back = self.size
        return out

    def sync(self) -> None:
        """Flush and fsync: every record written so far survives a power cut (a checkpoint)."""
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def abandon(self) -> None:
        """Close the handle after a failed write, leaving ``NAME.open`` for :func:`recover` to mend."""
        if not self.closed:
            self.closed = True
            spool, self._entries = self._entries, None
            for handle in (spool, self._fh):
                try:
                    if handle is not None:
                        handle.close()
                except OSError:            # closing flushes; on a full disk that fails, the handle closes anyway
                    pass

    def close(self) -> Path:
        """fsync, rename ``NAME.open`` → ``NAME``, fsync the folder, write the index; returns the final path."""
        if self.closed:
            return self.final_path
        try:
            self.sync()
            self._fh.close()
        except BaseException:    # a full disk: the file stays .open for recover(), no handle is left open
            self.abandon()
            raise
        os.rename(self.open_path, self.final_path)
        _fsync_dir(self.directory)
        self.closed = True
        if self.index_dir is not None:
            target = index_path_for(self.final_path, self.index_dir)
            if self._entries is not None:
                self._entries.write_sorted(target)
            else:
                write_cdxj(index_files([self.final_path]).entries, target)
        return self.final_path


@dataclass(frozen=True, slots=True)
class Recovered:
    """What :func:`recover` did with one ``.open`` file."""

    path: Path                 # the final file, or the removed .open file when nothing was complete
    records: int               # complete records kept
    kept_bytes: int
    cut_bytes: int             # partial tail removed
    fault: str | None          # why the tail was cut
    removed: bool = False      # no complete record: the file was deleted


def recover(directory: str | os.PathLike[str], *, index_dir: str | os.PathLike[str] | None = None) -> list[Recovered]:
    """Make every ``*.open`` WARC in ``directory`` whole again (see the module docstring). Idempotent."""
    results = []
    d = Path(directory)
    if not d.is_dir():
        return []
    for open_path in sorted(d.glob(f"*.warc*{OPEN_SUFFIX}")):
        results.append(_recover_one(open_path, Path(index_dir) if index_dir is not None else None))
    return results


def _recover_one(open_path: Path, index_dir: Path | None) -> Recovered:
    final = open_path.with_name(open_path.name.removesuffix(OPEN_SUFFIX))
    size = open_path.stat().st_size
    end = 0
    records = 0
    fault = None
    with open_path.open("rb") as fh:
        for item in iter_frames(fh):
            if isinstance(item, FramingFault):
                fault = item.message
                break
            end = item.offset + item.length
            records += 1
    if records == 0:
        open_path.unlink()
        _fsync_dir(open_path.parent)
        return Recovered(open_path, 0, 0, size, fault, removed=True)
    with open_path.open("r+b") as fh:
        fh.truncate(end)
        fh.flush()
        os.fsync(fh.fileno())
    if final.exists():
        raise FileExistsError(f"cannot recover {open_path}: {final} already exists")
    os.rename(open_path, final)
    _fsync_dir(final.parent)
    if index_dir is not None:
        write_cdxj(index_files([final]).entries, index_path_for(final, index_dir))
    return Recovered(final, records, end, size - end, fault)
