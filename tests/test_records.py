"""Golden bytes of every record type, and the digests checked independently of our code."""

from __future__ import annotations

import base64
import doctest
import hashlib
from datetime import UTC, datetime
from io import BytesIO

import pytest
from warcio.archiveiterator import ArchiveIterator

import archive.records
from archive.exchange import CapturedResponse
from archive.records import (
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    CaptureRef,
    capture_metadata,
    capture_records,
    format_warc_fields,
    http_response_head,
    metadata_record,
    revisit_record,
    warc_date,
    warcinfo_fields,
    warcinfo_record,
)
from tests.warcfixtures import DATE, fixed_ids, make_exchange

RESPONSE = (
    b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
    b"WARC-Date: 2024-05-01T12:00:00.123456Z\r\nWARC-Target-URI: http://example.com/page?a=1\r\n"
    b"WARC-IP-Address: 93.184.215.14\r\nWARC-Warcinfo-ID: <urn:uuid:info>\r\n"
    b"WARC-Payload-Digest: sha1:O57NSEYVH37NN5YSIJIQGZF2VAMOK4GK\r\n"
    b"WARC-Block-Digest: sha1:KEIDJU73O56HPL4U4TLWXWT3J6GXLIVV\r\n"
    b"Content-Type: application/http; msgtype=response\r\nContent-Length: 97\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 18\r\n\r\n"
    b"<html>hello</html>\r\n\r\n"
)
REQUEST = (
    b"WARC/1.1\r\nWARC-Type: request\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
    b"WARC-Date: 2024-05-01T12:00:00.123456Z\r\nWARC-Target-URI: http://example.com/page?a=1\r\n"
    b"WARC-IP-Address: 93.184.215.14\r\nWARC-Warcinfo-ID: <urn:uuid:info>\r\n"
    b"WARC-Concurrent-To: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
    b"WARC-Payload-Digest: sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\r\n"
    b"WARC-Block-Digest: sha1:CFCKB4SLCVKJA3M2VQS64POBA26DPHRU\r\n"
    b"Content-Type: application/http; msgtype=request\r\nContent-Length: 143\r\n\r\n"
    b"GET /page?a=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
    b"User-Agent: citecrawl/0.1.0 (+https://example.org/)\r\n\r\n\r\n\r\n"
)
REVISIT_IDENTICAL = (
    b"WARC/1.1\r\nWARC-Type: revisit\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000003>\r\n"
    b"WARC-Date: 2024-05-01T12:00:00.123456Z\r\nWARC-Target-URI: http://example.com/page?a=1\r\n"
    b"WARC-IP-Address: 93.184.215.14\r\n"
    b"WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest\r\n"
    b"WARC-Refers-To: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
    b"WARC-Refers-To-Target-URI: http://example.com/page?a=1\r\n"
    b"WARC-Refers-To-Date: 2024-05-01T12:00:00.123456Z\r\n"
    b"WARC-Payload-Digest: sha1:O57NSEYVH37NN5YSIJIQGZF2VAMOK4GK\r\n"
    b"WARC-Block-Digest: sha1:LET2USIJAF356S2Y4B7MZUMVLO4VWSGF\r\n"
    b"Content-Type: application/http; msgtype=response\r\nContent-Length: 79\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 18\r\n\r\n\r\n\r\n"
)
REVISIT_NOT_MODIFIED = (
    b"WARC/1.1\r\nWARC-Type: revisit\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000005>\r\n"
    b"WARC-Date: 2024-05-01T12:00:00.123456Z\r\nWARC-Target-URI: http://example.com/page?a=1\r\n"
    b"WARC-IP-Address: 93.184.215.14\r\n"
    b"WARC-Profile: http://netpreserve.org/warc/1.1/revisit/server-not-modified\r\n"
    b"WARC-Refers-To: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
    b"WARC-Refers-To-Target-URI: http://example.com/page?a=1\r\n"
    b"WARC-Refers-To-Date: 2024-05-01T12:00:00.123456Z\r\n"
    b"WARC-Payload-Digest: sha1:O57NSEYVH37NN5YSIJIQGZF2VAMOK4GK\r\n"
    b"WARC-Block-Digest: sha1:GSDW3DROTXJBB6ZKIBS7VTABN25VX4ZU\r\n"
    b"Content-Type: application/http; msgtype=response\r\nContent-Length: 42\r\n\r\n"
    b'HTTP/1.1 304 Not Modified\r\nETag: "abc"\r\n\r\n\r\n\r\n'
)
METADATA = (
    b"WARC/1.1\r\nWARC-Type: metadata\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000007>\r\n"
    b"WARC-Date: 2024-05-01T12:00:00.123456Z\r\nWARC-Target-URI: http://example.com/page?a=1\r\n"
    b"WARC-Concurrent-To: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
    b"WARC-Block-Digest: sha1:RPXSBNDKGDWKJ6GHY2Z34ZJOXGX3Q3C6\r\n"
    b"Content-Type: application/warc-fields\r\nContent-Length: 144\r\n\r\n"
    b"citedBy: corpus/000.txt originalUrl\r\nredirect: 301 https://example.com/page\r\nattempt: 1 200 OK\r\n"
    b"robots: allowed\r\nfetchTimeMs: 500\r\nttfbMs: 250\r\n\r\n\r\n"
)
WARCINFO = (
    b"WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000008>\r\n"
    b"WARC-Date: 2024-05-01T12:00:00.123456Z\r\nWARC-Filename: x.warc.gz\r\n"
    b"WARC-Block-Digest: sha1:QKMUASTXC24LLLMADWE3AZG4M4J3TJKG\r\n"
    b"Content-Type: application/warc-fields\r\nContent-Length: 526\r\n\r\n"
    b"software: citecrawl/0.1.0\r\nformat: WARC File Format 1.1\r\n"
    b"conformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
    b"hostname: box\r\noperator: Ops <ops@example.org>\r\n"
    b"http-header-user-agent: citecrawl/0.1.0 (+https://example.org/)\r\nrobots: classic\r\n"
    b"http-header-rewrite: Transfer-Encoding renamed X-Crawler-Transfer-Encoding (bodies are stored de-chunked); "
    b"Content-Length states the stored length, a disagreeing original kept as X-Crawler-Content-Length\r\n"
    b'configuration: {"warc":{"gzip_level":6}}\r\n\r\n\r\n'
)


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def test_golden_bytes_of_every_record_type() -> None:
    ids = fixed_ids()
    ex = make_exchange()
    pair = capture_records(ex, new_id=ids, warcinfo_id="<urn:uuid:info>")
    assert pair.response.to_bytes() == RESPONSE
    assert pair.request.to_bytes() == REQUEST
    ref = CaptureRef(ex.url, pair.response.record_id, "2024-05-01T12:00:00.123456Z",
                     "sha1:O57NSEYVH37NN5YSIJIQGZF2VAMOK4GK")
    assert revisit_record(make_exchange(), profile=PROFILE_IDENTICAL, refers_to=ref,
                          new_id=ids).response.to_bytes() == REVISIT_IDENTICAL
    not_modified = make_exchange(body=b"", status=304, reason="Not Modified", headers=((b"ETag", b'"abc"'),))
    assert revisit_record(not_modified, profile=PROFILE_NOT_MODIFIED, refers_to=ref,
                          new_id=ids).response.to_bytes() == REVISIT_NOT_MODIFIED
    fields = capture_metadata(citations=[("corpus/000.txt", "originalUrl")],
                              redirects=[(301, "https://example.com/page")], attempts=["1 200 OK"],
                              robots="allowed", timings=ex.timings)
    assert metadata_record(ex.url, fields, date=DATE, record_id=ids(),
                           concurrent_to=pair.response.record_id).to_bytes() == METADATA
    info = warcinfo_fields(software="citecrawl/0.1.0", hostname="box", operator="Ops <ops@example.org>",
                           user_agent="citecrawl/0.1.0 (+https://example.org/)",
                           configuration={"warc": {"gzip_level": 6}})
    assert warcinfo_record("x.warc.gz", info, date=DATE, record_id=ids()).to_bytes() == WARCINFO


