"""Content-Encoding decoding: gzip, deflate (zlib and raw), br, stacked, bombs capped, invalid data."""

from __future__ import annotations

import doctest
import gzip
import zlib

import pytest

import archive.content
from archive.content import (
    ContentDecodingError,
    DecodedTooLarge,
    UnsupportedEncoding,
    decode_content,
    parse_content_encoding,
)

PAGE = b"<html><body>" + b"<p>hello world</p>" * 2000 + b"</body></html>"


def test_doctests() -> None:
    assert doctest.testmod(archive.content).failed == 0


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize(("encoded", "header"), [
    (PAGE, None), (PAGE, "identity"), (gzip.compress(PAGE), "gzip"), (gzip.compress(PAGE), "x-gzip"),
    (zlib.compress(PAGE), "deflate"), (raw_deflate(PAGE), "deflate"), (gzip.compress(PAGE), "GZIP"),
])
def test_single_encodings(encoded: bytes, header: str | None) -> None:
    assert decode_content(encoded, header, max_bytes=10**6).data == PAGE


def test_brotli() -> None:
    brotli = pytest.importorskip("brotli")
    out = decode_content(brotli.compress(PAGE), "br", max_bytes=10**6)
    assert out.data == PAGE and out.applied == ("br",) and out.complete


def test_stacked_encodings_are_undone_last_first() -> None:
    encoded = zlib.compress(gzip.compress(PAGE))
    out = decode_content(encoded, "gzip, deflate", max_bytes=10**6)
    assert out.data == PAGE and out.applied == ("deflate", "gzip")
    # the same as two header lines
    assert decode_content(encoded, ["gzip", "deflate"], max_bytes=10**6).data == PAGE


def test_gzip_bomb_is_capped_while_streaming() -> None:
    bomb = gzip.compress(b"\0" * 50_000_000)  # ~50 KB on the wire
    with pytest.raises(DecodedTooLarge) as info:
        decode_content(bomb, "gzip", max_bytes=1_000_000)
    assert info.value.limit == 1_000_000 and info.value.encoding == "gzip"


def test_brotli_bomb_is_capped() -> None:
    brotli = pytest.importorskip("brotli")
    bomb = brotli.compress(b"\0" * 50_000_000)  # a few hundred bytes
    assert len(bomb) < 1000
    with pytest.raises(DecodedTooLarge):
        decode_content(bomb, "br", max_bytes=1_000_000)


def test_stacked_bomb_is_capped_at_each_stage() -> None:
    bomb = gzip.compress(gzip.compress(b"a" * 20_000_000))
    with pytest.raises(DecodedTooLarge):
        decode_content(bomb, "gzip, gzip", max_bytes=500_000)


def test_exact_cap_is_allowed() -> None:
    assert len(decode_content(gzip.compress(b"x" * 1000), "gzip", max_bytes=1000).data) == 1000
    with pytest.raises(DecodedTooLarge):
        decode_content(b"x" * 1001, None, max_bytes=1000)


def test_multi_member_gzip() -> None:
    out = decode_content(gzip.compress(b"first ") + gzip.compress(b"second"), "gzip", max_bytes=100)
    assert out.data == b"first second"


def test_truncated_stream_keeps_what_was_decoded() -> None:
    encoded = gzip.compress(PAGE)
    out = decode_content(encoded[: len(encoded) // 2], "gzip", max_bytes=10**6)
    assert not out.complete and 0 < len(out.data) < len(PAGE) and PAGE.startswith(out.data)


@pytest.mark.parametrize(("body", "header"), [
    (b"\x00\x01garbage that is not gzip", "gzip"),
    (b"\x1f\x8b\x08\x00garbage", "gzip"),
    (b"\x00\x01\x02\x03 not deflate", "deflate"),
])
def test_invalid_data_is_our_error(body: bytes, header: str) -> None:
    with pytest.raises(ContentDecodingError, match=header):
        decode_content(body, header, max_bytes=1000)


def test_invalid_brotli() -> None:
    pytest.importorskip("brotli")
    with pytest.raises(ContentDecodingError, match="br"):
        decode_content(b"\xff\xff\xff not brotli at all", "br", max_bytes=1000)


@pytest.mark.parametrize("header", ["compress", "zstd", "sdch"])
def test_unsupported(header: str) -> None:
    with pytest.raises(UnsupportedEncoding):
        decode_content(b"abc", header, max_bytes=1000)


def test_plain_markup_labelled_gzip_is_taken_as_is() -> None:
    out = decode_content(b"  <html><p>not compressed</p>", "gzip", max_bytes=1000)
    assert out.data == b"  <html><p>not compressed</p>" and out.applied == ()


def test_parse_content_encoding() -> None:
    assert parse_content_encoding(" gzip ,identity, BR") == ("gzip", "br")
    assert parse_content_encoding("") == ()
