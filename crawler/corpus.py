"""The corpus scanner: folders, files and URLs in; documents, cited URLs and problems out.

``scan(paths)`` reads every snapshot (see :mod:`crawler.documents` for the shapes), collects
every URL they cite into one :class:`CitedUrl` per canonical URL carrying every
``(document, role)`` citation, links documents without a URL of their own to a cited URL by
title (:mod:`crawler.titles`), and reports problems as values. A bare URL given as a path
becomes a cited URL of role ``argument`` from the document ``<command line>``.

Scale: 100,000 documents must scan in well under a minute without holding the corpus in RAM.
:func:`iter_documents` streams one parsed file at a time, body included, in constant memory.
:func:`scan` keeps what the later stages need for the whole corpus at once (titles, hashes,
dates, URLs and citations) but drops every document's body (``Document.body is None``);
:func:`load_document` reads one document again, body included, by its path.

Document ids are paths relative to the corpus root with ``/`` separators: the folder given,
the folder of a single file given, or the common folder of several paths.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from crawler.corpuswalk import iter_corpus_files
from crawler.documents import Citation, Document, ParsedDocument, Problem, parse_document
from crawler.errors import UsageError
from crawler.titles import TitleIndex
from crawler.urls import SkippedUrl, clean_url

__all__ = [
    "COMMAND_LINE",
    "DEFAULT_MAX_DOCUMENT_BYTES",
    "Citation",
    "CitedUrl",
    "Document",
    "ParsedDocument",
    "Problem",
    "ScanResult",
    "ScanStatistics",
    "UrlAggregator",
    "corpus_root",
    "iter_documents",
    "load_document",
    "scan",
]

#: the document id of URLs given on the command line
COMMAND_LINE = "<command line>"
#: files larger than this are reported (``too-large``) instead of read
DEFAULT_MAX_DOCUMENT_BYTES = 20_000_000
_URL_ARG = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^(?:javascript|mailto|data|tel):", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CitedUrl:
    """One canonical URL and every ``(document, role)`` that cites it, in corpus order."""

    url: str
    citations: tuple[Citation, ...]

    @property
    def roles(self) -> tuple[str, ...]:
        """Distinct roles, in the order first cited."""
        return tuple(dict.fromkeys(c.role for c in self.citations))

    @property
    def documents(self) -> tuple[str, ...]:
        """Distinct citing documents, in corpus order."""
        return tuple(dict.fromkeys(c.document for c in self.citations))


@dataclass(frozen=True, slots=True)
class ScanStatistics:
    documents: int
    shapes: Mapping[str, int]
    urls: int
    citations: int
    linked_by_title: int
    problems: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Documents (bodies dropped), cited URLs and problems, each in corpus order."""

    documents: tuple[Document, ...]
    urls: tuple[CitedUrl, ...]
    problems: tuple[Problem, ...]
    root: str | None = None

    def statistics(self) -> ScanStatistics:
        return ScanStatistics(
            documents=len(self.documents),
            shapes=dict(Counter(d.shape for d in self.documents)),
            urls=len(self.urls),
            citations=sum(len(u.citations) for u in self.urls),
            linked_by_title=sum(1 for d in self.documents if d.snapshot_via == "title"),
            problems=dict(Counter(p.kind for p in self.problems)),
        )


class UrlAggregator:
    """Citations grouped by canonical URL, in first-cited order; identical metadata text is shared."""

    def __init__(self) -> None:
        self._by_url: dict[str, list[Citation]] = {}
        self._texts: dict[str, str] = {}

    def add(self, url: str, citation: Citation) -> None:
        if citation.title is not None or citation.excerpt is not None:
            c = citation
            citation = Citation(c.document, c.role, self._share(c.title), self._share(c.excerpt), c.published,
                                c.width, c.height)
        self._by_url.setdefault(url, []).append(citation)

    def _share(self, text: str | None) -> str | None:
        return None if text is None else self._texts.setdefault(text, text)

    def __len__(self) -> int:
        return len(self._by_url)

    def cited_urls(self) -> tuple[CitedUrl, ...]:
        return tuple(CitedUrl(url, tuple(cits)) for url, cits in self._by_url.items())


