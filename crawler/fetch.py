"""One HTTP request and its response, captured for the archive: one hop of a fetch.

:func:`fetch_hop` sends one ``httpx.Request`` (never following redirects: the
crawler follows them hop by hop through the politeness core) and returns an
:class:`~archive.exchange.Exchange` or a :class:`HopFailure`. It captures:

* the request as sent: method, raw target, headers in order and case
  (``request.headers.raw``: for HTTP/1.1 that is byte for byte the wire);
* the status line with the reason phrase as sent and the response headers as
  received (``response.headers.raw``: order, case and duplicates kept);
* the peer IP, read as soon as the head arrives (it is gone once the
  connection closes; mocked responses have no network stream: ``None``);
* the body with ``aiter_raw()`` (content encoding kept, transfer encoding
  removed by h11) into a spooled file, at most ``max_body_bytes``
  (``truncated="length"``), within a whole-hop ``deadline`` (httpx's read
  timeout is per chunk, so a server dribbling bytes would never trip it): past
  it the body is cut (``truncated="time"``; so is a body whose next chunk
  misses the read timeout), or, before the head arrived, the hop fails with
  ``timeout``. A connection that breaks mid-body gives
  ``truncated="disconnect"``. A response head over :data:`MAX_HEAD_BYTES` is
  refused (``protocol_error``): WARC readers could not parse its record.

All third-party errors are turned into outcomes here, in :func:`classify`.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import trio

from archive.exchange import CapturedRequest, CapturedResponse, Exchange, Timings, Truncation, new_body_spool
from crawler.addresses import AddressRefused, NameNotResolved
from crawler.outcomes import Outcome

__all__ = ["MAX_HEAD_BYTES", "HopFailure", "classify", "fetch_hop", "peer_ip", "without_fragment"]

#: seconds allowed to close a response after a deadline cut it (shielded from the cancellation)
_CLOSE_GRACE = 5.0
#: the largest response head we archive. FastWARC's HTTP parser gives up on a head over 32 KiB
#: (and with it on the rest of the file when iterating with ``parse_http``); the margin leaves room
#: for the ``X-Crawler-`` renames the record builder may add. h11 alone would accept 100 KiB.
MAX_HEAD_BYTES = 32 * 1024 - 512


def _head_size(response: httpx.Response) -> int:
    """Bytes of the response head as it will be stored: status line, ``name: value`` lines, blank line."""
    reason = response.extensions.get("reason_phrase") or b""
    return 15 + len(reason) + sum(len(k) + len(v) + 4 for k, v in response.headers.raw) + 2


@dataclass(frozen=True, slots=True)
class HopFailure:
    """A hop that got no response head."""

    outcome: Outcome
    error: str


def classify(exc: BaseException) -> Outcome | None:
    """The outcome for an exception raised while sending a request; ``None``: a bug (re-raise it)."""
    if isinstance(exc, AddressRefused):
        return Outcome.ADDRESS_REFUSED
    if isinstance(exc, NameNotResolved):
        return Outcome.DNS
    if isinstance(exc, httpx.UnsupportedProtocol):
        return Outcome.UNSUPPORTED_SCHEME
    if isinstance(exc, httpx.InvalidURL):
        return Outcome.INVALID_URL
    if isinstance(exc, httpx.TimeoutException):
        return Outcome.TIMEOUT
    if isinstance(exc, httpx.ConnectError):
        return Outcome.TLS if _caused_by_tls(exc) else Outcome.CONNECT
    if isinstance(exc, httpx.ProtocolError):
        return Outcome.PROTOCOL_ERROR
    if isinstance(exc, httpx.TransportError):     # ReadError, WriteError, NetworkError, ProxyError
        return Outcome.TLS if _caused_by_tls(exc) else Outcome.NETWORK
    return None


def _caused_by_tls(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ssl.SSLError | ssl.CertificateError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


def peer_ip(response: httpx.Response) -> str | None:
    """The IP address the response came from, or ``None`` (mocked, or already closed)."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        addr = stream.get_extra_info("server_addr")
    except OSError:
        return None
    return str(addr[0]) if addr else None


