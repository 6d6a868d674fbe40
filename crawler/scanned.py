"""The values a corpus scan yields: documents, their citations, problems (no parser imported).

:mod:`crawler.documents` makes them from a file's bytes (YAML, HTML, charset detection: ~0.1 s
of imports); a run's crawling process, whose scan runs in a process of its own
(:mod:`crawler.scan_process`), only reads them, so it imports this module alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["NOTICE_KINDS", "Citation", "Document", "ParsedDocument", "Problem"]

#: problem kinds that do not stop a document from being scanned
NOTICE_KINDS = frozenset({"not-utf8-decoded", "bad-date", "skipped-url", "no-cited-url"})


@dataclass(frozen=True, slots=True)
class Citation:
    """One document citing one URL in one role, with the metadata it cites beside the URL."""

    document: str
    role: str
    title: str | None = None
    excerpt: str | None = None
    published: str | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Document:
    """A stored snapshot. ``body`` is ``None`` when dropped to save memory (see :func:`crawler.corpus.scan`)."""

    id: str
    path: str
    shape: str
    title: str | None
    body: str | None
    excerpt: str | None
    published: dt.datetime | None
    content_hash: str
    encoding: str
    size: int
    urls: tuple[str, ...]
    snapshot_url: str | None = None
    snapshot_via: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something about one input a person should know; ``kind`` is a stable machine-readable word.

    Kinds: ``binary``, ``bad-yaml``, ``empty``, ``unreadable``, ``too-large`` (the file yields
    no document) and the notices ``not-utf8-decoded``, ``bad-date``, ``skipped-url``,
    ``no-cited-url`` (the document is scanned anyway).
    """

    path: str
    kind: str
    message: str

    @property
    def is_notice(self) -> bool:
        return self.kind in NOTICE_KINDS


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """What one file yields: the document (or none), ``(url, citation)`` pairs and problems."""

    document: Document | None
    citations: tuple[tuple[str, Citation], ...]
    problems: tuple[Problem, ...]