def scan(paths: Iterable[str | os.PathLike[str]], *, root: str | os.PathLike[str] | None = None,
         max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> ScanResult:
    """Scan folders, files and URLs. Raises :class:`UsageError` if a path does not exist."""
    url_args, fs_paths = _split_inputs(paths)
    top = os.path.abspath(root) if root is not None else corpus_root(fs_paths)
    aggregator = UrlAggregator()
    titles = TitleIndex()
    documents: list[Document] = []
    problems: list[Problem] = []
    freeze = gc.get_freeze_count() == 0  # never undo a freeze the application made itself
    try:
        _collect(fs_paths, top, max_document_bytes, aggregator, titles, documents, problems, freeze=freeze)
    finally:
        if freeze:
            gc.unfreeze()
    seen_args: set[str] = set()
    for arg in url_args:
        cleaned = clean_url(arg)
        if isinstance(cleaned, SkippedUrl):
            problems.append(Problem(COMMAND_LINE, "skipped-url", f"{arg[:200]!r}: {cleaned.reason}"))
        elif cleaned not in seen_args:
            seen_args.add(cleaned)
            aggregator.add(cleaned, Citation(COMMAND_LINE, "argument"))
    for i, doc in enumerate(documents):
        if doc.snapshot_url is None:
            linked = titles.match(doc.title, document=doc.id)
            if linked is not None:
                documents[i] = doc = dataclasses.replace(doc, snapshot_url=linked, snapshot_via="title")
        if doc.snapshot_url is None and not doc.urls:
            problems.append(Problem(doc.id, "no-cited-url",
                                    "cites no URL and no cited title matches its title; nothing to fetch for it"))
    return ScanResult(tuple(documents), aggregator.cited_urls(), tuple(problems), top)


#: documents between two ``gc.freeze()`` calls while scanning
_FREEZE_EVERY = 5000


#: corpora with at least this many files are parsed in worker processes, one per core
PARALLEL_FILES = 2000
#: files a worker parses per batch (one round trip of pickled results)
_BATCH = 256


def _collect(fs_paths: list[Path], top: str | None, max_document_bytes: int, aggregator: UrlAggregator,
             titles: TitleIndex, documents: list[Document], problems: list[Problem], *, freeze: bool) -> None:
    """Feed every parsed file into the aggregates.

    The result grows by millions of small objects that live until the scan ends; the cyclic
    garbage collector would walk all of them again and again (15 % of a 100,000-document scan).
    ``gc.freeze()`` moves what exists to the permanent generation every few thousand documents,
    so the collector only looks at what is new; :func:`scan` unfreezes at the end (and does none
    of this if the application has frozen objects itself).
    """
    for n, parsed in enumerate(_parsed_without_bodies(fs_paths, top, max_document_bytes), 1):
        problems.extend(parsed.problems)
        doc = parsed.document
        if doc is None:
            continue
        for url, citation in parsed.citations:
            aggregator.add(url, citation)
            titles.add(citation.title, url, citation.role, doc.id)
        documents.append(doc if doc.body is None else dataclasses.replace(doc, body=None))
        if freeze and n % _FREEZE_EVERY == 0:
            gc.freeze()


def _parsed_without_bodies(fs_paths: list[Path], top: str | None, max_bytes: int) -> Iterator[ParsedDocument]:
    """Every file parsed, in corpus order, bodies dropped; on several cores in worker processes.

    Parsing is pure CPU work per file (YAML, HTML, URLs), so a large corpus is cut into
    batches parsed by one process per core, and the results come back in order
    (``Executor.map``). Workers drop bodies before sending results back, so little crosses
    the process boundary. The ``spawn`` start method is used: forking a process that may
    have threads (a test server, a library's pool) can deadlock.
    """
    entries = list(_walk(fs_paths, top))
    files = sum(1 for e in entries if not isinstance(e, Problem))
    workers = min(os.cpu_count() or 1, 8)
    if files < PARALLEL_FILES or workers < 2:
        for entry in entries:
            yield _read_entry(entry, max_bytes)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    batches = [entries[i:i + _BATCH] for i in range(0, len(entries), _BATCH)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for batch in pool.map(_read_batch, batches, [max_bytes] * len(batches)):
            yield from batch


def _walk(fs_paths: Iterable[str | os.PathLike[str]], top: str | None) -> Iterator[tuple[str, str] | Problem]:
    """``(path, document id)`` of every corpus file under ``fs_paths``, or the walk's problems, in order."""
    seen: set[str] = set()

    def name_of(path: str) -> str:
        return _doc_id(path, top)

    for start in fs_paths:
        for item in iter_corpus_files(os.path.abspath(start), name_of=name_of):
            if isinstance(item, Problem):
                yield item
                continue
            doc_id = name_of(item)
            if doc_id in seen:  # the same file reached through two arguments
                continue
            seen.add(doc_id)
            yield item, doc_id


def _read_entry(entry: tuple[str, str] | Problem, max_bytes: int, *, drop_body: bool = True) -> ParsedDocument:
    if isinstance(entry, Problem):
        return ParsedDocument(None, (), (entry,))
    parsed = _read(entry[0], entry[1], max_bytes)
    if drop_body and parsed.document is not None and parsed.document.body is not None:
        parsed = dataclasses.replace(parsed, document=dataclasses.replace(parsed.document, body=None))
    return parsed


def _read_batch(entries: list[tuple[str, str] | Problem], max_bytes: int) -> list[ParsedDocument]:
    """A worker's job: parse a batch of files (top level so that it pickles)."""
    return [_read_entry(e, max_bytes) for e in entries]


def iter_documents(paths: Iterable[str | os.PathLike[str]], *, root: str | os.PathLike[str] | None = None,
                   max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> Iterator[ParsedDocument]:
    """Parse every file under ``paths`` one at a time, bodies included (constant memory).

    Documents are not title-linked here: that needs the whole corpus (see :func:`scan`).
    """
    fs_paths = [os.path.abspath(p) for p in paths]
    top = os.path.abspath(root) if root is not None else corpus_root(fs_paths)
    for entry in _walk(fs_paths, top):
        yield _read_entry(entry, max_document_bytes, drop_body=False)


def load_document(path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None,
                  max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> ParsedDocument:
    """Read and parse one document again, body included (``Document.path`` from a scan works).

    The snapshot link by title is not redone (it needs the whole corpus); take it from the scan.
    Compare ``content_hash`` with the scan's to notice a file changed in between.
    """
    p = os.path.abspath(path)
    top = os.path.abspath(root) if root is not None else os.path.dirname(p)
    return _read(p, _doc_id(p, top), max_document_bytes)


def corpus_root(paths: Iterable[str | os.PathLike[str]]) -> str | None:
    """The folder document ids are relative to: a folder given, a file's folder, or their common folder."""
    folders = [os.path.abspath(p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p))) for p in paths]
    if not folders:
        return None
    return os.path.commonpath(folders)


def _split_inputs(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[str], list[Path]]:
    url_args: list[str] = []
    fs_paths: list[Path] = []
    for item in paths:
        text = os.fspath(item)
        if isinstance(item, str) and _URL_ARG.match(text) and not os.path.exists(text):
            url_args.append(text)
            continue
        p = Path(text)
        if not os.path.lexists(p):
            raise UsageError(f"{text}: no such file or folder")
        fs_paths.append(p)
    return url_args, fs_paths


def _doc_id(path: str, root: str | os.PathLike[str] | None) -> str:
    """``path`` (absolute) relative to ``root``, ``/``-separated; a string prefix in the common case."""
    if root is None:
        rel = os.path.basename(path)
    else:
        prefix = os.path.join(os.fspath(root), "")
        rel = path[len(prefix):] if path.startswith(prefix) else os.path.relpath(path, root)
    return sys.intern(rel.replace(os.sep, "/") if os.sep != "/" else rel)


def _read(path: str, doc_id: str, max_bytes: int) -> ParsedDocument:
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return ParsedDocument(None, (), (Problem(doc_id, "unreadable", f"cannot read: {exc.strerror or exc}"),))
    if len(data) > max_bytes:
        return ParsedDocument(None, (), (Problem(doc_id, "too-large",
                                                 f"larger than {max_bytes} bytes; not read as a document"),))
    return parse_document(data, doc_id=doc_id, path=path)
