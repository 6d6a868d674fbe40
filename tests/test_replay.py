"""Replay through httpx: bodies as recorded, redirects, revisits, missing URLs, foreign chunked records."""

from __future__ import annotations

import gzip
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from archive.replay import NotArchived, WarcReplaySyncTransport, WarcReplayTransport, dechunk
from archive.writer import open_warc_writer
from tests.warcfixtures import DATE, make_exchange

PAGE = b"<html><body>" + b"The article text. " * 200 + b"</body></html>"


async def build_collection(root: Path) -> Path:
    gz = gzip.compress(PAGE, mtime=0)
    async with open_warc_writer(root / "warcs") as w:
        await w.write_exchange(make_exchange(
            "https://news.example/a", gz,
            headers=((b"Content-Type", b"text/html; charset=utf-8"), (b"Content-Encoding", b"gzip"),
                     (b"Transfer-Encoding", b"chunked"), (b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2"))))
        await w.write_exchange(make_exchange(
            "http://news.example/old", b"", status=301, reason="Moved Permanently",
            headers=((b"Location", b"https://news.example/a"), (b"Content-Length", b"0"))))
        later = DATE + timedelta(days=1)
        again = await w.write_exchange(make_exchange(
            "https://news.example/a", gz, date=later,
            headers=((b"Content-Type", b"text/html; charset=utf-8"), (b"Content-Encoding", b"gzip"),
                     (b"X-Second", b"yes"))))
        assert again.is_revisit
        await w.write_exchange(make_exchange("https://news.example/b", b"version one"))
        await w.write_exchange(make_exchange("https://news.example/b", b"", status=304, reason="Not Modified",
                                             headers=((b"ETag", b'"v1"'),), date=later))
    return root


async def test_archived_page_comes_back_as_recorded(tmp_path: Path) -> None:
    root = await build_collection(tmp_path)
    async with httpx.AsyncClient(transport=WarcReplayTransport(root)) as client:
        r = await client.get("https://news.example/a")
    assert r.status_code == 200 and r.content == PAGE                  # httpx decoded the recorded gzip
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers.get_list("set-cookie") == []                     # the revisit's headers, not the original's
    # the newest capture is the revisit: its own headers, the original's body
    assert r.headers.get("x-second") == "yes"
    assert "transfer-encoding" not in r.headers


async def test_older_capture_by_date_keeps_duplicate_headers(tmp_path: Path) -> None:
    root = await build_collection(tmp_path)
    async with httpx.AsyncClient(transport=WarcReplayTransport(root, at=DATE)) as client:
        r = await client.get("https://news.example/a")
    assert r.content == PAGE and r.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert r.headers["x-crawler-transfer-encoding"] == "chunked"


async def test_redirects_replay_as_redirects(tmp_path: Path) -> None:
    root = await build_collection(tmp_path)
    async with httpx.AsyncClient(transport=WarcReplayTransport(root)) as client:
        r = await client.get("http://news.example/old")
        assert r.status_code == 301 and r.headers["location"] == "https://news.example/a"
        followed = await client.get("http://news.example/old", follow_redirects=True)
    assert followed.status_code == 200 and followed.content == PAGE
    assert [h.status_code for h in followed.history] == [301]


async def test_not_modified_revisit_replays_the_original(tmp_path: Path) -> None:
    root = await build_collection(tmp_path)
    async with httpx.AsyncClient(transport=WarcReplayTransport(root)) as client:
        r = await client.get("https://news.example/b")
    assert r.status_code == 200 and r.content == b"version one"


async def test_missing_url_is_a_connect_error_or_a_404(tmp_path: Path) -> None:
    root = await build_collection(tmp_path)
    async with httpx.AsyncClient(transport=WarcReplayTransport(root)) as client:
        with pytest.raises(httpx.ConnectError, match=r"not in the archive: https://news\.example/none") as info:
            await client.get("https://news.example/none")
        with pytest.raises(NotArchived):
            await client.post("https://news.example/a")
    assert isinstance(info.value, NotArchived) and info.value.url == "https://news.example/none"
    async with httpx.AsyncClient(transport=WarcReplayTransport(root, missing="404")) as client:
        r = await client.get("https://news.example/none")
    assert r.status_code == 404


async def test_sync_transport_and_head(tmp_path: Path) -> None:
    root = await build_collection(tmp_path)

    def fetch() -> tuple[bytes, bytes]:
        with httpx.Client(transport=WarcReplaySyncTransport(root / "warcs")) as client:
            return client.get("https://news.example/b").content, client.head("https://news.example/a").content
    assert fetch() == (b"version one", b"")


async def test_stale_or_missing_index_is_rebuilt_from_the_warc(tmp_path: Path) -> None:
    root = await build_collection(tmp_path)
    for p in (root / "indexes").iterdir():
        p.write_text("")                                   # an empty index…
        old = time.time() - 3600
        os.utime(p, (old, old))                            # …older than its WARC is not trusted
    t = WarcReplayTransport(root)
    async with httpx.AsyncClient(transport=t) as client:
        assert (await client.get("https://news.example/a")).content == PAGE
    assert t.statistics().served == 1 and t.statistics().revisits_resolved == 1


def _foreign_chunked(path: Path) -> None:
    """A response as other tools store it: real chunk framing in the block, header kept."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter
    body = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=True)
        head = StatusAndHeaders("200 OK", [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")],
                                protocol="HTTP/1.1")
        w.write_record(w.create_warc_record("http://foreign.example/", "response", payload=BytesIO(body),
                                            length=len(body), http_headers=head))


def test_foreign_chunked_records_are_dechunked(tmp_path: Path) -> None:
    _foreign_chunked(tmp_path / "foreign.warc.gz")
    with httpx.Client(transport=WarcReplaySyncTransport([tmp_path / "foreign.warc.gz"])) as client:
        r = client.get("http://foreign.example/")
    assert r.content == b"hello world" and "transfer-encoding" not in r.headers


def test_dechunk_rejects_bad_framing() -> None:
    assert dechunk(b"3\r\nab\r\n0\r\n\r\n") is None
    assert dechunk(b"zz\r\n") is None
    assert dechunk(b"0\r\n\r\n") == b""


@pytest.mark.shared_data
def test_url_agnostic_revisit_across_files(shared_data: Path) -> None:
    files = [shared_data / "warcs" / "webrecorder__pywb" / n
             for n in ("example-url-agnostic-orig.warc.gz", "example-url-agnostic-revisit.warc.gz")]
    with httpx.Client(transport=WarcReplaySyncTransport(files)) as client:
        r = client.get("http://test@example.com/")
    assert r.status_code == 200 and b"Example Domain" in r.content


@pytest.mark.shared_data
def test_every_real_capture_replays_or_fails_cleanly(shared_data: Path) -> None:
    t = WarcReplaySyncTransport(shared_data / "warcs", at=datetime(2030, 1, 1, tzinfo=UTC))
    urls = {c.entry.url for caps in t.index.by_key.values() for c in caps if c.entry.url.startswith("http")}
    served = 0
    with httpx.Client(transport=t) as client:
        for url in sorted(urls)[:300]:
            try:
                r = client.get(url)
            except (httpx.ConnectError, httpx.DecodingError):
                continue
            served += 1
            assert 100 <= r.status_code < 600
    assert served > 200