@pytest.mark.parametrize("golden", [RESPONSE, REQUEST, REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED, METADATA, WARCINFO])
def test_golden_digests_and_lengths_are_right(golden: bytes) -> None:
    head, _, rest = golden.partition(b"\r\n\r\n")
    fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
    block = rest[: int(fields["Content-Length"])]
    assert rest[len(block):] == b"\r\n\r\n"
    assert fields["WARC-Block-Digest"] == sha1_b32(block)
    if fields["WARC-Type"] in ("response", "request"):
        assert fields["WARC-Payload-Digest"] == sha1_b32(block.partition(b"\r\n\r\n")[2])
    assert "<" not in fields.get("WARC-Target-URI", "")


def test_request_and_response_share_date_and_are_linked() -> None:
    pair = capture_records(make_exchange(), new_id=fixed_ids())
    assert pair.request.header("WARC-Date") == pair.response.header("WARC-Date")
    assert pair.request.header("WARC-Concurrent-To") == pair.response.record_id


def test_payload_digest_is_over_the_body_as_received_gzip_kept() -> None:
    import gzip
    body = gzip.compress(b"<p>hi</p>" * 50, mtime=0)
    ex = make_exchange(body=body, headers=((b"Content-Encoding", b"gzip"), (b"Content-Length", str(len(body)).encode())))
    rec = capture_records(ex, new_id=fixed_ids()).response
    assert rec.header("WARC-Payload-Digest") == sha1_b32(body)


