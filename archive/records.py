"""WARC/1.1 records, built as values: pure, deterministic, no event loop.

Every builder takes what a record says (an :class:`~archive.exchange.Exchange`,
fields, a date, record IDs from an injected factory) and returns a
:class:`Record`: its WARC header lines plus its block. Writing (gzip members,
files, rollover) is :mod:`archive.warcfile`'s job, so tests compare exact bytes.
The only I/O here is reading an exchange's spooled body to digest it.

Decisions worth knowing when reading our files:

* **Dates** are WARC/1.1 UTC with microseconds (``2024-05-01T12:00:00.123456Z``);
  a request and its response share one ``WARC-Date`` (the capture start) and the
  request names the response in ``WARC-Concurrent-To``.
* **Digests** are ``sha1:`` + base32 (the IIPC default) or ``sha256:`` + base32.
  ``WARC-Payload-Digest`` covers the entity body *as received*: content encoding
  kept (gzip stays gzip), transfer encoding removed, which is what the WARC 1.1
  clarification (iipc/warc-specifications#22) asks for and what the same body
  sent chunked or not hashes to.
* **Chunked responses.** httpx de-chunks bodies and there is no way to get the
  chunked wire bytes back. A record whose HTTP head still says
  ``Transfer-Encoding: chunked`` over a de-chunked body makes readers de-chunk it
  again: warcio silently corrupts a body that happens to look like a chunk
  header, FastWARC raises. So in the stored HTTP head we rename
  ``Transfer-Encoding`` to ``X-Crawler-Transfer-Encoding`` (value kept) and
  state the true length as ``Content-Length``; a ``Content-Length`` the server
  sent that disagrees with the stored body (truncation, or a wrong server) is
  kept as ``X-Crawler-Content-Length``. Responses without a body (HEAD, 1xx,
  204, 304) are left as received. The warcinfo record says so in its
  ``http-header-rewrite`` field.
* **HTTP/2** exchanges are stored in HTTP/1.1 form (status and request lines say
  ``HTTP/1.1``) with ``WARC-Protocol: h2``, as Heritrix does: readers and replay
  tools parse HTTP/1.x heads only.
* ``WARC-Target-URI`` is written bare, never in angle brackets (wget's WARC/1.0
  quirk that broke pywb, OpenWayback and jwarc).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, Literal

from archive.exchange import CapturedRequest, CapturedResponse, Exchange, Timings

__all__ = [
    "HTTP_REWRITE_NOTE",
    "PROFILE_IDENTICAL",
    "PROFILE_NOT_MODIFIED",
    "WARC_VERSION",
    "CaptureRecords",
    "CaptureRef",
    "DigestAlgorithm",
    "Record",
    "capture_metadata",
    "capture_records",
    "format_warc_fields",
    "http_request_head",
    "http_response_head",
    "metadata_record",
    "new_record_id",
    "payload_digest",
    "revisit_record",
    "warc_date",
    "warcinfo_fields",
    "warcinfo_record",
]

WARC_VERSION = "WARC/1.1"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
HTTP_REWRITE_NOTE = (
    "Transfer-Encoding renamed X-Crawler-Transfer-Encoding (bodies are stored de-chunked); "
    "Content-Length states the stored length, a disagreeing original kept as X-Crawler-Content-Length"
)

DigestAlgorithm = Literal["sha1", "sha256"]
WarcHeaders = tuple[tuple[str, str], ...]

_CHUNK = 1 << 16
_NO_BODY_STATUS = frozenset({204, 304})


def new_record_id() -> str:
    """A fresh ``<urn:uuid:…>`` record ID (the default factory; tests inject their own)."""
    return f"<urn:uuid:{uuid.uuid4()}>"


def warc_date(when: datetime) -> str:
    """WARC/1.1 date: UTC, microseconds.

    >>> warc_date(datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC))
    '2024-05-01T12:00:00.123456Z'
    """
    if when.tzinfo is None:
        raise ValueError("WARC dates need an aware datetime (UTC)")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Digester:
    """``sha1:``/``sha256:`` + base32, the form warcio, FastWARC and pywb all read."""

    def __init__(self, algorithm: DigestAlgorithm) -> None:
        self.algorithm = algorithm
        self._h = hashlib.new(algorithm)

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def value(self) -> str:
        return f"{self.algorithm}:{base64.b32encode(self._h.digest()).decode('ascii')}"


def _digest(data: bytes, algorithm: DigestAlgorithm) -> str:
    d = _Digester(algorithm)
    d.update(data)
    return d.value()


def _chunks(body: IO[bytes], length: int) -> Iterator[bytes]:
    """``length`` bytes of ``body`` from its start, in pieces; the position is left wherever it ends."""
    body.seek(0)
    left = length
    while left > 0:
        piece = body.read(min(_CHUNK, left))
        if not piece:
            raise ValueError(f"body is shorter than its stated length ({length - left} of {length} bytes)")
        left -= len(piece)
        yield piece


def payload_digest(body: IO[bytes], length: int, algorithm: DigestAlgorithm = "sha1") -> str:
    """The WARC-Payload-Digest of a spooled body (read from its start)."""
    d = _Digester(algorithm)
    for piece in _chunks(body, length):
        d.update(piece)
    return d.value()


# -- records ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One WARC record: header fields in order, then a block.

    The block is ``block_head`` followed by ``payload_length`` bytes of
    ``payload`` (read from position 0 when serialised), so a 50 MB body is
    streamed, never copied. ``Content-Length`` is always the last header.
    """

    headers: WarcHeaders
    block_head: bytes
    payload: IO[bytes] | None = None
    payload_length: int = 0

    def header(self, name: str) -> str | None:
        low = name.lower()
        for k, v in self.headers:
            if k.lower() == low:
                return v
        return None

    @property
    def record_id(self) -> str:
        return self.header("WARC-Record-ID") or ""

    @property
    def record_type(self) -> str:
        return self.header("WARC-Type") or ""

    @property
    def block_length(self) -> int:
        return len(self.block_head) + self.payload_length

    def head_bytes(self) -> bytes:
        lines = [WARC_VERSION, *(f"{k}: {v}" for k, v in self.headers)]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def iter_bytes(self) -> Iterator[bytes]:
        """The serialised record: version line, headers, blank line, block, ``CRLF CRLF``."""
        yield self.head_bytes()
        if self.block_head:
            yield self.block_head
        yield from self.iter_payload()
        yield b"\r\n\r\n"

    def iter_payload(self) -> Iterator[bytes]:
        """The payload alone (the block after ``block_head``), in pieces."""
        if self.payload is not None and self.payload_length:
            yield from _chunks(self.payload, self.payload_length)

    def payload_start(self, size: int = 16) -> bytes:
        """The first ``size`` bytes of the payload (its magic number, say)."""
        if self.payload is None or not self.payload_length:
            return b""
        self.payload.seek(0)
        return self.payload.read(min(size, self.payload_length))

    def to_bytes(self) -> bytes:
        return b"".join(self.iter_bytes())


