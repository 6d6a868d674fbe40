"""Builders of :class:`~archive.exchange.Exchange` values and fixed ID/date factories for WARC tests."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from io import BytesIO

from archive.exchange import CapturedRequest, CapturedResponse, Exchange, Timings

DATE = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def fixed_ids(prefix: str = "00000000-0000-4000-8000") -> Callable[[], str]:
    """Record IDs ``<urn:uuid:…-000000000001>``, ``…002`` and so on: reproducible bytes."""
    counter = itertools.count(1)
    return lambda: f"<urn:uuid:{prefix}-{next(counter):012d}>"


def make_exchange(url: str = "http://example.com/page?a=1", body: bytes = b"<html>hello</html>", *,
                  status: int = 200, reason: str = "OK", method: str = "GET",
                  headers: Sequence[tuple[bytes, bytes]] | None = None, http_version: str = "HTTP/1.1",
                  date: datetime = DATE, peer_ip: str | None = "93.184.215.14",
                  truncated: str | None = None) -> Exchange:
    _, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    target = "/" + path
    if headers is None:
        headers = ((b"Content-Type", b"text/html; charset=utf-8"), (b"Content-Length", str(len(body)).encode()))
    spool = BytesIO(body)   # the fetcher's spool is a SpooledTemporaryFile; any seekable file will do
    return Exchange(
        request=CapturedRequest(method=method, url=url, target=target, http_version=http_version,
                                headers=((b"Host", host.encode()), (b"Accept", b"*/*"),
                                         (b"Accept-Encoding", b"gzip, deflate"),
                                         (b"User-Agent", b"citecrawl/0.1.0 (+https://example.org/)"))),
        response=CapturedResponse(http_version=http_version, status=status, reason=reason, headers=tuple(headers)),
        date=date, peer_ip=peer_ip, timings=Timings(10.0, 10.25, 10.5), body=spool, body_length=len(body),
        truncated=truncated,  # type: ignore[arg-type]
    )


def warcio_check(path: object) -> tuple[int, str]:
    """``warcio check -v PATH``: exit code and output (the archivists' own digest check)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import sys; from warcio.cli import main; sys.exit(main())",
                           "check", "-v", str(path)], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout + proc.stderr


def fastwarc_verify(path: object) -> list[tuple[str, bool, bool | None]]:
    """FastWARC's digest verification: (type, block ok, payload ok or None) per record.

    ``verify_block_digest`` must run before ``parse_http`` (library-facts §8), so
    the iterator does not parse HTTP and we do it after.
    """
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    out: list[tuple[str, bool, bool | None]] = []
    for rec in ArchiveIterator(str(path), parse_http=False, auto_decode="none"):
        block = rec.verify_block_digest()
        payload = None
        if rec.record_type in (WarcRecordType.response, WarcRecordType.request):
            rec.parse_http()
            payload = rec.verify_payload_digest()
        out.append((str(rec.record_type).split(".")[-1], block, payload))
    return out
