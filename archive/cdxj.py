"""CDXJ indexes, line for line what pywb's ``cdxj-indexer`` writes.

A line is ``<SURT key> <14-digit timestamp> <JSON>``; the JSON has ``url``,
``mime``, ``status``, ``digest``, ``length``, ``offset``, ``filename`` (numbers
as strings, as cdxj-indexer writes them) and, for 3xx answers, ``location``
(an extra key replay tools ignore and ours uses). Indexed records are
``response``, ``revisit``, ``resource`` and ``metadata``, except resource and
metadata records of ``application/warc-fields`` (cdxj-indexer's default set).
Files are sorted by raw bytes (``LC_ALL=C sort``), so pywb can binary-search them.
"""

from __future__ import annotations

import heapq
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from archive.reader import ReadFault, StoredRecord, iter_records
from archive.records import Record
from archive.surt import surt_key

__all__ = [
    "INDEXED_TYPES",
    "CdxjEntry",
    "IndexReport",
    "LineSpool",
    "NeedsReading",
    "entry_for",
    "entry_for_written",
    "index_files",
    "parse_cdxj_line",
    "read_cdxj",
    "timestamp14",
    "write_cdxj",
]

INDEXED_TYPES = frozenset({"response", "revisit", "resource", "metadata"})


def timestamp14(warc_date: str) -> str:
    """``2024-05-01T12:00:00.123456Z`` → ``20240501120000`` (also ARC's 14-digit dates, kept).

    >>> timestamp14("2024-05-01T12:00:00.123456Z")
    '20240501120000'
    >>> timestamp14("20080430204825")
    '20080430204825'
    """
    digits = "".join(c for c in warc_date.split(".")[0] if c.isdigit())
    return (digits + "00000000000000")[:14]


@dataclass(frozen=True, slots=True)
class CdxjEntry:
    key: str
    timestamp: str
    fields: dict[str, str]

    @property
    def url(self) -> str:
        return self.fields.get("url", "")

    def line(self) -> str:
        return f"{self.key} {self.timestamp} {json.dumps(self.fields)}"


def entry_for(rec: StoredRecord) -> CdxjEntry | None:
    """The index line of one record, or ``None`` for records pywb does not index."""
    if rec.record_type not in INDEXED_TYPES or not rec.url:
        return None
    if rec.record_type in ("resource", "metadata") and rec.content_type == "application/warc-fields":
        return None
    mime: str | None
    if rec.record_type == "revisit":
        mime = "warc/revisit"
    elif rec.record_type == "response":
        mime = rec.http_mime
    else:
        mime = (rec.content_type or "").split(";")[0].split()[0] if (rec.content_type or "").strip() else None
    fields: dict[str, str] = {"url": rec.url}
    if mime:
        fields["mime"] = mime
    if rec.status is not None:
        fields["status"] = str(rec.status)
    if rec.payload_digest:
        fields["digest"] = rec.payload_digest
    fields["length"] = str(rec.length)
    fields["offset"] = str(rec.offset)
    fields["filename"] = rec.filename
    if rec.location:
        fields["location"] = rec.location
    return CdxjEntry(surt_key(rec.url), timestamp14(rec.date), fields)


_HTTP_URI = ("http:", "https:")


class NeedsReading(ValueError):
    """A record whose index line only reading the file back can tell (see :func:`entry_for_written`)."""


def entry_for_written(record: Record, *, filename: str, offset: int, length: int) -> CdxjEntry | None:
    """The index line of a record as it is written, without reading the file back.

    Gives what :func:`entry_for` gives for the record once :func:`~archive.reader.iter_records`
    has read it (``None``: not indexed). Raises :class:`NeedsReading` when only reading can tell: an HTTP head
    that is not plain ASCII or has folded lines (warcio's decoding rules), a response, resource
    or metadata record without ``WARC-Payload-Digest`` (the reader computes one), a response
    record that is not HTTP. The writer then indexes the file by reading it, as before.
    """
    warc = {k.lower(): v for k, v in reversed(record.headers)}    # reversed: the first of a name wins, as in header()
    kind = warc.get("warc-type", "")
    url = warc.get("warc-target-uri") or ""
    if kind not in INDEXED_TYPES or not url:
        return None
    content_type = warc.get("content-type")
    if kind in ("resource", "metadata") and content_type == "application/warc-fields":
        return None
    digest = warc.get("warc-payload-digest")
    if digest is None and kind != "revisit":
        raise NeedsReading(f"{kind} record without WARC-Payload-Digest: the reader computes one")
    status: int | None = None
    mime: str | None = None
    location: str | None = None
    if kind in ("response", "revisit"):
        head = record.block_head
        if not url.startswith(_HTTP_URI) or not head.isascii() or not head.startswith(b"HTTP/"):
            raise NeedsReading("not an ASCII HTTP response head: warcio's decoding decides")
        lines = head.decode("ascii").split("\r\n")
        code = lines[0].rstrip().partition(" ")[2].split(" ", 1)[0]
        status = int(code) if code.isdigit() else None
        found: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                break
            if line[0] in " \t":
                raise NeedsReading("a folded HTTP header line")
            name, colon, value = line.rstrip().partition(":")
            if colon:
                found.setdefault(name.rstrip(" \t").lower(), value.lstrip())
        ctype = found.get("content-type")
        mime = (re.split(r"[;\s]", ctype, maxsplit=1)[0].strip() or None) if ctype else None
        if status is not None and 300 <= status < 400:
            location = found.get("location")
    return entry_for(StoredRecord(
        filename=filename, offset=offset, length=length, record_type=kind, url=url,
        date=warc.get("warc-date") or "", record_id=warc.get("warc-record-id") or "", content_type=content_type,
        status=status, http_mime=mime, payload_digest=digest, location=location,
    ))