def _raw_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body as received: ``aiter_raw()``, or, for a response a transport built already read
    (``httpx.Response(200, content=...)`` in a MockTransport), its raw stream again."""
    if not response.is_stream_consumed:
        return response.aiter_raw()
    stream = response.stream
    if not isinstance(stream, httpx.AsyncByteStream):
        raise TypeError("a synchronous response stream in an async fetch")
    return stream.__aiter__()


def _error_text(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


def without_fragment(url: httpx.URL) -> httpx.URL:
    """``url`` without its ``#fragment`` (never sent); ``url`` itself when it has none.

    ``copy_with`` parses the whole URL again (about 24 us); most URLs have no fragment.
    httpx percent-encodes a ``#`` anywhere else, so one in the string starts the fragment.
    """
    return url.copy_with(fragment=None) if "#" in str(url) else url


async def fetch_hop(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    max_body_bytes: int,
    deadline: float,
    lane: trio.StrictFIFOLock | None = None,
) -> tuple[Exchange | HopFailure, httpx.Request | None]:
    """Send ``request`` once; the captured exchange (or failure) and the redirect request, if any.

    ``lane``, shared by the fetches of a run, is taken to close a response read to its end
    (putting its connection back in the pool: httpcore's locks, no network I/O), never across a
    read: the fetches whose bodies came in together then finish one after another, in the order
    their bodies ended, not all at the same late moment (see :mod:`crawler.idle` for why that
    bunching lasts and what it costs). Measured, holding it also for the work between reads added
    nothing; taking it without a scheduler round when free (``acquire_nowait``) lost all the gain.
    """
    started = trio.current_time()
    date = datetime.now(UTC)
    response: httpx.Response | None = None
    spool = None
    length = 0
    truncated: Truncation | None = None
    head_at = started
    ip: str | None = None
    with trio.move_on_after(deadline) as scope:
        try:
            response = await client.send(request, stream=True)
        except Exception as exc:
            outcome = classify(exc)
            if outcome is None:
                raise
            return HopFailure(outcome, _error_text(exc)), None
        head_at = trio.current_time()
        size = _head_size(response)
        if size > MAX_HEAD_BYTES:
            with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_GRACE):
                await response.aclose()
            return HopFailure(Outcome.PROTOCOL_ERROR, f"response head of {size} bytes is over the "
                              f"{MAX_HEAD_BYTES}-byte limit (WARC readers cannot parse it)"), None
        ip = peer_ip(response)
        spool = new_body_spool()
        chunks = _raw_chunks(response)
        capped = False
        ended = False
        try:
            while True:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    ended = True
                    break
                except httpx.TimeoutException:
                    if not capped:      # the per-chunk read timeout: cut by time, not by the peer
                        truncated = "time"
                    break
                except (httpx.TransportError, httpx.StreamError):
                    if not capped:
                        truncated = "disconnect"
                    break
                if capped:
                    continue
                room = max_body_bytes - length
                if len(chunk) > room:
                    spool.write(chunk[:room])
                    length += room
                    truncated = "length"
                    capped = True
                    # Close the connection, then let the next read fail: that error runs
                    # through httpx's nested async generators and finishes them (a plain
                    # `break` leaves them to the garbage collector).
                    await response.aclose()
                    continue
                spool.write(chunk)
                length += len(chunk)
        finally:
            # a body read to its end leaves a connection to put back in the pool (bookkeeping, in
            # the lane); any other is closed on the network, outside it
            with trio.CancelScope(shield=True), trio.move_on_after(_CLOSE_GRACE):
                if ended and lane is not None:
                    async with lane:
                        await response.aclose()
                else:
                    await response.aclose()
    if response is None:
        return HopFailure(Outcome.TIMEOUT, f"no response within the {deadline:g} s deadline"), None
    if scope.cancelled_caught and truncated is None:
        truncated = "time"
    assert spool is not None
    spool.seek(0)
    finished = trio.current_time()
    sent = response.request
    reason_ext = response.extensions.get("reason_phrase")
    if reason_ext is not None:
        reason = reason_ext.decode("latin-1")
    else:   # HTTP/2 has none; mocked responses get the standard phrase
        reason = "" if response.http_version == "HTTP/2" else response.reason_phrase
    exchange = Exchange(
        request=CapturedRequest(
            method=sent.method,
            url=str(without_fragment(sent.url)),    # the fragment is never sent
            target=sent.url.raw_path.decode("ascii"),
            http_version=response.http_version,
            headers=tuple(sent.headers.raw),
        ),
        response=CapturedResponse(
            http_version=response.http_version,
            status=response.status_code,
            reason=reason,
            headers=tuple(response.headers.raw),
        ),
        date=date,
        peer_ip=ip,
        timings=Timings(started=started, headers=head_at, finished=finished),
        body=spool,
        body_length=length,
        truncated=truncated,
    )
    return exchange, response.next_request