def _record(fields: Sequence[tuple[str, str | None]], block_head: bytes, *,
            payload: IO[bytes] | None = None, payload_length: int = 0,
            algorithm: DigestAlgorithm, payload_digest_value: str | None = None,
            with_payload_digest: bool = False) -> Record:
    """Assemble a record: drop empty fields, add digests and Content-Length last."""
    block = _Digester(algorithm)
    block.update(block_head)
    pay = _Digester(algorithm) if with_payload_digest and payload_digest_value is None else None
    if payload is not None and payload_length:
        for piece in _chunks(payload, payload_length):
            block.update(piece)
            if pay is not None:
                pay.update(piece)
    if pay is not None:
        payload_digest_value = pay.value()
    headers: list[tuple[str, str]] = [(k, v) for k, v in fields if v is not None and k != "Content-Type"]
    _check_fields(headers)
    if payload_digest_value is not None:
        headers.append(("WARC-Payload-Digest", payload_digest_value))
    headers.append(("WARC-Block-Digest", block.value()))
    content_type = next((v for k, v in fields if k == "Content-Type"), None)
    if content_type:
        headers.append(("Content-Type", content_type))
    headers.append(("Content-Length", str(len(block_head) + payload_length)))
    return Record(tuple(headers), block_head, payload, payload_length)


