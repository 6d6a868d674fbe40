"""Bytes of an HTML page → text, choosing the encoding the way a careful browser would.

selectolax parses bytes as UTF-8 (or, with ``encoding=True``, honours only a
``<meta>`` in the first 1024 bytes and reads ``gb2312`` as strict GB2312), so
we decode ourselves and hand it ``str``. The order is the HTML standard's:

1. a byte-order mark;
2. the HTTP ``Content-Type`` charset;
3. a ``<meta charset>`` / ``http-equiv`` / XML declaration, scanned in the
   first 16 KiB or up to ``</head>`` (real pages put 2–10 KiB of scripts and
   styles before their meta, past the standard's 1024 bytes);
4. detection: strict UTF-8 first (valid multi-byte UTF-8 is almost never an
   accident), then charset-normalizer.

Labels map as the WHATWG Encoding Standard says, onto Python codecs that are
supersets of what pages really contain: ``gb2312``/``gbk`` → ``gb18030``,
``iso-8859-1``/``ascii`` → ``cp1252``, ``shift_jis`` → ``cp932``, ``euc-kr`` →
``cp949``, ``big5`` → ``big5hkscs``.

A declaration is believed only if the bytes agree with it. A page whose
declared codec fails on more than a handful of bytes is re-detected; and a
page declared as a single-byte legacy encoding (the Apache default
``ISO-8859-1`` header is the usual culprit) whose bytes are valid multi-byte
UTF-8 is read as UTF-8. Both cases are recorded in :attr:`DecodedHtml.source`.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DecodedHtml",
    "EncodingSource",
    "charset_from_content_type",
    "codec_for_label",
    "decode_html",
    "sniff_declared_charset",
    "utf8_reading",
]

EncodingSource = Literal["bom", "http", "meta", "detected", "default"]

#: how far into a page ``<meta charset>`` is looked for (stops earlier at ``</head>``)
META_SCAN_BYTES = 16 * 1024
#: how much of an undeclared page charset-normalizer looks at
DETECT_SAMPLE_BYTES = 64 * 1024
#: a declared codec that fails on more bytes than this share is not believed
_MAX_BAD_SHARE = 0.001
_MAX_BAD_ABSOLUTE = 8


@dataclass(frozen=True, slots=True)
class DecodedHtml:
    """A decoded page: the text, the Python codec used, and how it was chosen.

    ``declared`` is the label the page or server declared, when one was found
    (also when it was overruled: then ``source`` is ``"detected"``).
    ``errors`` counts byte sequences that could not be decoded and became U+FFFD.
    """

    text: str
    encoding: str
    source: EncodingSource
    declared: str | None = None
    errors: int = 0


_UTF8 = "utf-8"
_CP1252 = "cp1252"

# WHATWG labels whose Python codec is not simply codecs.lookup(label).
_WHATWG: dict[str, str] = {}
for _codec, _labels in {
    _UTF8: "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8",
    _CP1252: "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 "
    "iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252",
    "gb18030": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk gb18030 "
    "euc-cn x-euc-cn cp936 ms936 windows-936",
    "big5hkscs": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "cp932": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "euc_jp": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "iso2022_jp": "csiso2022jp iso-2022-jp",
    "cp949": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601 "
    "ksc_5601 windows-949 uhc",
    "cp1254": "csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989 l5 "
    "latin5 windows-1254 x-cp1254",
    "cp874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "iso8859_8": "csiso88598i iso-8859-8-i logical iso-8859-8 visual",
    "koi8_u": "koi8-ru koi8-u",
    "mac_roman": "csmacintosh mac macintosh x-mac-roman",
    "mac_cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "utf-16-le": "utf-16 utf-16le csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff",
    "utf-16-be": "utf-16be unicodefffe",
}.items():
    for _label in _labels.split():
        _WHATWG[_label] = _codec

# Labels the standard maps to the "replacement" encoding: never decode with them.
_REPLACEMENT = frozenset(["csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr", "replacement"])
# Single-byte legacy codecs: a page declared as one of these but valid as UTF-8 is UTF-8.
_SINGLE_BYTE = frozenset({_CP1252, "cp1254", "cp874", "latin_1", "iso8859_15", "cp1250", "cp1251",
                          "cp1253", "cp1255", "cp1256", "cp1257", "cp1258", "mac_roman", "iso8859_2"})

_BOMS = ((codecs.BOM_UTF8, _UTF8), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))

_CT_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([^\s"';,]+)""", re.I)
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([-\w.:+]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml\b[^>]*?encoding\s*=\s*["']([-\w.:+]+)""", re.I)
_HEAD_END = re.compile(rb"</head\s*>", re.I)


def codec_for_label(label: str) -> str | None:
    """The Python codec for an encoding label, WHATWG-mapped; ``None`` if unknown or unsafe.

    >>> codec_for_label("GB2312"), codec_for_label("ISO-8859-1"), codec_for_label(" Shift_JIS ")
    ('gb18030', 'cp1252', 'cp932')
    >>> codec_for_label("windows-1251"), codec_for_label("no-such-charset"), codec_for_label("iso-2022-kr")
    ('cp1251', None, None)

    Python's own codec names (what charset-normalizer reports) map the same way:

    >>> codec_for_label("latin_1"), codec_for_label("euc_kr"), codec_for_label("gb2312")
    ('cp1252', 'cp949', 'gb18030')
    """
    key = label.strip().strip("\"'").lower()
    if not key or key in _REPLACEMENT:
        return None
    for k in (key, key.replace("_", "-")):
        if k in _WHATWG:
            return _WHATWG[k]
    try:
        info = codecs.lookup(key)
    except LookupError:
        return None
    for k in (info.name, info.name.replace("_", "-")):
        if k in _WHATWG:
            return _WHATWG[k]
    # only text encodings (not rot13, base64 …)
    return info.name if getattr(info, "_is_text_encoding", True) else None


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, as written.

    >>> charset_from_content_type('text/html; Charset="GBK"')
    'GBK'
    >>> charset_from_content_type("text/html") is None
    True
    """
    if not content_type:
        return None
    m = _CT_CHARSET.search(content_type)
    return m.group(1) if m else None


def sniff_declared_charset(body: bytes) -> str | None:
    """The charset label an XML declaration or ``<meta>`` declares, in the first 16 KiB or before ``</head>``.

    >>> sniff_declared_charset(b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    'gb2312'
    >>> sniff_declared_charset(b"<p>no declaration</p>") is None
    True
    """
    head = body[:META_SCAN_BYTES]
    m = _XML_DECL.match(head)
    if m:
        return m.group(1).decode("ascii")
    end = _HEAD_END.search(head)
    if end:
        head = head[: end.start()]
    m = _META_CHARSET.search(head)
    return m.group(1).decode("ascii") if m else None


def decode_html(body: bytes, *, content_type: str | None = None) -> DecodedHtml:
    """Decode an HTML page: BOM, HTTP charset, ``<meta>``, then detection (see the module docstring).

    >>> d = decode_html("<p>朱镕基</p>".encode("gbk"), content_type="text/html; charset=gb2312")
    >>> d.text, d.encoding, d.source
    ('<p>朱镕基</p>', 'gb18030', 'http')
    >>> decode_html("<meta charset=iso-8859-1><p>café</p>".encode()).source
    'detected'
    """
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            text, bad = _decode(body[len(bom):], bom_codec)
            return DecodedHtml(text, bom_codec, "bom", None, bad)

    declarations = _declarations(body, content_type)
    for source, label, codec in declarations:
        if codec is None:
            continue
        if codec in _SINGLE_BYTE and not body.isascii() and (utf8 := _as_utf8(body)) is not None:
            return DecodedHtml(utf8[0], _UTF8, "detected", label, utf8[1])
        text, bad = _decode(body, codec)
        if bad <= max(_MAX_BAD_ABSOLUTE, len(body) * _MAX_BAD_SHARE):
            return DecodedHtml(text, codec, source, label, bad)
        # the bytes contradict the declaration: fall through to detection
    return _detect(body, declarations[0][1] if declarations else None)


def _declarations(body: bytes, content_type: str | None) -> list[tuple[EncodingSource, str, str | None]]:
    """What a page says its charset is, in WHATWG's order (the HTTP header, then ``<meta>``).

    ``(source, label, codec)``; ``codec`` is ``None`` for a label no codec answers to. A
    ``<meta>`` naming UTF-16 means UTF-8: a page that could read its own ASCII ``<meta>`` is not UTF-16.
    """
    found: list[tuple[EncodingSource, str, str | None]] = []
    for source, label in (("http", charset_from_content_type(content_type)), ("meta", sniff_declared_charset(body))):
        if label is not None:
            codec = codec_for_label(label)
            if source == "meta" and codec is not None and codec.startswith("utf-16"):
                codec = _UTF8
            found.append((source, label, codec))  # type: ignore[arg-type]
    return found


def utf8_reading(body: bytes, *, content_type: str | None = None) -> tuple[str, EncodingSource] | None:
    """``(encoding, source)`` as :func:`decode_html` reports them for a page it reads as clean UTF-8.

    Found without building the text: a parser that takes UTF-8 bytes (lexbor)
    needs only to know that they are valid, and checking costs about half of
    decoding (no ``str`` of the whole page is made). The steps are
    :func:`decode_html`'s; a page it reads any other way (another codec, bad
    bytes, an ASCII page under a declared legacy codec) gives ``None``. Plain
    ASCII counts as clean UTF-8 (``"default"`` source).

    >>> utf8_reading("<meta charset=utf-8><p>café</p>".encode())
    ('utf-8', 'meta')
    >>> utf8_reading("<p>café</p>".encode("cp1252")) is None
    True
    >>> utf8_reading(b"<p>plain</p>")
    ('cp1252', 'default')
    """
    if body.startswith(codecs.BOM_UTF8):
        return (_UTF8, "bom") if _is_utf8(body[len(codecs.BOM_UTF8):]) else None
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    declarations = _declarations(body, content_type)
    for source, _label, codec in declarations:
        if codec is None:
            continue
        if codec == _UTF8:
            return (_UTF8, source) if _is_utf8(body) else None
        if codec in _SINGLE_BYTE and not body.isascii() and _is_utf8(body):
            return _UTF8, "detected"
        return None
    if body.isascii():
        return (_UTF8 if declarations else _CP1252), "default"
    return (_UTF8, "detected") if _is_utf8(body) else None


#: how much of a body :func:`_is_utf8` decodes at a time: a slice's text stays in the CPU cache
_UTF8_CHECK_CHUNK = 16 * 1024


def _is_utf8(body: bytes) -> bool:
    """Whether ``body`` is valid UTF-8, checked slice by slice (~0.6 times the cost of one decode).

    >>> _is_utf8("é".encode() * 20000), _is_utf8(b"ab\\xe9"), _is_utf8("é".encode()[:1])
    (True, False, False)
    """
    view = memoryview(body)
    size = len(body)
    pos = 0
    try:
        while pos < size:
            end = pos + _UTF8_CHECK_CHUNK
            # not final: a character cut by the slice's end is left for the next slice
            _, used = codecs.utf_8_decode(view[pos:end], "strict", end >= size)
            if used == 0:  # cannot happen before the end: a cut character has at most 3 bytes
                return False
            pos += used
    except UnicodeDecodeError:
        return False
    return True


def _detect(body: bytes, declared: str | None) -> DecodedHtml:
    if body.isascii():
        return DecodedHtml(body.decode("ascii"), _CP1252 if declared is None else _UTF8, "default", declared, 0)
    utf8 = _as_utf8(body)
    if utf8 is not None:
        return DecodedHtml(utf8[0], _UTF8, "detected", declared, utf8[1])
    codec = _guess(body)
    text, bad = _decode(body, codec)
    return DecodedHtml(text, codec, "detected", declared, bad)


def _guess(body: bytes) -> str:
    """charset-normalizer's best guess, WHATWG-mapped, trusted only where it is reliable.

    It tells CJK, Cyrillic, Greek, Hebrew, Arabic and Thai apart well, but on Latin
    text with a few accented letters it picks among a dozen Latin code pages almost
    at random (French in windows-1252 came out as windows-1257). Undeclared Latin
    pages are overwhelmingly windows-1252, which is also what browsers fall back
    to, so a Latin guess becomes windows-1252 unless the language it saw is one
    that windows-1250 serves.
    """
    from charset_normalizer import from_bytes  # imported late: ~30 ms, and most pages never need it

    best = from_bytes(body[:DETECT_SAMPLE_BYTES]).best()
    codec = codec_for_label(best.encoding) if best is not None else None
    if best is None or codec is None:
        return _CP1252
    if codec in _TRUSTED_GUESSES:
        return codec
    if codec in ("cp1250", "iso8859_2", "mac_latin2") and best.language in _CENTRAL_EUROPEAN:
        return "cp1250"
    return _CP1252


_TRUSTED_GUESSES = frozenset({
    "gb18030", "big5hkscs", "cp932", "euc_jp", "iso2022_jp", "cp949", "utf-16-le", "utf-16-be",
    "cp1251", "koi8_r", "koi8_u", "iso8859_5", "cp866", "mac_cyrillic",
    "cp1253", "iso8859_7", "cp1255", "iso8859_8", "cp1256", "iso8859_6", "cp874", "tis_620",
})
_CENTRAL_EUROPEAN = frozenset({"Polish", "Czech", "Slovak", "Hungarian", "Croatian", "Slovene", "Romanian"})


def _as_utf8(body: bytes) -> tuple[str, int] | None:
    """The text and bad-sequence count of a body that is UTF-8; ``None`` if it is not.

    The text comes from the same decode that tests the bytes (a second decode of a
    100 KB page costs ~50 µs).
    """
    try:
        return body.decode(_UTF8), 0
    except UnicodeDecodeError as exc:
        # a page cut in the middle of a character (truncated record) is still UTF-8
        if exc.start >= len(body) - 3 and exc.reason == "unexpected end of data":
            return _decode(body, _UTF8)
        return None


def _decode(body: bytes, codec: str) -> tuple[str, int]:
    """Decode, replacing bad bytes with U+FFFD; also return how many bad sequences there were."""
    try:
        return body.decode(codec), 0
    except UnicodeDecodeError:
        pass
    text = body.decode(codec, errors="replace")
    genuine = body.count(b"\xef\xbf\xbd") if codec == _UTF8 else 0  # U+FFFD already in the page
    return text, max(0, text.count("\ufffd") - genuine)
