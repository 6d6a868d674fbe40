"""The corpus scanner: folders, files and URLs in; documents, cited URLs and problems out.

``scan(paths)`` reads every snapshot (see :mod:`crawler.documents` for the shapes), collects
every URL they cite into one :class:`CitedUrl` per canonical URL carrying every
``(document, role)`` citation, links documents without a URL of their own to a cited URL by
title (:mod:`crawler.titles`), and reports problems as values. A bare URL given as a path
becomes a cited URL of role ``argument`` from the document ``<command line>``.

Scale: 100,000 documents must scan in well under a minute without holding the corpus in RAM.
:func:`iter_documents` streams one parsed file at a time, body included, in constant memory.
:func:`scan` keeps what the later stages need for the whole corpus (titles, hashes, dates,
URLs and citations, but no bodies: ``Document.body is None``) in a temporary SQLite database
(:mod:`crawler.scanstore`), so its memory is constant too; :func:`load_document` reads one
document again, body included, by its path.

Document ids are paths relative to the corpus root with ``/`` separators: the folder given,
the folder of a single file given, or the common folder of several paths.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from crawler.corpuswalk import iter_corpus_files
from crawler.inputs import split_inputs
from crawler.scanned import Citation, Document, ParsedDocument, Problem
from crawler.scanstore import PAGE_ROWS, CitedUrl, ScanStore, ScanUrls, UrlFacts
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
    "UrlFacts",
    "corpus_root",
    "iter_documents",
    "load_document",
    "scan",
]

#: the document id of URLs given on the command line
COMMAND_LINE = "<command line>"
#: files larger than this are reported (``too-large``) instead of read
DEFAULT_MAX_DOCUMENT_BYTES = 20_000_000


@dataclass(frozen=True, slots=True)
class ScanStatistics:
    documents: int
    shapes: Mapping[str, int]
    urls: int
    citations: int
    linked_by_title: int
    problems: Mapping[str, int]


class ScanResult:
    """Documents (bodies dropped), cited URLs and problems, each in corpus order, held on disk.

    ``documents``, ``urls`` and ``problems`` are sequences read from the scan's temporary
    database a page at a time (:mod:`crawler.scanstore`); :meth:`cited` and :meth:`snapshots`
    look one URL up. Close it (or use it as a context manager) to drop the database at once;
    otherwise it goes when the result is garbage-collected.
    """

    def __init__(self, store: ScanStore, root: str | None) -> None:
        self._store = store
        self.root = root
        self.documents: Sequence[Document] = store.documents
        self.urls: Sequence[CitedUrl] = store.urls
        self.problems: Sequence[Problem] = store.problems

    def statistics(self) -> ScanStatistics:
        return ScanStatistics(**self._store.counts())

    def cited(self, url: str) -> CitedUrl | None:
        """The citations of ``url``, or ``None`` when the corpus does not cite it."""
        return self._store.cited(url)

    def snapshots(self, url: str) -> list[Document]:
        """The documents that are snapshots of ``url`` (cited as ``originalUrl``/``webUrl``, or by title)."""
        return self._store.snapshots(url)

    def facts(self, url: str) -> UrlFacts:
        """``url``'s place among the cited URLs, its citations and its snapshots, in one look-up."""
        return self._store.facts(url)

    def cited_urls(self, *, keep: Callable[[int], bool] = lambda place: True, page_rows: int = PAGE_ROWS,
                   ) -> Iterator[tuple[int, CitedUrl, list[Document]]]:
        """``(place, citations, snapshots)`` of each cited URL whose place (0 first) ``keep`` accepts, in order,
        ``page_rows`` URLs a query."""
        return self._store.cited_urls(keep=keep, page_rows=page_rows)

    def citations_of(self, documents: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """``(url, role)`` of what each of ``documents`` cites, in corpus order."""
        return self._store.citations_of(documents)

    def url_index(self) -> ScanUrls:
        """The cited URLs as a report spool's index: count, place of a URL, all in order (none in RAM)."""
        return ScanUrls(self._store)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> ScanResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scan(paths: Iterable[str | os.PathLike[str]], *, root: str | os.PathLike[str] | None = None,
         max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES, store_path: str = "") -> ScanResult:
    """Scan folders, files and URLs. Raises :class:`UsageError` if a path does not exist.

    Memory does not grow with the corpus: each parsed file goes to the scan's temporary
    database (:class:`~crawler.scanstore.ScanStore`) before the next one is read; with
    ``store_path``, to a database at that path (a file that does not exist yet), for another
    process to open (:mod:`crawler.scan_process`).
    """
    url_args, fs_paths = split_inputs(paths)
    top = os.path.abspath(root) if root is not None else corpus_root(fs_paths)
    store = ScanStore(store_path)
    try:
        for parsed in _parsed_without_bodies(fs_paths, top, max_document_bytes):
            store.add(parsed.document, parsed.citations, parsed.problems)
        seen_args: set[str] = set()
        for arg in url_args:
            cleaned = clean_url(arg)
            if isinstance(cleaned, SkippedUrl):
                store.add_problem(Problem(COMMAND_LINE, "skipped-url", f"{arg[:200]!r}: {cleaned.reason}"))
            elif cleaned not in seen_args:
                seen_args.add(cleaned)
                store.add_citations([(cleaned, Citation(COMMAND_LINE, "argument"))])
        store.finish()
    except BaseException:
        store.close()
        raise
    return ScanResult(store, top)


T = TypeVar("T")

#: corpora with at least this many files are parsed in worker processes, one per core
PARALLEL_FILES = 2000
#: files a worker parses per batch (one round trip of pickled results)
_BATCH = 256


def _parsed_without_bodies(fs_paths: list[Path], top: str | None, max_bytes: int) -> Iterator[ParsedDocument]:
    """Every file parsed, in corpus order, bodies dropped; on several cores in worker processes.

    Parsing is pure CPU work per file (YAML, HTML, URLs), so a large corpus is cut into
    batches parsed by one process per core, and the results come back in order. Only a few
    batches are in flight at once (the walk is not read ahead further), so memory does not
    grow with the corpus even when storing the results is slower than parsing them. Workers
    drop bodies before sending results back, so little crosses the process boundary. The
    ``spawn`` start method is used: forking a process that may have threads (a test server,
    a library's pool) can deadlock.
    """
    entries = _walk(fs_paths, top)
    head = list(itertools.islice(entries, PARALLEL_FILES))
    workers = min(os.cpu_count() or 1, 8)
    if len(head) < PARALLEL_FILES or workers < 2:
        for entry in itertools.chain(head, entries):
            yield _read_entry(entry, max_bytes)
        return
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    batches = _batched(itertools.chain(head, entries), _BATCH)
    del head
    in_flight: collections.deque[Future[list[ParsedDocument]]] = collections.deque()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        for batch in batches:
            in_flight.append(pool.submit(_read_batch, batch, max_bytes))
            if len(in_flight) >= 2 * workers:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()


def _batched(items: Iterable[T], n: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(itertools.islice(it, n)):
        yield batch


def _walk(fs_paths: Iterable[str | os.PathLike[str]], top: str | None) -> Iterator[tuple[str, str] | Problem]:
    """``(path, document id)`` of every corpus file under ``fs_paths``, or the walk's problems, in order.

    One file reached through two arguments is read once; with one argument no file can be
    reached twice (the walk itself breaks link loops), and no set of every id is kept.
    """
    starts = [os.path.abspath(p) for p in fs_paths]
    seen: set[str] | None = set() if len(starts) > 1 else None

    def name_of(path: str) -> str:
        return _doc_id(path, top)

    for start in starts:
        for item in iter_corpus_files(start, name_of=name_of):
            if isinstance(item, Problem):
                yield item
                continue
            doc_id = name_of(item)
            if seen is not None:
                if doc_id in seen:
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
    # the parser and its imports (YAML, HTML, charsets) where files are read: not in a run's crawling process
    from crawler.documents import parse_document

    return parse_document(data, doc_id=doc_id, path=path)
