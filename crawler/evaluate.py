"""From a fetch result to a verdict: what the pipeline asks of a fetched body (pure).

The fetcher hands over :class:`~crawler.outcomes.FetchResult` values whose last
hop holds the body as received (content encoding kept). This module decodes that
body under the decompression cap, extracts the article or reads the image
header, and maps the corpus's citations and stored snapshots into the plain
inputs of :mod:`archive.verdicts`. It does no I/O but reading the spooled body
and, for linked documents, their stored text (through a loader passed in).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from archive.exchange import Exchange
from archive.images import HEADER_BYTES, ImageInfo, image_info
from archive.verdicts import (
    Citation,
    DocumentInput,
    Fetched,
    FoundArticle,
    Snapshot,
    UrlInput,
    url_kind,
)
from crawler.corpus import CitedUrl
from crawler.outcomes import FetchResult
from crawler.scanned import Document

__all__ = ["BodyFindings", "document_input", "examine_body", "fetched", "snapshot_of", "url_input", "verdict_citations"]


HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True, slots=True)
class BodyFindings:
    """What the final body says, as far as the verdicts need it."""

    content_type: str | None
    article: FoundArticle | None = None
    image: ImageInfo | None = None
    language: str | None = None
    problem: str = ""                    # e.g. a body whose Content-Encoding is broken


def verdict_citations(cited: CitedUrl) -> tuple[Citation, ...]:
    return tuple(
        Citation(document=c.document, role=c.role, title=c.title or "", excerpt=c.excerpt or "",
                 published=c.published, width=c.width, height=c.height)
        for c in cited.citations
    )


def snapshot_of(documents: Sequence[Document], load_body: Callable[[Document], str | None]) -> Snapshot | None:
    """The stored snapshot to look for in the page: the first linked document with text, or with a title."""
    best: Snapshot | None = None
    for doc in documents:
        body = load_body(doc) or ""
        snap = Snapshot(document=doc.id, title=doc.title or "", text=body, excerpt=doc.excerpt or "",
                        published=doc.published)
        if body.strip():
            return snap
        best = best or snap
    return best


def examine_body(exchange: Exchange, *, kind: str, max_decompressed: int) -> BodyFindings:
    """Decode and read the final response body: an article's text or an image's header.

    A link's page is decoded (a broken encoding or a cut body is worth telling) but its text
    is not extracted: a link is judged by its fetch alone (``fetched``, ``moved``, ``gone`` …),
    so its text would be extracted for nothing (2–3 ms of CPU for a typical news page).
    """
    # where pages are read (a judging process, a small run's thread), not where they are fetched
    from archive.content import ContentDecodingError, decode_content
    from archive.extract import extract_article

    ctype = exchange.response.header("Content-Type")
    mime = (ctype or "").split(";")[0].strip().lower()
    encoding = exchange.response.header("Content-Encoding")
    if kind == "image":
        head = exchange.read_body(HEADER_BYTES if not encoding else None)
        try:
            data = decode_content(head, encoding, max_bytes=HEADER_BYTES, truncate=True).data
        except ContentDecodingError as exc:
            return BodyFindings(ctype, problem=f"content decoding failed: {exc}")
        return BodyFindings(ctype, image=image_info(data))
    looks_html = mime in HTML_TYPES or (not mime and exchange.read_body(512).lstrip()[:1] == b"<")
    if not looks_html:
        return BodyFindings(ctype)
    try:
        decoded = decode_content(exchange.read_body(), encoding, max_bytes=max_decompressed)
    except ContentDecodingError as exc:
        return BodyFindings(ctype, problem=f"content decoding failed: {exc}")
    truncated = "" if decoded.complete else "body truncated before the end"
    if kind == "link":
        return BodyFindings(ctype, problem=truncated)
    article = extract_article(decoded.data, url=exchange.url, content_type=ctype)
    found = FoundArticle(title=article.title or "", text=article.text, paragraphs=article.paragraphs,
                         published=article.published)
    return BodyFindings(ctype, article=found, language=article.language, problem=truncated)


def fetched(result: FetchResult, findings: BodyFindings | None, *, examined: bool = True) -> Fetched:
    """:class:`archive.verdicts.Fetched` from a fetch result and what its body says (``examined``: was it read)."""
    redirects = tuple(str(h.request.url) for h in result.hops[1:])   # each hop's target, in order
    detail = result.error or ""
    if findings is not None and findings.problem:
        detail = f"{detail}; {findings.problem}" if detail else findings.problem
    return Fetched(
        outcome=str(result.outcome),
        status=result.status,
        final_url=result.final_url,
        redirects=redirects,
        content_type=findings.content_type if findings else None,
        image=findings.image if findings else None,
        article=findings.article if findings else None,
        detail=detail,
        examined=examined,
    )


def url_input(cited: CitedUrl, result: FetchResult | None, findings: BodyFindings | None,
              snapshot: Snapshot | None, *, examined: bool = True) -> UrlInput:
    return UrlInput(url=cited.url, citations=verdict_citations(cited),
                    fetch=fetched(result, findings, examined=examined) if result is not None else None,
                    snapshot=snapshot)


def kind_of(cited: CitedUrl, has_snapshot: bool) -> str:
    """``article``, ``image`` or ``link``: how the URL will be judged (decides what to read of its body)."""
    snap = Snapshot(document="") if has_snapshot else None
    return url_kind(verdict_citations(cited), snap)


def document_input(doc: Document, problems: Mapping[str, str]) -> DocumentInput:
    return DocumentInput(document=doc.id, title=doc.title or "", source_url=doc.snapshot_url,
                         cited_urls=doc.urls, problem=problems.get(doc.id, ""))
