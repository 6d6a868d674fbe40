"""``citecrawl extract``: article text and metadata from HTML files or the HTML responses in WARC files.

Inputs are files: ``.html`` / ``.htm`` (also ``.gz``), or WARC files (``.warc``,
``.warc.gz``, also ARC), recognised by their first bytes rather than their names.
In a WARC every ``response`` record whose HTTP Content-Type is HTML (or whose
body starts like HTML when it has none) is extracted. The stored body is
de-chunked and its Content-Encoding undone by :mod:`archive.content`, so the
``extract.max_decompressed_bytes`` cap applies.

With ``--jsonl`` one JSON object per page is printed, with these fields:

=================  ==================================================================
``source``         the path as given; for a WARC ``path#offset`` (the record's byte offset)
``url``            the WARC-Target-URI (``null`` for a plain file)
``status``         HTTP status of the WARC response (``null`` for a plain file)
``title``          headline without the site-name suffix
``published``      publication date, ISO 8601 (date or date-time with offset)
``modified``       last modification date, ISO 8601
``authors``        list of names
``language``       BCP 47 tag (``en``, ``zh-CN``)
``canonical_url``  ``<link rel=canonical>`` / ``og:url``, absolute
``lead_image``     ``og:image`` / JSON-LD image, absolute
``site_name``      ``og:site_name`` / JSON-LD publisher
``description``    ``og:description`` / meta description
``encoding``       Python codec the page was decoded with
``encoding_source`` how it was chosen: ``bom``, ``http``, ``meta``, ``detected``, ``default``
``body_source``    ``dom``, ``json-ld`` (the page's ``articleBody``) or ``none``
``is_article``     body text at least ``extract.min_article_chars`` long
``paragraphs``     number of paragraphs
``text``           the body, paragraphs separated by blank lines
``error``          only when the page could not be read: what went wrong (other fields ``null``)
=================  ==================================================================

Without ``--jsonl`` each page is printed for a person: a header with the
metadata, then the text.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from crawler.errors import UsageError

# archive.extract (selectolax), archive.content, warcio and rich are imported where they are
# used: building the parser (every `citecrawl` invocation) must not import them.

__all__ = ["DESCRIPTION", "EPILOG", "HELP", "NAME", "add_arguments", "extract_paths", "run"]

NAME = "extract"
HELP = "extract article text and metadata from HTML files or WARC files"
DESCRIPTION = """\
Extract the article (body text, title, dates, authors, language, canonical URL)
from HTML files (also .gz) or from every HTML response in WARC files. Bytes are
decoded as a browser would (BOM, HTTP charset, <meta>, detection), so GBK pages
without headers come out right.
"""
EPILOG = """\
examples:
  citecrawl extract page.html                        read one saved page
  citecrawl extract collection/warcs/*.warc.gz --jsonl > articles.jsonl
  citecrawl extract crawl.warc.gz --jsonl | jq -r 'select(.is_article) | .title'

JSON fields: source, url, status, title, published, modified, authors, language,
canonical_url, lead_image, site_name, description, encoding, encoding_source,
body_source, is_article, paragraphs, text (and error when a page cannot be read).
"""

_HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="FILE_OR_WARC", help="HTML files (.html, .gz) or WARC files")
    parser.add_argument("--jsonl", action="store_true", help="one JSON object per page on stdout")
    parser.add_argument("--config", metavar="FILE",
                        help="configuration file (default: config/citecrawl.toml of the checkout)")


def run(args: argparse.Namespace) -> int:
    from crawler.config import load_config

    config = load_config(args.config)
    paths = [Path(p) for p in args.paths]
    for p in paths:
        if not p.is_file():
            raise UsageError(f"{p}: no such file")
    records = extract_paths(args.paths, max_decompressed_bytes=config.extract.max_decompressed_bytes,
                            min_article_chars=config.extract.min_article_chars)
    if args.jsonl:
        out = sys.stdout
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
    else:
        _print_readable(records)
    return 0


def extract_paths(paths: list[str], *, max_decompressed_bytes: int, min_article_chars: int = 200,
                  ) -> Iterator[dict[str, Any]]:
    """One JSON-ready record per page of the given files (see the module docstring for the fields)."""
    for path in paths:
        with open(path, "rb") as fh:
            kind = _sniff(fh)
            if kind == "warc":
                yield from _from_warc(path, fh, max_decompressed_bytes, min_article_chars)
            else:
                yield _from_html_file(path, fh, kind == "gzip", max_decompressed_bytes, min_article_chars)


def _sniff(fh: IO[bytes]) -> str:
    head = fh.read(512)
    fh.seek(0)
    if head.startswith(b"\x1f\x8b"):
        try:
            inner = gzip.GzipFile(fileobj=fh).read(16)
        except (OSError, EOFError):
            inner = b""
        fh.seek(0)
        return "warc" if inner.startswith((b"WARC/", b"filedesc:")) else "gzip"
    return "warc" if head.startswith((b"WARC/", b"filedesc:")) else "html"


def _from_html_file(path: str, fh: IO[bytes], gzipped: bool, cap: int, min_chars: int) -> dict[str, Any]:
    from archive.content import ContentDecodingError, decode_content

    body = fh.read(cap + 1) if not gzipped else fh.read()
    try:
        data = decode_content(body, "gzip" if gzipped else None, max_bytes=cap).data
    except ContentDecodingError as exc:
        return _error(path, None, None, str(exc))
    return _record(path, None, None, data, None, min_chars)


def _from_warc(path: str, fh: IO[bytes], cap: int, min_chars: int) -> Iterator[dict[str, Any]]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    from archive.content import ContentDecodingError, decode_content

    it = ArchiveIterator(fh, arc2warc=True)
    try:
        for rec in it:
            if rec.rec_type != "response" or rec.http_headers is None:
                continue
            headers = rec.http_headers
            ctype = headers.get_header("Content-Type")
            url = rec.rec_headers.get_header("WARC-Target-URI")
            status = _int(headers.get_statuscode())
            if ctype and not ctype.split(";")[0].strip().lower().startswith(_HTML_TYPES):
                continue
            raw = rec.raw_stream.read()
            source = f"{path}#{it.get_record_offset()}"  # only after the body is read (warcio gotcha)
            if not ctype and not raw.lstrip()[:20].lower().startswith((b"<!doctype html", b"<html")):
                continue
            try:
                if (headers.get_header("Transfer-Encoding") or "").lower() == "chunked":
                    raw = _dechunk(raw)
                data = decode_content(raw, headers.get_header("Content-Encoding"), max_bytes=cap).data
            except ContentDecodingError as exc:
                yield _error(source, url, status, str(exc))
                continue
            yield _record(source, url, status, data, ctype, min_chars)
    except ArchiveLoadFailed as exc:
        yield _error(path, None, None, f"not a readable WARC past this point: {exc}")


def _dechunk(raw: bytes) -> bytes:
    """Undo HTTP chunked framing; bodies stored already de-chunked (as most crawlers do) pass through."""
    out = bytearray()
    pos = 0
    while True:
        end = raw.find(b"\r\n", pos)
        if end < 0:
            return raw if not out else bytes(out)
        size_text = raw[pos:end].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return raw if not out else bytes(out)
        if size == 0:
            return bytes(out)
        start = end + 2
        out += raw[start:start + size]
        pos = start + size + 2
        if pos > len(raw):
            return bytes(out)


def _record(source: str, url: str | None, status: int | None, data: bytes, ctype: str | None,
            min_chars: int) -> dict[str, Any]:
    from archive.extract import extract_article

    article = extract_article(data, url=url, content_type=ctype)
    d = article.to_dict()
    return {
        "source": source, "url": url, "status": status,
        **{k: d[k] for k in ("title", "published", "modified", "authors", "language", "canonical_url",
                             "lead_image", "site_name", "description", "encoding", "encoding_source",
                             "body_source")},
        "is_article": article.is_article(min_chars),
        "paragraphs": len(article.paragraphs),
        "text": article.text,
    }


def _error(source: str, url: str | None, status: int | None, message: str) -> dict[str, Any]:
    return {"source": source, "url": url, "status": status, "title": None, "published": None, "authors": [],
            "language": None, "text": None, "error": message}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _print_readable(records: Iterator[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=False)
    for r in records:
        console.rule(escape(r["source"]))
        if r.get("error"):
            console.print(f"[red]cannot read:[/red] {escape(r['error'])}")
            continue
        console.print(f"[bold]{escape(r['title'] or '(no title)')}[/bold]")
        facts = [("url", r["url"]), ("published", r["published"]), ("authors", ", ".join(r["authors"]) or None),
                 ("language", r["language"]), ("canonical", r["canonical_url"]),
                 ("encoding", f"{r['encoding']} ({r['encoding_source']})" if r["encoding"] else None),
                 ("body", f"{r['paragraphs']} paragraphs from {r['body_source']}"
                  + ("" if r["is_article"] else ", not an article"))]
        for key, value in facts:
            if value:
                console.print(f"[dim]{key:>10}[/dim]  {escape(str(value))}")
        console.print()
        console.print(escape(r["text"] or ""))
        console.print()