def _check_fields(fields: Sequence[tuple[str, str]]) -> None:
    for k, v in fields:
        if "\r" in k or "\n" in k or "\r" in v or "\n" in v:
            raise ValueError(f"WARC header {k!r} must not contain a line break")


# -- HTTP heads ------------------------------------------------------------------------------------


def _status_line_version(version: str) -> str:
    return "HTTP/1.1" if version.upper().startswith("HTTP/2") else version


def _protocol(version: str) -> str | None:
    return "h2" if version.upper().startswith("HTTP/2") else None


def _has_body(status: int, method: str) -> bool:
    return method.upper() != "HEAD" and status >= 200 and status not in _NO_BODY_STATUS


def http_response_head(response: CapturedResponse, *, body_length: int, method: str = "GET") -> bytes:
    """The stored HTTP head of a response, with the chunked-body rewrite (see the module docstring).

    >>> r = CapturedResponse("HTTP/1.1", 200, "OK", ((b"Transfer-Encoding", b"chunked"),))
    >>> http_response_head(r, body_length=5)
    b'HTTP/1.1 200 OK\\r\\nX-Crawler-Transfer-Encoding: chunked\\r\\nContent-Length: 5\\r\\n\\r\\n'
    """
    headers = list(response.headers)
    if _has_body(response.status, method):
        te = any(k.lower() == b"transfer-encoding" for k, _ in headers)
        lengths = [v for k, v in headers if k.lower() == b"content-length"]
        wrong_length = bool(lengths) and any(v.strip() != str(body_length).encode() for v in lengths)
        if te or wrong_length:
            renamed: list[tuple[bytes, bytes]] = []
            for k, v in headers:
                low = k.lower()
                if low == b"transfer-encoding":
                    renamed.append((b"X-Crawler-Transfer-Encoding", v))
                elif low == b"content-length":
                    if wrong_length:
                        renamed.append((b"X-Crawler-Content-Length", v))
                else:
                    renamed.append((k, v))
            renamed.append((b"Content-Length", str(body_length).encode("ascii")))
            headers = renamed
    reason = f" {response.reason}" if response.reason else ""
    line = f"{_status_line_version(response.http_version)} {response.status}{reason}".encode("latin-1")
    return _head(line, headers)


def http_request_head(request: CapturedRequest) -> bytes:
    """The stored HTTP head of a request: request line with the target as sent, headers in wire order."""
    line = f"{request.method} {request.target} {_status_line_version(request.http_version)}".encode("latin-1")
    return _head(line, list(request.headers))


def _head(first: bytes, headers: Sequence[tuple[bytes, bytes]]) -> bytes:
    parts = [first]
    for k, v in headers:
        if b"\r" in k or b"\n" in k or b"\r" in v or b"\n" in v:
            raise ValueError(f"HTTP header {k!r} contains a line break")
        parts.append(k + b": " + v)
    return b"\r\n".join(parts) + b"\r\n\r\n"


# -- request + response ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaptureRef:
    """An earlier capture a revisit can point at: what the state store remembers of a response."""

    url: str
    record_id: str
    date: str            # its WARC-Date, as written
    payload_digest: str


@dataclass(frozen=True, slots=True)
class CaptureRecords:
    """The records of one exchange, in write order (response or revisit first, then request)."""

    response: Record
    request: Record

    @property
    def records(self) -> tuple[Record, Record]:
        return (self.response, self.request)


def _common(exchange: Exchange, record_type: str, record_id: str, warcinfo_id: str | None) -> list[tuple[str, str | None]]:
    return [
        ("WARC-Type", record_type),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", warc_date(exchange.date)),
        ("WARC-Target-URI", exchange.url),
        ("WARC-IP-Address", exchange.peer_ip),
        ("WARC-Protocol", _protocol(exchange.response.http_version)),
        ("WARC-Warcinfo-ID", warcinfo_id),
    ]