@dataclass(frozen=True, slots=True)
class IndexReport:
    entries: tuple[CdxjEntry, ...]
    faults: tuple[ReadFault, ...]
    files: int
    records: int          # every record read, indexed or not

    @property
    def broken_files(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.path for f in self.faults if f.fatal))


def index_files(paths: Iterable[str | os.PathLike[str]]) -> IndexReport:
    """Index every readable record of every file; faults are collected, never raised."""
    entries: list[CdxjEntry] = []
    faults: list[ReadFault] = []
    files = records = 0
    for path in paths:
        files += 1
        for item in iter_records(path):
            if isinstance(item, ReadFault):
                faults.append(item)
                continue
            records += 1
            entry = entry_for(item)
            if entry is not None:
                entries.append(entry)
    return IndexReport(tuple(entries), tuple(faults), files, records)


def write_cdxj(entries: Iterable[CdxjEntry], path: str | os.PathLike[str]) -> Path:
    """Write sorted lines atomically (temporary file, fsync, rename): an index is never half-written."""
    return _write_lines(sorted(e.line().encode("utf-8") for e in entries), Path(path))


def _write_lines(lines: Iterable[bytes], target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            for line in lines:
                fh.write(line + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


class LineSpool:
    """Index lines of a WARC being written, on disk until it closes, then sorted in bounded memory.

    A WARC of small records holds hundreds of thousands of them before it rolls over; keeping
    their index lines in RAM grew a run by about a kilobyte a URL. Lines go to an anonymous
    temporary file (nothing is left behind by a killed process); :meth:`write_sorted` sorts
    runs of about ``run_bytes`` of lines in memory, spills each run to another anonymous
    file, and merges them (``heapq.merge``) into the index, written atomically. A run costs
    about twice its bytes in RAM (a bytes object a line): runs of 50,000 lines had put a
    30 MB spike at the end of a 100,000-URL run.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> spool = LineSpool(folder, run_bytes=100)
    >>> for key in ("c", "a", "d", "b", "a"):
    ...     spool.add(CdxjEntry(key, "20240101000000", {"url": key}))
    >>> [line.split()[0] for line in spool.write_sorted(folder / "x.cdxj").read_text().splitlines()]
    ['a', 'a', 'b', 'c', 'd']
    """

    def __init__(self, folder: str | os.PathLike[str], *, run_bytes: int = 4 << 20) -> None:
        Path(folder).mkdir(parents=True, exist_ok=True)
        self._folder = folder
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (lives as long as the WARC file)
        self._run_bytes = run_bytes
        self.lines = 0

    def add(self, entry: CdxjEntry) -> None:
        self._file.write(entry.line().encode("utf-8") + b"\n")
        self.lines += 1

    def write_sorted(self, path: str | os.PathLike[str]) -> Path:
        """Sort every line added and write them to ``path`` (atomically); the spool is closed after."""
        runs: list[IO[bytes]] = []
        try:
            self._file.seek(0)
            while chunk := self._next_run():
                chunk.sort()
                spill = tempfile.TemporaryFile(dir=self._folder)  # noqa: SIM115 (closed below)
                spill.writelines(line + b"\n" for line in chunk)
                spill.seek(0)
                runs.append(spill)
            merged = heapq.merge(*((line.rstrip(b"\n") for line in run) for run in runs))
            return _write_lines(merged, Path(path))
        finally:
            for run in runs:
                run.close()
            self.close()

    def _next_run(self) -> list[bytes]:
        run: list[bytes] = []
        size = 0
        for line in self._file:
            run.append(line.rstrip(b"\n"))
            size += len(line)
            if size >= self._run_bytes:
                break
        return run

    def close(self) -> None:
        self._file.close()


def parse_cdxj_line(line: str) -> CdxjEntry:
    """One CDXJ line back into an entry; ``ValueError`` if it is not one."""
    key, sep, rest = line.rstrip("\n").partition(" ")
    timestamp, sep2, data = rest.partition(" ")
    if not (sep and sep2):
        raise ValueError(f"not a CDXJ line: {line[:80]!r}")
    fields = json.loads(data)
    if not isinstance(fields, dict):
        raise ValueError(f"CDXJ JSON is not an object: {line[:80]!r}")
    return CdxjEntry(key, timestamp, {str(k): str(v) for k, v in fields.items()})


def read_cdxj(path: str | os.PathLike[str]) -> Iterator[CdxjEntry]:
    with Path(path).open("r", encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("!"):
                yield parse_cdxj_line(line)
