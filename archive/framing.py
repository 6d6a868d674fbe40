"""Strict WARC framing: exact record boundaries, for crash recovery and verification.

warcio (see :mod:`archive.reader`) is lenient on purpose: it reads foreign files
with wrong lengths or whole-file gzip and carries on. Recovery and ``verify``
need the opposite: the exact byte where the last *complete* record ends. Here a
record is complete only when

* in a ``.warc.gz``: its gzip member decompresses to the end (CRC checked) and
  holds exactly one record;
* in both forms: the header block parses, ``Content-Length`` bytes of block
  follow, then ``CRLF CRLF``.

Iteration stops at the first fault, which is yielded as a :class:`FramingFault`
with its offset: everything before it is sound. Blocks are held in memory one
record at a time (a record is at most the body cap plus its head).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

__all__ = ["Frame", "FramingFault", "iter_frames"]

_CHUNK = 1 << 16
_MAX_HEAD = 1 << 20     # a WARC header block larger than this is garbage, not a record


@dataclass(frozen=True, slots=True)
class Frame:
    """One complete record: where it sits in the file, its header fields and its block."""

    offset: int
    length: int                         # bytes in the file: the gzip member, or the record with its CRLF CRLF
    version: str
    headers: tuple[tuple[str, str], ...]
    block: bytes

    def header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)


@dataclass(frozen=True, slots=True)
class FramingFault:
    offset: int
    message: str


def iter_frames(fh: IO[bytes]) -> Iterator[Frame | FramingFault]:
    """Every complete record of a WARC file from the start, then at most one fault."""
    fh.seek(0)
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        yield from _gzip_frames(fh)
    else:
        yield from _plain_frames(fh)


def _parse_head(data: bytes, offset: int) -> tuple[str, tuple[tuple[str, str], ...], int, int] | FramingFault:
    """Version, fields, block start and block length of the record at the start of ``data``."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return FramingFault(offset, "record header block is not terminated by a blank line")
    lines = data[:end].decode("utf-8", "replace").split("\r\n")
    version = lines[0].strip()
    if not version.startswith("WARC/"):
        return FramingFault(offset, f"not a WARC record (first line {version[:40]!r})")
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and fields:     # continuation line
            k, v = fields[-1]
            fields[-1] = (k, v + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep:
            return FramingFault(offset, f"malformed header line {line[:60]!r}")
        fields.append((name.strip(), value.strip()))
    lengths = [v for k, v in fields if k.lower() == "content-length"]
    if len(lengths) != 1 or not lengths[0].isdigit():
        return FramingFault(offset, f"record needs exactly one numeric Content-Length, has {lengths!r}")
    return version, tuple(fields), end + 4, int(lengths[0])


def _gzip_frames(fh: IO[bytes]) -> Iterator[Frame | FramingFault]:
    pos = 0
    buf = b""
    while True:
        if not buf:
            buf = fh.read(_CHUNK)
            if not buf:
                return
        start = pos
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        out: list[bytes] = []
        consumed = 0
        try:
            while True:
                out.append(d.decompress(buf))
                if d.eof:
                    used = len(buf) - len(d.unused_data)
                    consumed += used
                    buf = d.unused_data
                    break
                consumed += len(buf)
                buf = fh.read(_CHUNK)
                if not buf:
                    yield FramingFault(start, f"gzip member clipped after {consumed} bytes (incomplete record)")
                    return
        except zlib.error as exc:
            yield FramingFault(start, f"corrupt gzip member: {exc}")
            return
        pos = start + consumed
        data = b"".join(out)
        parsed = _parse_head(data, start)
        if isinstance(parsed, FramingFault):
            yield parsed
            return
        version, fields, block_start, block_len = parsed
        block_end = block_start + block_len
        if len(data) < block_end + 4:
            yield FramingFault(start, f"record block shorter than its Content-Length ({len(data) - block_start} < {block_len})")
            return
        if data[block_end:block_end + 4] != b"\r\n\r\n":
            yield FramingFault(start, "record block is not followed by CRLF CRLF (wrong Content-Length?)")
            return
        if data[block_end + 4:].strip(b"\r\n"):
            yield FramingFault(start, "gzip member holds more than one record (not per-record gzip)")
            return
        yield Frame(start, consumed, version, fields, data[block_start:block_end])


def _plain_frames(fh: IO[bytes]) -> Iterator[Frame | FramingFault]:
    pos = 0
    while True:
        head = b""
        start = pos
        while b"\r\n\r\n" not in head:
            line = fh.readline(_MAX_HEAD)
            if not line:
                if head.strip():
                    yield FramingFault(start, "file ends inside a record header (incomplete record)")
                return
            if not head and line in (b"\r\n", b"\n"):
                start += len(line)           # stray blank line between records
                continue
            head += line
            if len(head) > _MAX_HEAD:
                yield FramingFault(start, "record header block too large")
                return
        parsed = _parse_head(head, start)
        if isinstance(parsed, FramingFault):
            yield parsed
            return
        version, fields, _, block_len = parsed
        block = fh.read(block_len)
        if len(block) < block_len:
            yield FramingFault(start, f"file ends inside a record block ({len(block)} of {block_len} bytes)")
            return
        tail = fh.read(4)
        if tail != b"\r\n\r\n":
            yield FramingFault(start, "record block is not followed by CRLF CRLF (wrong Content-Length or clipped)")
            return
        length = len(head) + block_len + 4
        pos = start + length
        yield Frame(start, length, version, fields, block)
