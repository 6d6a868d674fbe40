"""Lenient reading of any WARC or ARC file, ours or foreign, gzip or plain.

Built on warcio's ``ArchiveIterator`` (it knows ARC, WARC/0.17–1.1, angle-bracket
URIs, LF-only heads) with three changes for batch use:

* a broken file never raises: iteration yields a :class:`ReadFault` naming the
  file and offset and stops, so the indexer goes on with the next file;
* warcio's "Record not followed by newline" warnings, which it prints straight to
  stderr, become non-fatal :class:`ReadFault` values instead;
* offsets and lengths are taken *after* the record is read (warcio's
  ``get_record_offset`` before reading consumes the body, library-facts §8).

Used by the indexer (:mod:`archive.cdxj`), ``verify``, replay and extraction.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

__all__ = ["WARC_SUFFIXES", "LoadedRecord", "ReadFault", "StoredRecord", "find_warc_files", "iter_records", "load_record"]

_CHUNK = 1 << 16
#: file names a folder scan picks up (``.open`` files are being written: see archive.warcfile.recover)
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
_MIME_SPLIT = re.compile(r"[;\s]")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*(\d+)")


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """What an index needs of one record, and where it is."""

    filename: str
    offset: int
    length: int
    record_type: str
    url: str
    date: str                      # WARC-Date as written (ARC dates converted by warcio)
    record_id: str | None
    content_type: str | None       # the record's Content-Type
    status: int | None             # HTTP status of response/revisit records
    http_mime: str | None          # HTTP Content-Type, first token
    payload_digest: str | None
    location: str | None           # HTTP Location of 3xx answers
    profile: str | None = None     # revisit profile
    refers_to_url: str | None = None
    refers_to_date: str | None = None


@dataclass(frozen=True, slots=True)
class ReadFault:
    """A problem in a file. ``fatal``: the file is damaged (records were lost; reading stops at
    most faults, skips past a few); otherwise a warning about a record that was still read."""

    path: str
    offset: int
    message: str
    fatal: bool = True

    def __str__(self) -> str:
        return f"{self.path}: offset {self.offset}: {self.message}"


class _QuietIterator(ArchiveIterator):
    """warcio's iterator, with its stderr warnings collected instead of printed."""

    def __init__(self, fileobj: IO[bytes], **kwargs: Any) -> None:
        super().__init__(fileobj, **kwargs)
        self.warnings: list[tuple[int, str]] = []

    def _consume_blanklines(self) -> tuple[bytes | None, int]:
        empty_size = 0
        first_line = True
        while True:
            line = self.reader.readline()
            if len(line) == 0:
                return None, empty_size
            stripped = line.rstrip()
            if len(stripped) == 0 or first_line:
                empty_size += len(line)
                if len(stripped) != 0:
                    err_offset = self.fh.tell() - self.reader.rem_length() - empty_size
                    self.warnings.append((err_offset, "record not followed by a blank line (wrong Content-Length?)"))
                    self.err_count += 1
                first_line = False
                continue
            return line, empty_size


def _digest_of_stream(stream: IO[bytes]) -> str:
    h = hashlib.sha1()
    while piece := stream.read(_CHUNK):
        h.update(piece)
    return "sha1:" + base64.b32encode(h.digest()).decode("ascii")


def _first_token(value: str | None) -> str | None:
    if not value:
        return None
    return _MIME_SPLIT.split(value, 1)[0].strip() or None


def _summary(rec: ArcWarcRecord, filename: str, offset: int, length: int, digest: str | None) -> StoredRecord:
    h = rec.rec_headers
    http = rec.http_headers if rec.rec_type in ("response", "revisit", "request") else None
    status: int | None = None
    location = None
    mime = None
    if http is not None and rec.rec_type != "request":
        code = http.get_statuscode()
        status = int(code) if code and code.isdigit() else None
        mime = _first_token(http.get_header("Content-Type"))
        if status is not None and 300 <= status < 400:
            location = http.get_header("Location")
    return StoredRecord(
        filename=filename, offset=offset, length=length, record_type=rec.rec_type,
        url=h.get_header("WARC-Target-URI") or "", date=h.get_header("WARC-Date") or "",
        record_id=h.get_header("WARC-Record-ID"), content_type=h.get_header("Content-Type"),
        status=status, http_mime=mime, payload_digest=digest, location=location,
        profile=h.get_header("WARC-Profile"), refers_to_url=h.get_header("WARC-Refers-To-Target-URI"),
        refers_to_date=h.get_header("WARC-Refers-To-Date"),
    )


