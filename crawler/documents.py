"""One corpus file's bytes → a :class:`Document`, its citations and its problems (pure).

The shapes a snapshot comes in (see DESIGN.md, "The input"), told apart by content, not by
file name:

============================  ==========================================================
``front-matter``              YAML front matter (possibly after blank lines), no body
``front-matter+html``         front matter, then an HTML body (``img[src]``, ``a[href]``)
``front-matter+text``         front matter, then a plain-text or Markdown body
``text``                      plain text: first non-empty line is the title
``html``                      a bare HTML page (title from ``<title>`` or ``<h1>``)
============================  ==========================================================

Bad input is data, never an exception: a file that is not text, has broken YAML or is empty
yields no document and one :class:`Problem`; a file decoded by guessing, an unreadable date
or a skipped link yields the document *and* a notice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Mapping
from typing import Any

from crawler.decoding import NotText, decode_text
from crawler.frontmatter import (
    DATE_KEYS,
    EXCERPT_KEYS,
    FoundUrl,
    FrontMatterError,
    first_text,
    load_front_matter,
    parse_published,
    split_front_matter,
    walk_urls,
)
from crawler.htmlbody import looks_like_html, parse_html_body
from crawler.scanned import NOTICE_KINDS, Citation, Document, ParsedDocument, Problem
from crawler.urls import SkippedUrl, clean_url, find_text_urls

__all__ = [
    "NOTICE_KINDS",
    "SNAPSHOT_KEYS",
    "Citation",
    "Document",
    "ParsedDocument",
    "Problem",
    "parse_document",
]

#: front-matter keys naming the URL a document is a snapshot of, preferred first
SNAPSHOT_KEYS = ("originalUrl", "webUrl")


def parse_document(data: bytes, *, doc_id: str, path: str) -> ParsedDocument:
    """Parse one corpus file. Never raises for bad input; problems come back as values."""
    problems: list[Problem] = []
    decoded = decode_text(data)
    if isinstance(decoded, NotText):
        return ParsedDocument(None, (), (Problem(doc_id, "binary", f"skipped: {decoded.reason}"),))
    if decoded.detected:
        problems.append(Problem(doc_id, "not-utf8-decoded",
                                f"not UTF-8; decoded as {decoded.encoding} by detection (check the text)"))
    text = decoded.text
    if not text.strip():
        return ParsedDocument(None, (), (*problems, Problem(doc_id, "empty", "the file holds no text")))
    builder = _Builder(doc_id, problems)
    try:
        split = split_front_matter(text)
        if split is not None:
            fm_text, body, first_line = split
            fields = _front_matter_document(builder, load_front_matter(fm_text, first_line=first_line), body)
        else:
            fields = _plain_document(builder, text)
    except FrontMatterError as exc:
        return ParsedDocument(None, (), (*problems, Problem(doc_id, "bad-yaml", str(exc))))
    document = Document(
        id=doc_id,
        path=path,
        content_hash=hashlib.sha256(data).hexdigest(),
        encoding=decoded.encoding,
        size=len(data),
        urls=tuple(dict.fromkeys(url for url, _ in builder.citations)),
        **fields,
    )
    return ParsedDocument(document, tuple(builder.citations), tuple(problems))


class _Builder:
    """Collects one document's citations (deduplicated per URL and role) and notices."""

    def __init__(self, doc_id: str, problems: list[Problem]) -> None:
        self.doc_id = sys.intern(doc_id)
        self.problems = problems
        self.citations: list[tuple[str, Citation]] = []
        self._seen: set[tuple[str, str]] = set()

    def cite(self, raw: str, role: str, *, base: str | None = None, meta: FoundUrl | None = None,
             width: int | None = None, height: int | None = None) -> str | None:
        url = clean_url(raw, base=base)
        if isinstance(url, SkippedUrl):
            self.problems.append(Problem(self.doc_id, "skipped-url", f"{role}: {url.raw[:200]!r}: {url.reason}"))
            return None
        url = sys.intern(url)
        role = sys.intern(role)
        if (url, role) in self._seen:
            return url
        self._seen.add((url, role))
        if meta is not None:
            citation = Citation(self.doc_id, role, meta.title, meta.excerpt, meta.published, meta.width, meta.height)
        else:
            citation = Citation(self.doc_id, role, width=width, height=height)
        self.citations.append((url, citation))
        return url

    def cite_text(self, text: str) -> None:
        for raw in find_text_urls(text):
            self.cite(raw, "body.text")


def _front_matter_document(b: _Builder, fm: Mapping[Any, Any], body: str) -> dict[str, Any]:
    own: str | None = None
    via: str | None = None
    for key in SNAPSHOT_KEYS:
        value = fm.get(key)
        if isinstance(value, str) and value.strip():
            url = clean_url(value)
            if isinstance(url, str):
                own, via = url, key
                break
    for found in walk_urls(fm):
        b.cite(found.raw, found.role, meta=found)
    published = _published(b, fm)
    title = first_text(fm, ("title",))
    shape, stored = "front-matter", ""
    if body.strip():
        if looks_like_html(body):
            shape = "front-matter+html"
            stored = _cite_html(b, body, own)[1]
        else:
            shape = "front-matter+text"
            stored = body.strip()
            b.cite_text(stored)
    return {
        "shape": shape, "title": title, "body": stored, "excerpt": first_text(fm, EXCERPT_KEYS),
        "published": published, "snapshot_url": own, "snapshot_via": via,
    }


def _plain_document(b: _Builder, text: str) -> dict[str, Any]:
    stripped = text.strip()
    if stripped.startswith("<") and looks_like_html(stripped[:1024]):
        title, stored = _cite_html(b, stripped, None)
        return {"shape": "html", "title": title, "body": stored, "excerpt": None, "published": None}
    title, _, rest = stripped.partition("\n")
    b.cite_text(stripped)
    return {"shape": "text", "title": title.strip() or None, "body": rest.strip(), "excerpt": None, "published": None}


def _cite_html(b: _Builder, html: str, own: str | None) -> tuple[str | None, str]:
    parsed = parse_html_body(html)
    base = own
    if parsed.base:
        resolved = clean_url(parsed.base, base=own)
        if isinstance(resolved, str):
            base = resolved
    for link in parsed.links:
        b.cite(link.raw, link.role, base=base, width=link.width, height=link.height)
    return parsed.title, parsed.text


def _published(b: _Builder, fm: Mapping[Any, Any]) -> dt.datetime | None:
    for key in DATE_KEYS:
        value = fm.get(key)
        if value is None or isinstance(value, bool) or value == "":
            continue
        when = parse_published(value)
        if when is None:
            b.problems.append(Problem(b.doc_id, "bad-date", f"{key}: cannot read {str(value)[:100]!r} as a date"))
        return when
    return None
