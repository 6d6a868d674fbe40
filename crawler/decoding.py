"""Bytes of a corpus file → text, or the reason it is not text.

Corpus files are supposed to be UTF-8, and most are. Some arrive in a legacy encoding (GBK
from Chinese sites, windows-1252 from old CMSes); those are decoded with detection
(charset-normalizer) and the caller reports that a guess was made, because a guess can be
wrong. Files that are not text at all (images, archives dropped into the corpus folder) are
recognised by NUL bytes or by a decode that yields control characters, and skipped.

Detected labels are mapped as WHATWG does for the web (:func:`archive.charset.codec_for_label`,
the same table the HTML decoder uses): GB2312 and GBK decode as GB18030 (real "GB2312" text
routinely holds GBK-only characters; Python's strict ``gb2312`` codec fails on them),
ISO-8859-1 and ASCII as windows-1252.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

from archive.charset import codec_for_label

__all__ = ["Decoded", "NotText", "decode_text"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: bytes looked at for NUL bytes and control characters
_SNIFF = 8192
#: share of control characters (other than tab, newline, carriage return, form feed) past which a decode is not text
_MAX_CONTROL_SHARE = 0.05


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text, the codec that produced it and whether that codec was a guess."""

    text: str
    encoding: str
    detected: bool


@dataclass(frozen=True, slots=True)
class NotText:
    """Why a file is not treated as text."""

    reason: str


def decode_text(data: bytes) -> Decoded | NotText:
    """Decode a corpus file: BOM, then UTF-8, then detection; binary data is :class:`NotText`.

    >>> decode_text("标题".encode("gbk") * 20).encoding
    'gb18030'
    >>> decode_text(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00\\x00\\rIHDR")
    NotText(reason='binary data (NUL bytes)')
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec).lstrip("\ufeff"), codec.replace("-sig", ""), False)
            except UnicodeDecodeError:
                return NotText(f"starts with a {codec} byte-order mark but does not decode as {codec}")
    if b"\x00" in data[:_SNIFF]:
        return NotText("binary data (NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return Decoded(text, "utf-8", False)
    best = from_bytes(data[: 1 << 20]).best()
    if best is None or best.encoding is None:
        return NotText("not UTF-8 and no text encoding fits")
    codec = codec_for_label(best.encoding) or best.encoding
    text = data.decode(codec, errors="replace")
    if _control_share(text[:_SNIFF]) > _MAX_CONTROL_SHARE:
        return NotText(f"binary data (control characters when decoded as {codec})")
    return Decoded(text, codec, True)


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    controls = sum(1 for c in text if (ord(c) < 32 and c not in "\t\n\r\f") or 0x7F <= ord(c) < 0xA0)
    return controls / len(text)