def _request_record(exchange: Exchange, *, record_id: str, concurrent_to: str,
                    algorithm: DigestAlgorithm, warcinfo_id: str | None) -> Record:
    fields = [*_common(exchange, "request", record_id, warcinfo_id),
              ("WARC-Concurrent-To", concurrent_to),
              ("Content-Type", "application/http; msgtype=request")]
    body = exchange.request.body
    return _record(fields, http_request_head(exchange.request) + body, algorithm=algorithm,
                   payload_digest_value=_digest(body, algorithm))


def capture_records(exchange: Exchange, *, new_id: Callable[[], str] = new_record_id,
                    algorithm: DigestAlgorithm = "sha1", warcinfo_id: str | None = None,
                    payload_digest_value: str | None = None) -> CaptureRecords:
    """A ``response`` record and its ``request`` record for one exchange.

    ``payload_digest_value`` may be passed when the caller already digested the
    body (to decide on a revisit); otherwise it is computed in the same pass as
    the block digest.
    """
    response_id = new_id()
    head = http_response_head(exchange.response, body_length=exchange.body_length, method=exchange.request.method)
    fields = [*_common(exchange, "response", response_id, warcinfo_id),
              ("WARC-Truncated", exchange.truncated),
              ("Content-Type", "application/http; msgtype=response")]
    response = _record(fields, head, payload=exchange.body, payload_length=exchange.body_length,
                       algorithm=algorithm, payload_digest_value=payload_digest_value, with_payload_digest=True)
    request = _request_record(exchange, record_id=new_id(), concurrent_to=response_id,
                              algorithm=algorithm, warcinfo_id=warcinfo_id)
    return CaptureRecords(response, request)


def revisit_record(exchange: Exchange, *, profile: str, refers_to: CaptureRef | None,
                   new_id: Callable[[], str] = new_record_id, algorithm: DigestAlgorithm = "sha1",
                   warcinfo_id: str | None = None, payload_digest_value: str | None = None) -> CaptureRecords:
    """A ``revisit`` record (HTTP head only, no body) and its ``request`` record.

    ``identical-payload-digest``: the body equals ``refers_to``'s payload; the
    digest is the body's (computed unless given). ``server-not-modified``: the
    exchange is a 304; the payload digest is ``refers_to``'s, when known.
    """
    if profile == PROFILE_IDENTICAL:
        if payload_digest_value is None:
            payload_digest_value = payload_digest(exchange.body, exchange.body_length, algorithm)
        if refers_to is not None and refers_to.payload_digest != payload_digest_value:
            raise ValueError(f"{exchange.url}: identical-payload-digest revisit of a different payload")
    elif profile == PROFILE_NOT_MODIFIED:
        payload_digest_value = refers_to.payload_digest if refers_to is not None else None
    else:
        raise ValueError(f"unknown revisit profile {profile!r}")
    revisit_id = new_id()
    head = http_response_head(exchange.response, body_length=exchange.body_length, method=exchange.request.method)
    fields = [*_common(exchange, "revisit", revisit_id, warcinfo_id),
              ("WARC-Profile", profile),
              ("WARC-Refers-To", refers_to.record_id if refers_to else None),
              ("WARC-Refers-To-Target-URI", refers_to.url if refers_to else None),
              ("WARC-Refers-To-Date", refers_to.date if refers_to else None),
              ("Content-Type", "application/http; msgtype=response")]
    revisit = _record(fields, head, algorithm=algorithm, payload_digest_value=payload_digest_value)
    request = _request_record(exchange, record_id=new_id(), concurrent_to=revisit_id,
                              algorithm=algorithm, warcinfo_id=warcinfo_id)
    return CaptureRecords(revisit, request)


# -- metadata and warcinfo -------------------------------------------------------------------------


