"""Offline replay: httpx transports that answer from WARC files instead of the network.

::

    transport = WarcReplayTransport("collection/")          # a folder, or a list of WARC files
    async with httpx.AsyncClient(transport=transport) as client:
        r = await client.get("https://example.com/a")      # the recorded answer

* The recorded status, reason, headers and body come back **encoded as
  recorded** (a gzip body stays gzip with its ``Content-Encoding``), so httpx
  decodes them exactly as it decoded the live answer.
* A recorded redirect replays as that redirect; the client follows it (or not)
  as it would live, and the next hop is looked up in turn.
* A revisit is answered with the revisit's own status and headers and the body
  of the capture it refers to (found by ``WARC-Refers-To-Target-URI`` + date,
  else by payload digest); a ``server-not-modified`` revisit replays its original.
* An unarchived URL raises :class:`NotArchived`, an ``httpx.ConnectError``, so
  the crawler treats it as an unreachable host; ``missing="404"`` answers 404.
* Bodies stored with real chunk framing by other tools are de-chunked; ours are
  stored de-chunked with ``X-Crawler-Transfer-Encoding`` (see :mod:`archive.records`).

Captures are found through the CDXJ index written beside each WARC
(``indexes/NAME.cdxj``) when it is at least as new as the WARC, else by reading
the WARC. Several captures of one URL: the newest, or the one closest to ``at``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

import anyio.to_thread
import httpx

from archive.cdxj import CdxjEntry, index_files, read_cdxj, timestamp14
from archive.reader import LoadedRecord, find_warc_files, load_record
from archive.surt import surt_key
from archive.warcfile import index_path_for

__all__ = [
    "NotArchived",
    "ReplayIndex",
    "ReplayStatistics",
    "WarcReplaySyncTransport",
    "WarcReplayTransport",
    "dechunk",
]

Missing = Literal["error", "404"]


class NotArchived(httpx.ConnectError):
    """No capture of this URL in the WARC files (or its revisit's original is missing)."""

    def __init__(self, url: str, *, reason: str = "not in the archive", request: httpx.Request | None = None) -> None:
        super().__init__(f"{reason}: {url}", request=request)
        self.url = url


def dechunk(data: bytes) -> bytes | None:
    """Undo HTTP chunked framing; ``None`` when ``data`` is not well-formed chunks.

    >>> dechunk(b"3\\r\\nabc\\r\\n2;ext=1\\r\\nde\\r\\n0\\r\\n\\r\\n")
    b'abcde'
    >>> dechunk(b"<html>") is None
    True
    """
    out = bytearray()
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_text = data[pos:eol].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        if size == 0:
            return bytes(out)
        start = eol + 2
        if data[start + size:start + size + 2] != b"\r\n":
            return None
        out += data[start:start + size]
        pos = start + size + 2


@dataclass(frozen=True, slots=True)
class _Capture:
    entry: CdxjEntry
    path: Path


@dataclass(slots=True)
class ReplayStatistics:
    lookups: int = 0
    served: int = 0
    revisits_resolved: int = 0
    missing: int = 0


@dataclass
class ReplayIndex:
    """Every capture of a set of WARC files, by SURT key and by payload digest."""

    by_key: dict[str, list[_Capture]] = field(default_factory=lambda: defaultdict(list))
    by_digest: dict[str, list[_Capture]] = field(default_factory=lambda: defaultdict(list))
    files: int = 0

    @classmethod
    def load(cls, sources: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> ReplayIndex:
        """Index a folder (searched recursively) or WARC files; uses fresh ``indexes/*.cdxj`` files."""
        paths = [sources] if isinstance(sources, str | os.PathLike) else list(sources)
        index = cls()
        for warc in find_warc_files(paths):
            index.files += 1
            cdxj = index_path_for(warc, warc.parent.parent / "indexes")
            if cdxj.is_file() and cdxj.stat().st_mtime >= warc.stat().st_mtime:
                entries: Iterable[CdxjEntry] = read_cdxj(cdxj)
            else:
                entries = index_files([warc]).entries
            for entry in entries:
                if entry.fields.get("filename") == warc.name:
                    index.add(_Capture(entry, warc))
        return index

    def add(self, capture: _Capture) -> None:
        self.by_key[capture.entry.key].append(capture)
        digest = capture.entry.fields.get("digest")
        if digest and capture.entry.fields.get("mime") != "warc/revisit":
            self.by_digest[digest].append(capture)

    def candidates(self, url: str, *, at: str | None = None) -> list[_Capture]:
        """Captures of ``url``: exact URL matches first, then the newest (or closest to ``at``)."""
        found = self.by_key.get(surt_key(url), [])

        def rank(c: _Capture) -> tuple[int, int]:
            ts = int(c.entry.timestamp)
            closeness = -abs(ts - int(at)) if at else ts
            return (c.entry.url == url, closeness)
        return sorted(found, key=rank, reverse=True)

    def original_of(self, revisit: LoadedRecord, digest: str | None) -> _Capture | None:
        uri = revisit.warc_header("WARC-Refers-To-Target-URI")
        date = revisit.warc_header("WARC-Refers-To-Date")
        if uri:
            for c in self.candidates(uri, at=timestamp14(date) if date else None):
                if c.entry.fields.get("mime") != "warc/revisit" and (not date or c.entry.timestamp == timestamp14(date)):
                    return c
        for c in self.by_digest.get(digest or "", []):
            return c
        return None


_HOP_BY_HOP = {"transfer-encoding", "connection", "keep-alive"}


class _Replayer:
    def __init__(self, source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | ReplayIndex, *,
                 missing: Missing = "error", at: datetime | None = None) -> None:
        self.index = source if isinstance(source, ReplayIndex) else ReplayIndex.load(source)
        self.missing = missing
        self.at = at.strftime("%Y%m%d%H%M%S") if at else None
        self.stats = ReplayStatistics()

    def answer(self, request: httpx.Request) -> httpx.Response:
        """Blocking: find, read and turn a capture into a response (run in a thread by the async transport)."""
        url = str(request.url)
        self.stats.lookups += 1
        if request.method in ("GET", "HEAD"):
            for capture in self.index.candidates(url, at=self.at):
                try:
                    record = load_record(capture.path, int(capture.entry.fields["offset"]))
                except (OSError, ValueError):
                    continue                        # an unreadable capture: try an older one
                if record.record_type not in ("response", "revisit", "resource"):
                    continue
                response = self._build(request, capture, record)
                if response is not None:
                    self.stats.served += 1
                    return response
        self.stats.missing += 1
        if self.missing == "404":
            return httpx.Response(404, headers=[("Content-Type", "text/plain")],
                                  content=f"not in the archive: {url}\n".encode(), request=request)
        raise NotArchived(url, request=request)

    def _build(self, request: httpx.Request, capture: _Capture, record: LoadedRecord) -> httpx.Response | None:
        status, reason, headers, body = record.status, record.reason, record.http_headers, record.payload
        if record.record_type == "resource":
            ctype = record.warc_header("Content-Type") or "application/octet-stream"
            status, reason, headers = 200, "OK", (("Content-Type", ctype), ("Content-Length", str(len(body))))
        elif record.record_type == "revisit":
            original = self.index.original_of(record, capture.entry.fields.get("digest"))
            if original is None:
                raise NotArchived(str(request.url), reason="revisit whose original is not in the archive",
                                  request=request)
            try:
                orig = load_record(original.path, int(original.entry.fields["offset"]))
            except (OSError, ValueError) as exc:
                raise NotArchived(str(request.url), reason=f"revisit whose original is unreadable ({exc})",
                                  request=request) from None
            self.stats.revisits_resolved += 1
            body = _entity(orig.http_headers, orig.payload)
            if status == 304 or not headers:       # server-not-modified: the original answer stands
                status, reason, headers = orig.status, orig.reason, orig.http_headers
        else:
            body = _entity(headers, body)
        if status is None:
            return None
        kept = [(k.encode("latin-1", "replace"), _raw(v)) for k, v in headers if k.lower() not in _HOP_BY_HOP]
        if request.method == "HEAD":
            body = b""
        return httpx.Response(status, headers=kept, content=body, request=request,
                              extensions={"reason_phrase": reason.encode("latin-1", "replace"),
                                          "http_version": b"HTTP/1.1",
                                          "replay": {"filename": capture.path.name,
                                                     "offset": int(capture.entry.fields["offset"])}})


def _raw(value: str) -> bytes:
    """A header value back to bytes as warcio decoded it (latin-1, or UTF-8 when it was valid UTF-8)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _entity(headers: Sequence[tuple[str, str]], payload: bytes) -> bytes:
    """The entity body: stored chunk framing (other tools' files) removed, content encoding kept."""
    if any(k.lower() == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
        plain = dechunk(payload)
        if plain is not None:
            return plain
    return payload


class _ReplayFrom:
    """What both transports share: a replayer over the WARC files and its index."""

    def __init__(self, source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | ReplayIndex, *,
                 missing: Missing = "error", at: datetime | None = None) -> None:
        self._replayer = _Replayer(source, missing=missing, at=at)

    @property
    def index(self) -> ReplayIndex:
        return self._replayer.index

    def statistics(self) -> ReplayStatistics:
        s = self._replayer.stats
        return ReplayStatistics(s.lookups, s.served, s.revisits_resolved, s.missing)


class WarcReplayTransport(_ReplayFrom, httpx.AsyncBaseTransport):
    """Async transport answering from WARC files (see the module docstring). Building it reads the indexes."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await anyio.to_thread.run_sync(self._replayer.answer, request)


class WarcReplaySyncTransport(_ReplayFrom, httpx.BaseTransport):
    """The same, for ``httpx.Client``."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._replayer.answer(request)