def iter_records(path: str | os.PathLike[str]) -> Iterator[StoredRecord | ReadFault]:
    """Every readable record of a file with its offset and length; faults as values, never raised.

    A missing ``WARC-Payload-Digest`` on a response, resource or metadata record
    is computed (sha1 over the stored payload, as pywb's cdxj-indexer does). A
    last record cut short (a clipped gzip member, a block shorter than its
    Content-Length: warcio reads those without complaint) is reported as a fault
    and not yielded.
    """
    p = Path(path)
    name = p.name
    try:
        fh = p.open("rb")
    except OSError as exc:
        yield ReadFault(str(p), 0, f"cannot open: {exc.strerror or exc}")
        return
    with fh:
        it = _QuietIterator(fh, arc2warc=True)
        last_end = 0
        seen_warnings = 0
        pending: StoredRecord | None = None
        try:
            for rec in it:
                digest = rec.rec_headers.get_header("WARC-Payload-Digest")
                if digest is None and rec.rec_type in ("response", "resource", "metadata"):
                    digest = _digest_of_stream(rec.raw_stream)
                offset, length = it.get_record_offset(), it.get_record_length()
                if offset < last_end or length < 0:
                    # warcio lost its place (a corrupt gzip member before this one): an index
                    # entry would point nowhere (offsets went negative on a real file)
                    if pending is not None:
                        yield pending
                    yield ReadFault(str(p), last_end, f"cannot locate the record after offset {last_end} "
                                    f"(warcio reports offset {offset}): corrupt data; the rest is not read")
                    return
                last_end = offset + length
                for w_offset, message in it.warnings[seen_warnings:]:
                    yield ReadFault(str(p), w_offset, message, fatal=False)
                seen_warnings = len(it.warnings)
                if _bogus_arc(rec):
                    yield ReadFault(str(p), offset, "not a WARC or ARC record (a text line read as an ARC header)")
                    continue
                if pending is not None:
                    yield pending
                pending = _summary(rec, name, offset, length, None if rec.rec_type == "warcinfo" else digest)
        except Exception as exc:  # warcio raises many types on broken input; a file fault, not a crash
            if pending is not None:
                yield pending
                pending = None
            message = " ".join(str(exc).split()) or type(exc).__name__
            if "non-chunked gzip" in message:
                yield ReadFault(str(p), 0, "whole-file gzip, not one gzip member per record: only the first "
                                "record is readable at an offset (fix: warcio recompress IN OUT)")
            else:
                yield ReadFault(str(p), max(last_end, 0), f"{type(exc).__name__}: {message[:200]}")
            return
        if pending is not None:
            clipped = _clipped(fh, pending.offset)
            if clipped:
                yield ReadFault(str(p), pending.offset, clipped)
            else:
                yield pending


def _bogus_arc(rec: ArcWarcRecord) -> bool:
    """warcio reads any line of five words as an ARC header, dating it 2999-12-31 when the date is not one."""
    return (rec.rec_headers.get_header("WARC-Date") or "").startswith("2999-12-31T23:59:59")


def _clipped(fh: IO[bytes], offset: int) -> str | None:
    """Why the record at ``offset`` (the file's last) is incomplete, or ``None`` if it is whole."""
    size = fh.seek(0, os.SEEK_END)
    fh.seek(offset)
    if fh.read(2) == b"\x1f\x8b":
        fh.seek(offset)
        d = zlib.decompressobj(zlib.MAX_WBITS | 16)
        try:
            while piece := fh.read(_CHUNK):
                d.decompress(piece, 0)
                if d.eof:
                    return None
        except zlib.error as exc:
            return f"corrupt gzip member: {exc}"
        return "gzip member clipped: the last record is incomplete"
    fh.seek(offset)
    head = fh.read(_CHUNK)
    if not head.startswith(b"WARC/"):
        return None                                   # ARC: no Content-Length to hold it against
    m = _HEAD_END.search(head)
    cl = _CONTENT_LENGTH.search(head[: m.start()] if m else head)
    if m is None or cl is None:
        return None
    missing = m.end() + int(cl.group(1)) - (size - offset)
    return f"file ends {missing} bytes short of the last record's Content-Length" if missing > 0 else None


@dataclass(frozen=True, slots=True)
class LoadedRecord:
    """One record read in full, for replay: WARC fields, HTTP status line and headers, stored payload."""

    record_type: str
    warc_headers: tuple[tuple[str, str], ...]
    status: int | None
    reason: str
    http_headers: tuple[tuple[str, str], ...]
    payload: bytes = field(repr=False)        # as stored: content encoding kept, chunk framing if stored so

    def warc_header(self, name: str) -> str | None:
        low = name.lower()
        return next((v for k, v in self.warc_headers if k.lower() == low), None)


def load_record(path: str | os.PathLike[str], offset: int) -> LoadedRecord:
    """The record at ``offset`` (a gzip member start or a plain record start). Raises ``OSError``/``ValueError``."""
    with Path(path).open("rb") as fh:
        fh.seek(offset)
        try:
            rec = next(iter(_QuietIterator(fh, arc2warc=True)))
        except StopIteration:
            raise ValueError(f"{path}: no record at offset {offset}") from None
        except Exception as exc:
            raise ValueError(f"{path}: offset {offset}: {type(exc).__name__}: {exc}") from None
        payload = rec.raw_stream.read()
        http = rec.http_headers
        status = reason = None
        headers: tuple[tuple[str, str], ...] = ()
        if http is not None and rec.rec_type in ("response", "revisit"):
            code = http.get_statuscode()
            status = int(code) if code and code.isdigit() else None
            _, _, reason = (http.statusline or "").partition(" ")
            headers = tuple(http.headers)
        return LoadedRecord(rec.rec_type, tuple(rec.rec_headers.headers), status, reason or "", headers, payload)


def find_warc_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files named as given, and every WARC/ARC file under each folder (recursively, sorted).

    A named file is taken whatever its name, so a foreign ``.warc.gz.bad`` can be
    read on purpose; a missing path raises ``FileNotFoundError``.
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.name.lower().endswith(WARC_SUFFIXES))
        elif p.exists():
            out.append(p)
        else:
            raise FileNotFoundError(f"no such file or folder: {p}")
    return list(dict.fromkeys(out))