def format_warc_fields(fields: Sequence[tuple[str, str]]) -> bytes:
    """``application/warc-fields``: one ``name: value`` line per pair, in order, UTF-8.

    >>> format_warc_fields([("via", "https://a.example/"), ("fetchTimeMs", "12")])
    b'via: https://a.example/\\r\\nfetchTimeMs: 12\\r\\n'
    """
    lines = []
    for name, value in fields:
        if not name or any(c in name for c in ":\r\n \t"):
            raise ValueError(f"bad warc-fields name {name!r}")
        lines.append(f"{name}: {' '.join(str(value).split())}\r\n")  # folds any line break into a space
    return "".join(lines).encode("utf-8")


def capture_metadata(*, citations: Sequence[tuple[str, str]] = (), redirects: Sequence[tuple[int, str]] = (),
                     attempts: Sequence[str] = (), robots: str | None = None, timings: Timings | None = None,
                     extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The fields of a URL's ``metadata`` record, as archivists ask for them.

    ``citations``: ``(document, role)`` pairs that cited the URL; ``redirects``:
    ``(status, location)`` hops taken from it; ``attempts``: one line per try
    (``"1 timeout after 30.0s"``); ``robots``: the decision and its rule.

    >>> capture_metadata(citations=[("docs/000.txt", "originalUrl")], robots="allowed",
    ...                  timings=Timings(0.0, 0.25, 1.0))
    [('citedBy', 'docs/000.txt originalUrl'), ('robots', 'allowed'), ('fetchTimeMs', '1000'), ('ttfbMs', '250')]
    """
    out = [("citedBy", f"{doc} {role}") for doc, role in citations]
    out += [("redirect", f"{status} {location}") for status, location in redirects]
    out += [("attempt", a) for a in attempts]
    if robots is not None:
        out.append(("robots", robots))
    if timings is not None:
        out.append(("fetchTimeMs", str(round(timings.total * 1000))))
        out.append(("ttfbMs", str(round(timings.ttfb * 1000))))
    out += list(extra)
    return out


def metadata_record(url: str, fields: Sequence[tuple[str, str]], *, date: datetime, record_id: str,
                    concurrent_to: str | None, algorithm: DigestAlgorithm = "sha1",
                    warcinfo_id: str | None = None) -> Record:
    """A ``metadata`` record about ``url``, tied to its response by ``WARC-Concurrent-To``."""
    return _record([
        ("WARC-Type", "metadata"),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", warc_date(date)),
        ("WARC-Target-URI", url),
        ("WARC-Warcinfo-ID", warcinfo_id),
        ("WARC-Concurrent-To", concurrent_to),
        ("Content-Type", "application/warc-fields"),
    ], format_warc_fields(fields), algorithm=algorithm)


def warcinfo_fields(*, software: str, hostname: str, operator: str = "", user_agent: str = "",
                    robots: str = "classic", configuration: Mapping[str, Any] | None = None,
                    extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The fields of a file's ``warcinfo`` record (IIPC/Heritrix names; configuration as one JSON line).

    ``robots`` is ``classic`` (obeyed) or ``ignore`` (an explicit choice, recorded).
    """
    out = [
        ("software", software),
        ("format", "WARC File Format 1.1"),
        ("conformsTo", "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"),
        ("hostname", hostname),
    ]
    if operator:
        out.append(("operator", operator))
    if user_agent:
        out.append(("http-header-user-agent", user_agent))
    out.append(("robots", robots))
    out.append(("http-header-rewrite", HTTP_REWRITE_NOTE))
    if configuration is not None:
        out.append(("configuration", json.dumps(configuration, sort_keys=True, separators=(",", ":"))))
    out += list(extra)
    return out


def warcinfo_record(filename: str, fields: Sequence[tuple[str, str]], *, date: datetime, record_id: str,
                    algorithm: DigestAlgorithm = "sha1") -> Record:
    """The ``warcinfo`` record at the head of a file (``WARC-Filename`` is the final name, never ``.open``)."""
    return _record([
        ("WARC-Type", "warcinfo"),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", warc_date(date)),
        ("WARC-Filename", filename),
        ("Content-Type", "application/warc-fields"),
    ], format_warc_fields(fields), algorithm=algorithm)
