"""The value that crosses from fetching to archiving: one HTTP exchange, as captured.

The fetcher (:mod:`crawler.fetch`) builds an :class:`Exchange` per hop, with the
request exactly as sent and the response head exactly as received, the peer IP
(read before the body: it is gone once the connection closes), timings, and the
body spooled to a temporary file. The WARC writer (:mod:`archive.records`)
turns it into a request/response record pair. Nothing here does I/O except
reading and closing the body file.

Headers are kept as ``(name, value)`` byte pairs in wire order and case, with
duplicates: a WARC record must not merge ``Set-Cookie`` lines or lowercase names.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Literal

__all__ = ["BODY_SPOOL_BYTES", "CapturedRequest", "CapturedResponse", "Exchange", "Headers", "Timings", "new_body_spool"]

Headers = tuple[tuple[bytes, bytes], ...]

#: bodies up to this size stay in memory; larger ones roll over to a temporary file
BODY_SPOOL_BYTES = 1 << 20

Truncation = Literal["length", "time", "disconnect"]


def new_body_spool() -> IO[bytes]:
    """A spooled temporary file for a response body (memory first, disk past 1 MiB)."""
    return tempfile.SpooledTemporaryFile(max_size=BODY_SPOOL_BYTES)  # owned by the Exchange


@dataclass(frozen=True, slots=True)
class CapturedRequest:
    """A request as it went on the wire (HTTP/1.1) or as close as HTTP/2 allows."""

    method: str
    url: str                 # absolute URL
    target: str              # request-target as sent: path and query ("/a/b?c=d")
    http_version: str        # "HTTP/1.1" or "HTTP/2"
    headers: Headers         # in the order and case sent, Host first for HTTP/1.1
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return _get(self.headers, name)


@dataclass(frozen=True, slots=True)
class CapturedResponse:
    """A response head as received: status line and headers, without the body."""

    http_version: str        # "HTTP/1.1", "HTTP/1.0", "HTTP/2"
    status: int
    reason: str              # reason phrase as sent ("" for HTTP/2)
    headers: Headers         # in the order and case received, duplicates kept

    def header(self, name: str) -> str | None:
        return _get(self.headers, name)


@dataclass(frozen=True, slots=True)
class Timings:
    """Seconds on trio's clock: when the request started, the head arrived and the body ended."""

    started: float
    headers: float
    finished: float

    @property
    def total(self) -> float:
        return self.finished - self.started

    @property
    def ttfb(self) -> float:
        return self.headers - self.started


@dataclass(frozen=True, eq=False)
class Exchange:
    """One request and its response. Owns ``body``; call :meth:`close` once archived.

    ``body`` holds the entity body as received: transfer encoding removed (httpx
    de-chunks), content encoding kept (gzip bytes stay gzip), at most the byte
    cap. ``truncated`` says why it is incomplete, in WARC-Truncated terms.
    ``date`` is the wall-clock instant the capture began (the WARC-Date of both
    records).
    """

    request: CapturedRequest
    response: CapturedResponse
    date: datetime
    peer_ip: str | None
    timings: Timings
    body: IO[bytes] = field(repr=False)
    body_length: int
    truncated: Truncation | None = None

    @property
    def url(self) -> str:
        return self.request.url

    def read_body(self, limit: int | None = None) -> bytes:
        """The stored body bytes (content encoding kept), from the start; the position is restored."""
        pos = self.body.tell()
        try:
            self.body.seek(0)
            return self.body.read() if limit is None else self.body.read(limit)
        finally:
            self.body.seek(pos)

    def close(self) -> None:
        self.body.close()


def _get(headers: Headers, name: str) -> str | None:
    want = name.lower().encode("latin-1")
    for k, v in headers:
        if k.lower() == want:
            return v.decode("latin-1")
    return None
