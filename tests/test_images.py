"""Image headers built byte by byte (struct/zlib): no fixture files, every format's size field tested."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.images import ImageInfo, image_info


def png(w: int, h: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    idat = zlib.compress(b"\x00" * (w * 4 + 1) * min(h, 2))
    return (b"\x89PNG\r\n\x1a\n" + chunk + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
            + struct.pack(">I", len(idat)) + b"IDAT" + idat)


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(w: int, h: int, *, sof: int = 0xC0, app_sizes: tuple[int, ...] = (16,), fill: bool = False) -> bytes:
    out = b"\xff\xd8"
    out += segment(0xE0, b"JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * max(0, app_sizes[0] - 14))
    for n in app_sizes[1:]:
        out += segment(0xE1, b"Exif\x00\x00" + b"\xff" * n)   # 0xFF bytes inside a segment must not confuse
    out += segment(0xDB, b"\x00" + bytes(64))                  # quantisation table
    out += segment(0xC4, b"\x00" + bytes(16) + b"\x00")        # DHT: in the SOF range but not a frame
    if fill:
        out += b"\xff\xff"
    out += segment(sof, struct.pack(">BHHB", 8, h, w, 3) + bytes(9))
    out += segment(0xDA, b"\x03" + bytes(9)) + b"\x12\x34" + b"\xff\xd9"
    return out


def gif(w: int, h: int) -> bytes:
    return b"GIF89a" + struct.pack("<HHBBB", w, h, 0, 0, 0) + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


def riff(chunk: bytes, data: bytes) -> bytes:
    body = b"WEBP" + chunk + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8(w: int, h: int) -> bytes:
    return riff(b"VP8 ", b"\x30\x01\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", w, h) + bytes(10))


def webp_vp8l(w: int, h: int) -> bytes:
    bits = (w - 1) | (h - 1) << 14
    return riff(b"VP8L", b"\x2f" + struct.pack("<I", bits) + bytes(8))


def webp_vp8x(w: int, h: int) -> bytes:
    return riff(b"VP8X", b"\x10\x00\x00\x00" + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little"))


def bmp(w: int, h: int, *, core: bool = False) -> bytes:
    if core:
        dib = struct.pack("<IHHHH", 12, w, h, 1, 24)
    else:
        dib = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + len(dib), 0, 0, 14 + len(dib)) + dib


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full(kind: bytes, payload: bytes, version: int = 0, flags: int = 0) -> bytes:
    return box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def heif(brand: bytes, sizes: list[tuple[int, int]], primary: int, assoc: dict[int, list[int]]) -> bytes:
    ftyp = box(b"ftyp", brand + b"\x00\x00\x00\x00" + b"mif1" + brand)
    ispes = b"".join(full(b"ispe", struct.pack(">II", w, h)) for w, h in sizes)
    ipco = box(b"ipco", full(b"pixi", b"\x03\x08\x08\x08") + ispes)
    entries = b"".join(struct.pack(">HB", item, len(idx)) + bytes(0x80 | i for i in idx) for item, idx in assoc.items())
    ipma = full(b"ipma", struct.pack(">I", len(assoc)) + entries)
    meta = full(b"meta", full(b"hdlr", bytes(4) + b"pict" + bytes(13)) + full(b"pitm", struct.pack(">H", primary))
                + box(b"iprp", ipco + ipma))
    return ftyp + meta + box(b"mdat", b"\x00" * 16)


CASES = [
    (png(640, 480), ImageInfo("image/png", 640, 480)),
    (png(1, 65535), ImageInfo("image/png", 1, 65535)),
    (jpeg(1280, 720), ImageInfo("image/jpeg", 1280, 720)),
    (jpeg(2000, 1040, sof=0xC2, app_sizes=(16, 5000, 300)), ImageInfo("image/jpeg", 2000, 1040)),
    (jpeg(550, 366, fill=True), ImageInfo("image/jpeg", 550, 366)),
    (jpeg(100, 0), ImageInfo("image/jpeg")),                         # height deferred to a DNL segment
    (gif(550, 317), ImageInfo("image/gif", 550, 317)),
    (webp_vp8(1200, 720), ImageInfo("image/webp", 1200, 720)),
    (webp_vp8l(16383, 1), ImageInfo("image/webp", 16383, 1)),
    (webp_vp8x(1 << 20, 3000), ImageInfo("image/webp", 1 << 20, 3000)),
    (bmp(800, -600), ImageInfo("image/bmp", 800, 600)),              # top-down rows
    (bmp(64, 32, core=True), ImageInfo("image/bmp", 64, 32)),
    (heif(b"avif", [(64, 64), (1920, 1080)], 1, {1: [1, 3], 2: [2]}), ImageInfo("image/avif", 1920, 1080)),
    (heif(b"heic", [(4032, 3024)], 7, {7: [2]}), ImageInfo("image/heic", 4032, 3024)),
    (heif(b"mif1", [(320, 240)], 1, {}), ImageInfo("image/heif", 320, 240)),  # no association: first ispe
    (b"\x00\x00\x01\x00\x01\x00\x20\x00\x00\x00\x01\x00\x20\x00" + bytes(8), ImageInfo("image/x-icon", 32, 256)),
    (b"II*\x00\x08\x00\x00\x00", ImageInfo("image/tiff")),
    (b'<?xml version="1.0"?>\n<!-- logo -->\n<svg xmlns="http://www.w3.org/2000/svg" width="10"/>',
     ImageInfo("image/svg+xml")),
    (b"\xef\xbb\xbf<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"x\">\n<svg>", ImageInfo("image/svg+xml")),
]


@pytest.mark.parametrize(("data", "expected"), CASES, ids=[f"{c[1].content_type}-{i}" for i, c in enumerate(CASES)])
def test_header_sizes(data: bytes, expected: ImageInfo) -> None:
    assert image_info(data) == expected


@pytest.mark.parametrize("data", [
    b"", b"<!doctype html><html><body>Not found</body></html>", b"%PDF-1.7\n", b"BMW is a car",
    b"BM" + bytes(30), b"{\"error\": 404}", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",  # an MP4 video
    b"RIFF\x24\x00\x00\x00WAVEfmt ", b"<html><body><svg></svg></body></html>",
])
def test_not_images(data: bytes) -> None:
    assert image_info(data) is None


@pytest.mark.parametrize("data", [png(10, 10), jpeg(10, 10), gif(10, 10), webp_vp8(10, 10), webp_vp8l(10, 10),
                                  webp_vp8x(10, 10), bmp(10, 10), heif(b"avif", [(10, 10)], 1, {1: [2]})])
def test_truncated_headers_keep_the_type(data: bytes) -> None:
    full_info = image_info(data)
    assert full_info is not None and full_info.size == (10, 10)
    for cut in range(1, len(data)):
        info = image_info(data[:cut])
        assert info is None or info.content_type == full_info.content_type
        assert info is None or info.size in (None, (10, 10))


def test_accepts_memoryview_and_bytearray() -> None:
    assert image_info(bytearray(png(3, 4))) == ImageInfo("image/png", 3, 4)
    assert image_info(memoryview(gif(3, 4))) == ImageInfo("image/gif", 3, 4)  # type: ignore[arg-type]


_prefixes = st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBPVP8 ",
                             b"RIFF\x00\x00\x00\x00WEBPVP8L", b"RIFF\x00\x00\x00\x00WEBPVP8X", b"BM",
                             b"\x00\x00\x00\x10ftypavif", b"\x00\x00\x01\x00", b"<svg"])


@settings(max_examples=500, deadline=None)
@given(_prefixes, st.binary(max_size=300))
def test_garbage_never_raises(prefix: bytes, tail: bytes) -> None:
    info = image_info(prefix + tail)
    if info is not None:
        assert info.content_type.startswith("image/")
        assert (info.width is None) == (info.height is None)
        assert info.width is None or (info.width > 0 and info.height is not None and info.height > 0)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(CASES), st.integers(0, 400), st.binary(min_size=1, max_size=8))
def test_corrupted_real_headers_never_raise(case: tuple[bytes, ImageInfo], at: int, junk: bytes) -> None:
    data = bytearray(case[0])
    at %= len(data)
    data[at:at + len(junk)] = junk
    image_info(bytes(data))