def test_sha256_is_selectable() -> None:
    rec = capture_records(make_exchange(), new_id=fixed_ids(), algorithm="sha256").response
    want = "sha256:" + base64.b32encode(hashlib.sha256(b"<html>hello</html>").digest()).decode()
    assert rec.header("WARC-Payload-Digest") == want
    assert (rec.header("WARC-Block-Digest") or "").startswith("sha256:")


def test_chunked_response_is_stored_with_renamed_header_and_true_length() -> None:
    body = b"a\r\n0123456789\r\n0\r\n\r\n"      # a de-chunked body that looks like chunk framing
    ex = make_exchange(body=body, headers=((b"Content-Type", b"text/plain"), (b"Transfer-Encoding", b"chunked")))
    rec = capture_records(ex, new_id=fixed_ids()).response
    head = rec.block_head.decode()
    assert "X-Crawler-Transfer-Encoding: chunked\r\n" in head
    assert "\r\nTransfer-Encoding" not in head
    assert f"Content-Length: {len(body)}\r\n" in head
    # warcio reads the body back unharmed (it would "de-chunk" it to garbage with the original header)
    [parsed] = [r.content_stream().read() for r in ArchiveIterator(BytesIO(rec.to_bytes()))]
    assert parsed == body


def test_truncated_response_keeps_original_length_aside() -> None:
    ex = make_exchange(body=b"12345", headers=((b"Content-Length", b"999"),), truncated="length")
    rec = capture_records(ex, new_id=fixed_ids()).response
    assert rec.header("WARC-Truncated") == "length"
    assert b"X-Crawler-Content-Length: 999\r\nContent-Length: 5\r\n" in rec.block_head


def test_bodiless_answers_are_left_as_received() -> None:
    resp = CapturedResponse("HTTP/1.1", 304, "Not Modified", ((b"Content-Length", b"1234"),))
    assert http_response_head(resp, body_length=0) == b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n"
    ok = CapturedResponse("HTTP/1.1", 200, "OK", ((b"Content-Length", b"1234"),))
    assert b"Content-Length: 1234" in http_response_head(ok, body_length=0, method="HEAD")


def test_http2_is_stored_in_http11_form_with_protocol_field() -> None:
    ex = make_exchange(http_version="HTTP/2", reason="")
    pair = capture_records(ex, new_id=fixed_ids())
    assert pair.response.block_head.startswith(b"HTTP/1.1 200\r\n")
    assert pair.request.block_head.startswith(b"GET /page?a=1 HTTP/1.1\r\n")
    assert pair.response.header("WARC-Protocol") == "h2"


def test_duplicate_headers_keep_order_and_case() -> None:
    headers = ((b"Set-Cookie", b"a=1"), (b"X-Mixed-CASE", b"v"), (b"Set-Cookie", b"b=2"))
    rec = capture_records(make_exchange(headers=headers), new_id=fixed_ids()).response
    assert b"Set-Cookie: a=1\r\nX-Mixed-CASE: v\r\nSet-Cookie: b=2\r\n" in rec.block_head


def test_identical_revisit_refuses_a_different_payload() -> None:
    ref = CaptureRef("http://example.com/page?a=1", "<urn:uuid:x>", "2024-01-01T00:00:00Z", "sha1:AAAA")
    with pytest.raises(ValueError, match="different payload"):
        revisit_record(make_exchange(), profile=PROFILE_IDENTICAL, refers_to=ref, new_id=fixed_ids())


def test_header_injection_is_refused() -> None:
    with pytest.raises(ValueError):
        format_warc_fields([("bad name", "x")])
    with pytest.raises(ValueError):
        capture_records(make_exchange(headers=((b"X", b"a\r\nInjected: 1"),)), new_id=fixed_ids())
    # values with line breaks are folded, never split into new fields
    assert format_warc_fields([("note", "a\r\nb")]) == b"note: a b\r\n"


def test_warc_date_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError):
        warc_date(datetime(2024, 1, 1))
    assert warc_date(datetime(2024, 1, 1, tzinfo=UTC)) == "2024-01-01T00:00:00.000000Z"


def test_doctests() -> None:
    assert doctest.testmod(archive.records).failed == 0
