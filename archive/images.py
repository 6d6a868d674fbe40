"""Image type and pixel size from the first bytes of a file, without decoding it.

A cited image is "the same" when it is still an image of the cited width and
height. Both are in the header of every common format, so there is no need for
Pillow or a full decode (slow, and a decompression-bomb risk on untrusted bytes):
PNG (IHDR), JPEG (the first SOFn segment, after APPn/EXIF/ICC segments), GIF
(logical screen), WebP (VP8, VP8L and VP8X chunks), BMP (DIB header), ICO (first
entry), AVIF/HEIF (the primary item's ``ispe`` property), and SVG (type only: its
size is in user units, not pixels). TIFF is recognised by type only.

:func:`image_info` never raises on bad input: bytes that are not an image give
``None``; a recognised but truncated or inconsistent header gives the type with
``width``/``height`` None. Pass at least :data:`HEADER_BYTES` (more for JPEGs with
huge EXIF blocks, or the whole body for HEIF files whose ``meta`` box follows the
media data).

>>> import struct, zlib
>>> png = b"\\x89PNG\\r\\n\\x1a\\n" + struct.pack(">I4sIIBBBBB", 13, b"IHDR", 640, 480, 8, 2, 0, 0, 0)
>>> image_info(png)
ImageInfo(content_type='image/png', width=640, height=480)
>>> image_info(b"<!doctype html><title>Not found</title>") is None
True
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["HEADER_BYTES", "ImageInfo", "image_info"]

#: bytes to hand to :func:`image_info` for a reliable answer on ordinary files
HEADER_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """The sniffed MIME type and, when the header states it, the pixel size."""

    content_type: str
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> tuple[int, int] | None:
        return (self.width, self.height) if self.width is not None and self.height is not None else None


def image_info(head: bytes) -> ImageInfo | None:
    """Type and size of the image whose first bytes are ``head``; None when it is not an image."""
    try:
        return _sniff(bytes(head))
    except (struct.error, IndexError, ValueError):  # pragma: no cover - parsers check bounds first
        return None


def _sniff(b: bytes) -> ImageInfo | None:
    if b.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(b)
    if b.startswith(b"\xff\xd8\xff"):
        return _jpeg(b)
    if b[:6] in (b"GIF87a", b"GIF89a"):
        return _sized("image/gif", b, 6, "<HH")
    if b.startswith(b"RIFF") and b[8:12] == b"WEBP":
        return _webp(b)
    if b.startswith(b"BM"):
        return _bmp(b)
    if b[4:8] == b"ftyp":
        return _isobmff(b)
    if b[:4] in (b"II*\x00", b"MM\x00*"):
        return ImageInfo("image/tiff")
    if b[:4] == b"\x00\x00\x01\x00" and len(b) >= 22 and 0 < _u16le(b, 4) <= 256 and b[9] == 0:
        return ImageInfo("image/x-icon", b[6] or 256, b[7] or 256)
    if _SVG.match(b[:4096].lstrip(b"\xef\xbb\xbf")):
        return ImageInfo("image/svg+xml")
    return None


def _u16le(b: bytes, at: int) -> int:
    return int(b[at]) | int(b[at + 1]) << 8


def _sized(ctype: str, b: bytes, at: int, fmt: str) -> ImageInfo:
    if len(b) < at + struct.calcsize(fmt):
        return ImageInfo(ctype)
    w, h = struct.unpack_from(fmt, b, at)
    return _checked(ctype, w, h)


def _checked(ctype: str, w: int, h: int) -> ImageInfo:
    """A zero dimension is "not stated" (a JPEG may defer its height to a DNL segment)."""
    return ImageInfo(ctype, w, h) if w > 0 and h > 0 else ImageInfo(ctype)


def _png(b: bytes) -> ImageInfo:
    if b[12:16] != b"IHDR":
        return ImageInfo("image/png")
    return _sized("image/png", b, 16, ">II")


# SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG extension) and CC (DAC) share the range but do not.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(b: bytes) -> ImageInfo:
    i, n = 2, len(b)
    while i < n:
        if b[i] != 0xFF:
            i += 1                                  # tolerate junk between segments, as decoders do
            continue
        while i < n and b[i] == 0xFF:               # fill bytes
            i += 1
        if i >= n:
            break
        marker = b[i]
        i += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            continue                                # standalone markers: TEM, RSTn, SOI
        if marker in (0xD9, 0xDA) or i + 2 > n:
            break                                   # end of image or start of scan: no frame header
        length = b[i] << 8 | b[i + 1]
        if length < 2:
            break
        if marker in _SOF:                          # length, precision, then height before width
            if i + 7 > n:
                break
            h, w = struct.unpack_from(">HH", b, i + 3)
            return _checked("image/jpeg", w, h)
        i += length
    return ImageInfo("image/jpeg")


def _webp(b: bytes) -> ImageInfo:
    ctype, chunk = "image/webp", b[12:16]
    if chunk == b"VP8 " and len(b) >= 30 and b[23:26] == b"\x9d\x01\x2a":
        return _checked(ctype, _u16le(b, 26) & 0x3FFF, _u16le(b, 28) & 0x3FFF)
    if chunk == b"VP8L" and len(b) >= 25 and b[20] == 0x2F:
        bits = struct.unpack_from("<I", b, 21)[0]
        return ImageInfo(ctype, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X" and len(b) >= 30:
        w = int.from_bytes(b[24:27], "little") + 1
        h = int.from_bytes(b[27:30], "little") + 1
        return ImageInfo(ctype, w, h)
    return ImageInfo(ctype)


_DIB_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def _bmp(b: bytes) -> ImageInfo | None:
    if len(b) < 18:
        return None                                  # "BM" alone is too weak a signature
    dib = struct.unpack_from("<I", b, 14)[0]
    if dib not in _DIB_SIZES:
        return None
    if dib == 12:
        return _sized("image/bmp", b, 18, "<HH")
    if len(b) < 26:
        return ImageInfo("image/bmp")
    w, h = struct.unpack_from("<ii", b, 18)
    return _checked("image/bmp", abs(w), abs(h))     # negative height: rows stored top-down


_AVIF = frozenset({b"avif", b"avis"})
_HEIC = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF = frozenset({b"mif1", b"msf1", b"mif2"})


def _isobmff(b: bytes) -> ImageInfo | None:
    boxes = list(_boxes(b, 0, len(b)))
    if not boxes or boxes[0][0] != b"ftyp":
        return None
    _, start, end = boxes[0]
    brands = {b[k:k + 4] for k in range(start, min(end, len(b)) - 3, 4) if k != start + 4}
    if brands & _AVIF:
        ctype = "image/avif"
    elif brands & _HEIC:
        ctype = "image/heic"
    elif brands & _HEIF:
        ctype = "image/heif"
    else:
        return None                                  # an MP4/QuickTime video, not a still image
    for kind, s, e in boxes[1:]:
        if kind == b"meta":
            size = _primary_size(b, s + 4, e)        # meta is a full box: skip version and flags
            if size:
                return ImageInfo(ctype, *size)
    return ImageInfo(ctype)


def _boxes(b: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """ISO BMFF boxes in ``b[start:end]`` as (type, payload start, payload end), stopping at a bad size."""
    i = start
    end = min(end, len(b))
    while i + 8 <= end:
        size, kind = struct.unpack_from(">I4s", b, i)
        head = 8
        if size == 1:
            if i + 16 > end:
                return
            size, head = struct.unpack_from(">Q", b, i + 8)[0], 16
        elif size == 0:
            size = end - i
        if size < head:
            return
        yield kind, i + head, min(i + size, end)
        i += size


def _primary_size(b: bytes, start: int, end: int) -> tuple[int, int] | None:
    primary: int | None = None
    props: list[tuple[bytes, int, int]] = []
    assoc: dict[int, list[int]] = {}
    for kind, s, e in _boxes(b, start, end):
        if kind == b"pitm" and e - s >= 6:
            primary = struct.unpack_from(">H", b, s + 4)[0] if b[s] == 0 else (
                struct.unpack_from(">I", b, s + 4)[0] if e - s >= 8 else None)
        elif kind == b"iprp":
            for k2, s2, e2 in _boxes(b, s, e):
                if k2 == b"ipco":
                    props = list(_boxes(b, s2, e2))
                elif k2 == b"ipma":
                    assoc = _ipma(b, s2, e2)
    sizes = {n: (struct.unpack_from(">II", b, s + 4)) for n, (k, s, e) in enumerate(props, 1)
             if k == b"ispe" and e - s >= 12}
    for n in assoc.get(primary, []) if primary is not None else []:
        if n in sizes and all(sizes[n]):
            return sizes[n]
    return next((wh for wh in sizes.values() if all(wh)), None)


def _ipma(b: bytes, s: int, e: int) -> dict[int, list[int]]:
    if e - s < 8:
        return {}
    version, flags = b[s], int.from_bytes(b[s + 1:s + 4], "big")
    count = struct.unpack_from(">I", b, s + 4)[0]
    i = s + 8
    out: dict[int, list[int]] = {}
    for _ in range(count):
        id_len = 2 if version < 1 else 4
        if i + id_len + 1 > e:
            break
        item = int.from_bytes(b[i:i + id_len], "big")
        n = b[i + id_len]
        i += id_len + 1
        wide = flags & 1
        step = 2 if wide else 1
        if i + n * step > e:
            break
        out[item] = [(int.from_bytes(b[i + k * step:i + (k + 1) * step], "big") & (0x7FFF if wide else 0x7F))
                     for k in range(n)]
        i += n * step
    return out


# XML declaration, comments, doctype and processing instructions may precede the root <svg>.
_SVG = re.compile(rb"(?:\s|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*<(?:\w+:)?svg[\s>/]", re.DOTALL | re.IGNORECASE)
