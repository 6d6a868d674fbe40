"""HTTP Content-Encoding decoding with a cap on the output, against decompression bombs.

A WARC response record stores the body as the server sent it, still gzip- or
brotli-encoded. Before extraction we undo the encodings named in
``Content-Encoding`` (last applied, first undone), and we never let the output
grow past ``max_bytes``: every decoder here is driven with an output limit, so a
42-byte bomb costs at most ``max_bytes`` of memory before
:class:`DecodedTooLarge` is raised. Nothing is decompressed fully and checked
afterwards.

Supported: ``gzip``/``x-gzip`` (also several members), ``deflate`` (zlib-wrapped
as RFC 9110 says, and the raw deflate some servers send), ``br`` when the
``brotli`` module is importable, ``identity``. Leniency, because archived pages
are what they are: a stream that stops early (a truncated record) yields what
was decoded and ``complete=False``; a body labelled ``gzip`` that is plainly
markup (servers that compress nothing but say so) is taken as it is.

Errors (ours, one tree)::

    ContentDecodingError        the body cannot be decoded as labelled (names the encoding)
    ├── UnsupportedEncoding     an encoding we cannot undo (compress, zstd, sdch …)
    └── DecodedTooLarge         the decoded body would exceed the cap
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ContentDecodingError",
    "DecodedContent",
    "DecodedTooLarge",
    "UnsupportedEncoding",
    "decode_content",
    "parse_content_encoding",
    "supported_encodings",
]

try:  # brotli is optional: FastWARC pulls it in, httpx uses it when present
    import brotli as _brotli
except ImportError:  # pragma: no cover - depends on the environment
    _brotli = None


class ContentDecodingError(ValueError):
    """A body cannot be decoded as its Content-Encoding says."""

    def __init__(self, message: str, *, encoding: str) -> None:
        super().__init__(message)
        self.encoding = encoding


class UnsupportedEncoding(ContentDecodingError):
    """A Content-Encoding we cannot undo."""


class DecodedTooLarge(ContentDecodingError):
    """The decoded body would be larger than the cap (a decompression bomb, or just too big)."""

    def __init__(self, message: str, *, encoding: str, limit: int) -> None:
        super().__init__(message, encoding=encoding)
        self.limit = limit


@dataclass(frozen=True, slots=True)
class DecodedContent:
    """A decoded body; ``applied`` lists the encodings undone, in the order undone."""

    data: bytes
    applied: tuple[str, ...] = ()
    complete: bool = True


_ALIASES = {"x-gzip": "gzip", "x-deflate": "deflate", "brotli": "br"}
_NOOP = frozenset({"", "identity", "none", "utf-8", "binary", "8bit", "7bit"})
_CHUNK = 64 * 1024


def supported_encodings() -> tuple[str, ...]:
    """Content codings this module can undo here (``br`` only when brotli is importable)."""
    return ("gzip", "deflate", "br") if _brotli is not None else ("gzip", "deflate")


def parse_content_encoding(header: str | Iterable[str] | None) -> tuple[str, ...]:
    """The codings of one or more Content-Encoding values, in the order they were applied.

    >>> parse_content_encoding("gzip, br")
    ('gzip', 'br')
    >>> parse_content_encoding(["X-GZIP", "identity"])
    ('gzip',)
    >>> parse_content_encoding(None)
    ()
    """
    if header is None:
        return ()
    values = [header] if isinstance(header, str) else list(header)
    out: list[str] = []
    for value in values:
        for token in value.split(","):
            name = token.strip().lower()
            name = _ALIASES.get(name, name)
            if name not in _NOOP:
                out.append(name)
    return tuple(out)


def decode_content(body: bytes, content_encoding: str | Iterable[str] | None, *, max_bytes: int,
                   truncate: bool = False) -> DecodedContent:
    """Undo the Content-Encoding(s) of ``body`` with every stage capped at ``max_bytes``.

    Past the cap this raises :class:`DecodedTooLarge`; with ``truncate`` it returns the
    first ``max_bytes`` instead, marked incomplete (what an image header or a robots.txt
    needs: the start, whatever follows).

    >>> import gzip
    >>> decode_content(gzip.compress(b"<p>hi</p>"), "gzip", max_bytes=100).data
    b'<p>hi</p>'
    >>> decode_content(gzip.compress(b"x" * 1000), "gzip", max_bytes=100)
    Traceback (most recent call last):
    ...
    archive.content.DecodedTooLarge: gzip body decodes to more than 100 bytes
    >>> cut = decode_content(gzip.compress(b"x" * 1000), "gzip", max_bytes=100, truncate=True)
    >>> len(cut.data), cut.complete
    (100, False)
    """
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    data, applied, complete = body, [], True
    for coding in reversed(parse_content_encoding(content_encoding)):
        if coding == "gzip":
            if not data.startswith(b"\x1f\x8b") and _looks_like_markup(data):
                continue  # labelled gzip, sent plain: taken as it is
            data, done = _inflate(data, zlib.MAX_WBITS | 16, max_bytes, coding, multi_member=True, truncate=truncate)
        elif coding == "deflate":
            if _looks_like_markup(data):
                continue
            wbits = zlib.MAX_WBITS if _has_zlib_header(data) else -zlib.MAX_WBITS
            try:
                data, done = _inflate(data, wbits, max_bytes, coding, truncate=truncate)
            except DecodedTooLarge:
                raise
            except ContentDecodingError:
                if wbits < 0:
                    raise
                data, done = _inflate(data, -zlib.MAX_WBITS, max_bytes, coding, truncate=truncate)
        elif coding == "br":
            data, done = _unbrotli(data, max_bytes, truncate=truncate)
        else:
            raise UnsupportedEncoding(f"cannot decode Content-Encoding {coding!r}; "
                                      f"supported: {', '.join(supported_encodings())}", encoding=coding)
        applied.append(coding)
        complete = complete and done
    if len(data) > max_bytes:
        if not truncate:
            raise DecodedTooLarge(f"body is larger than {max_bytes} bytes", encoding="identity", limit=max_bytes)
        data, complete = data[:max_bytes], False
    return DecodedContent(data, tuple(applied), complete)


def _inflate(data: bytes, wbits: int, limit: int, coding: str, *, multi_member: bool = False,
             truncate: bool = False) -> tuple[bytes, bool]:
    """zlib-family decoding with an output limit; returns ``(output, reached_end_of_stream)``."""
    out = bytearray()
    d = zlib.decompressobj(wbits)
    pending = memoryview(data)
    while True:
        try:
            # max_length bounds the output of this call; the rest of the input waits in unconsumed_tail
            out += d.decompress(pending[:_CHUNK] if not d.unconsumed_tail else d.unconsumed_tail, limit + 1 - len(out))
        except zlib.error as exc:
            raise ContentDecodingError(f"invalid {coding} data: {exc}", encoding=coding) from None
        if len(out) > limit:
            if truncate:
                return bytes(out[:limit]), False
            raise DecodedTooLarge(f"{coding} body decodes to more than {limit} bytes", encoding=coding, limit=limit)
        if d.unconsumed_tail:
            continue
        if not d.eof:
            pending = pending[_CHUNK:]
            if not pending:
                if not data:
                    return b"", True
                if not out:
                    raise ContentDecodingError(f"{coding} data ends before any content", encoding=coding)
                return bytes(out), False  # the stream stops early: keep what was there
            continue
        rest = d.unused_data
        if multi_member and rest[:2] == b"\x1f\x8b":
            d = zlib.decompressobj(wbits)  # another gzip member follows
            pending = memoryview(rest)
            continue
        return bytes(out), True  # trailing bytes after the end of the stream are ignored, as browsers do


def _unbrotli(data: bytes, limit: int, *, truncate: bool = False) -> tuple[bytes, bool]:
    if _brotli is None:
        raise UnsupportedEncoding("cannot decode Content-Encoding 'br': the brotli module is not installed",
                                  encoding="br")
    d = _brotli.Decompressor()
    out = bytearray()
    pending = memoryview(data)
    try:
        while True:
            if d.can_accept_more_data():
                if not pending:
                    break
                chunk, pending = pending[:_CHUNK], pending[_CHUNK:]
            else:
                chunk = memoryview(b"")  # drain output before feeding more, as brotli requires
            out += d.process(chunk, output_buffer_limit=limit + 1 - len(out))
            if len(out) > limit:
                if truncate:
                    return bytes(out[:limit]), False
                raise DecodedTooLarge(f"br body decodes to more than {limit} bytes", encoding="br", limit=limit)
            if d.is_finished():
                break
    except _brotli.error as exc:
        raise ContentDecodingError(f"invalid br data: {exc}", encoding="br") from None
    return bytes(out), bool(d.is_finished())


def _has_zlib_header(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _looks_like_markup(data: bytes) -> bool:
    """True for a body that is evidently not compressed (HTML, XML or JSON text)."""
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"<", b"{", b"[")
