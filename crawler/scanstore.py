"""A scan's aggregates on disk: documents, cited URLs with their citations, title links, problems.

A corpus of 100,000 documents cites hundreds of thousands of URLs; holding every citation in
RAM made a scan grow by about 3 KB a document. :class:`ScanStore` keeps them in a private,
temporary SQLite database instead (``sqlite3.connect("")``: SQLite makes the file itself,
unlinks it at once and spills to it only what does not fit in a small page cache), so a
scan's memory stays the same whatever the corpus's size, and nothing is left behind even when
the process is killed.

Writing: :meth:`ScanStore.add` takes one parsed document's rows; every few thousand documents
go in one transaction. URLs keep the order they were first cited in, citations the corpus's
order. :meth:`ScanStore.link_titles` then links documents without a URL of their own by title
(the rule is :class:`crawler.titles.TitleIndex`'s, whose table lives in the same database).

Reading: the views (:attr:`ScanStore.documents`, :attr:`~ScanStore.urls`,
:attr:`~ScanStore.problems`) are sequences read a page of rows at a time, and
:meth:`ScanStore.cited` and :meth:`ScanStore.snapshots` look one URL up. Every read takes the
connection's lock and fetches whole pages, so a judging thread may look URLs up while the
event loop iterates: no cursor stays open across a ``yield``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from crawler.scanned import Citation, Document, Problem
from crawler.titles import TitleIndex

__all__ = ["PAGE_ROWS", "CitedUrl", "ScanStore", "ScanUrls", "TableView", "UrlFacts"]

#: rows fetched per query when a view is iterated
PAGE_ROWS = 512
#: documents whose rows are buffered before they are written (one transaction)
_BATCH_DOCUMENTS = 500

_SCHEMA = """
CREATE TABLE documents (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, path TEXT NOT NULL, shape TEXT NOT NULL, title TEXT,
    excerpt TEXT, published TEXT, content_hash TEXT NOT NULL, encoding TEXT NOT NULL, size INTEGER NOT NULL,
    urls TEXT NOT NULL, snapshot_url TEXT, snapshot_via TEXT
);
CREATE TABLE urls (seq INTEGER PRIMARY KEY, url TEXT NOT NULL);
CREATE TABLE citations (
    seq INTEGER PRIMARY KEY, url TEXT NOT NULL, document TEXT NOT NULL, role TEXT NOT NULL, title TEXT,
    excerpt TEXT, published TEXT, width INTEGER, height INTEGER
);
CREATE TABLE problems (seq INTEGER PRIMARY KEY, path TEXT NOT NULL, kind TEXT NOT NULL, message TEXT NOT NULL);
"""
#: made once the rows are in: while scanning every table is only appended to, which costs the same
#: at any size, where keeping a unique index up to date row by row slowed down as the corpus grew
_INDEXES = """
INSERT INTO urls (url) SELECT url FROM citations GROUP BY url ORDER BY MIN(seq);
CREATE INDEX citations_by_url ON citations (url, seq);
CREATE INDEX documents_by_snapshot ON documents (snapshot_url, seq);
CREATE INDEX citations_by_document ON citations (document, seq);
CREATE UNIQUE INDEX urls_by_url ON urls (url);
"""
_DOCUMENT_COLUMNS = ("id, path, shape, title, excerpt, published, content_hash, encoding, size, urls, "
                     "snapshot_url, snapshot_via")
_CITATION_COLUMNS = "document, role, title, excerpt, published, width, height"
_CITATION_WIDTH = _CITATION_COLUMNS.count(",") + 1
_DOCUMENT_WIDTH = _DOCUMENT_COLUMNS.count(",") + 1
#: a URL's place (kind 0), citations (1) and snapshot documents (2), each kind in corpus order; each
#: part reads its own index (``url`` is ``?1`` in all three), columns padded to the widest part
_FACTS = (
    f"SELECT 0, seq{', NULL' * _DOCUMENT_WIDTH} FROM urls WHERE url = ?1 "
    f"UNION ALL SELECT 1, seq, {_CITATION_COLUMNS}{', NULL' * (_DOCUMENT_WIDTH - _CITATION_WIDTH)} "
    "FROM citations WHERE url = ?1 "
    f"UNION ALL SELECT 2, seq, {_DOCUMENT_COLUMNS} FROM documents WHERE snapshot_url = ?1 "
    "ORDER BY 1, 2"
)


@dataclass(frozen=True, slots=True)
class UrlFacts:
    """What a run needs of a URL it fetched: its place among the cited URLs (``None``: not cited,
    e.g. a redirect's target), its citations (none then) and the documents that are snapshots of it."""

    place: int | None
    cited: CitedUrl
    snapshots: list[Document]


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


T = TypeVar("T")


class TableView(Sequence[T], Generic[T]):
    """A read-only sequence over one table's rows in ``seq`` order, read a page at a time."""

    def __init__(self, store: ScanStore, table: str, columns: str, make: Callable[[list[tuple[Any, ...]]], list[T]],
                 ) -> None:
        self._store, self._table, self._columns, self._make = store, table, columns, make

    def __len__(self) -> int:
        return int(self._store.query_one(f"SELECT COUNT(*) FROM {self._table}")[0])

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence (a tuple, a list, another view) of the same items in the same order."""
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{self._table} of a scan: {len(self)} rows>"

    def __iter__(self) -> Iterator[T]:
        for rows in self._store.pages(self._table, self._columns):
            yield from self._make([r[1:] for r in rows])

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            if stop <= start:
                return []
            rows = self._store.query(f"SELECT {self._columns} FROM {self._table} ORDER BY seq LIMIT ? OFFSET ?",
                                     (stop - start, start))
            return self._make(rows)
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        rows = self._store.query(f"SELECT {self._columns} FROM {self._table} ORDER BY seq LIMIT 1 OFFSET ?", (index,))
        return self._make(rows)[0]


class ScanStore:
    """The scan's rows in a private temporary SQLite database (see the module's docstring)."""

    def __init__(self, path: str = "", *, finished: bool = False) -> None:
        """A new store in a temporary file (or at ``path``, a file that does not exist yet); with
        ``finished``, the store another process's scan left at ``path``, to read."""
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "temp_store = FILE", "cache_size = -4096"):
            self._conn.execute(f"PRAGMA {pragma}")
        if not finished:
            self._conn.executescript(_SCHEMA)
        self.titles = TitleIndex(self._conn, create=not finished)
        self._citation_seq = 0
        self._finished = finished
        self._documents: list[tuple[Any, ...]] = []
        self._citations: list[tuple[Any, ...]] = []
        self._problems: list[tuple[str, str, str]] = []
        self.documents: TableView[Document] = TableView(self, "documents", _DOCUMENT_COLUMNS, _documents)
        self.problems: TableView[Problem] = TableView(self, "problems", "path, kind, message",
                                                      lambda rows: [Problem(*r) for r in rows])
        self.urls: TableView[CitedUrl] = TableView(self, "urls", "url", self._cited_urls)

    # -- writing --------------------------------------------------------------------------------------

    def add(self, document: Document | None, citations: Sequence[tuple[str, Citation]],
            problems: Sequence[Problem] = ()) -> None:
        """One parsed file's rows; the document's citations are ``(canonical URL, citation)`` pairs."""
        self._problems.extend((p.path, p.kind, p.message) for p in problems)
        if document is not None:
            self._documents.append(_document_row(document))
        if citations:
            self.add_citations(citations)
        if len(self._documents) >= _BATCH_DOCUMENTS:
            self._flush()

    def add_citations(self, citations: Sequence[tuple[str, Citation]]) -> None:
        first = self._citation_seq + 1
        self._citation_seq += len(citations)
        self._citations.extend((first + i, u, c.document, c.role, c.title, c.excerpt, c.published, c.width, c.height)
                               for i, (u, c) in enumerate(citations))
        self.titles.add_all((c.title, u, c.role, c.document, first + i) for i, (u, c) in enumerate(citations))

    def add_problem(self, problem: Problem) -> None:
        self._problems.append((problem.path, problem.kind, problem.message))

    def _flush(self) -> None:
        conn = self._conn
        conn.execute("BEGIN")
        try:
            conn.executemany(f"INSERT INTO documents ({_DOCUMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             self._documents)
            conn.executemany(f"INSERT INTO citations (seq, url, {_CITATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             self._citations)
            conn.executemany("INSERT INTO problems (path, kind, message) VALUES (?, ?, ?)", self._problems)
            self.titles.flush()
        finally:
            conn.execute("COMMIT")
        self._documents.clear()
        self._citations.clear()
        self._problems.clear()

    def finish(self) -> None:
        """Commit, index, and link documents by title; the store is read-only afterwards."""
        if self._finished:
            return
        self._flush()
        conn = self._conn
        conn.executescript(_INDEXES)
        self.titles.finish()
        self._link_titles()
        self._finished = True

    def _link_titles(self) -> None:
        """Documents with no URL of their own, linked to the URL cited elsewhere under their title."""
        conn = self._conn
        for rows in self.pages("documents", "id, title, urls", where="snapshot_url IS NULL"):
            conn.execute("BEGIN")
            for seq, doc_id, title, urls in rows:
                linked = self.titles.match(title, document=doc_id)
                if linked is not None:
                    conn.execute("UPDATE documents SET snapshot_url = ?, snapshot_via = 'title' WHERE seq = ?",
                                 (linked, seq))
                elif not urls:
                    conn.execute("INSERT INTO problems (path, kind, message) VALUES (?, 'no-cited-url', ?)",
                                 (doc_id, "cites no URL and no cited title matches its title; nothing to fetch for it"))
            conn.execute("COMMIT")

    # -- reading --------------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...]:
        with self._lock:
            row = self._conn.execute(sql, params).fetchone()
        assert row is not None
        return tuple(row)

    def cited(self, url: str) -> CitedUrl | None:
        """``url``'s citations, or ``None`` when no document cites it."""
        found = self._cited_urls([(url,)])
        return found[0] if found[0].citations else None

    def snapshots(self, url: str) -> list[Document]:
        """The documents that are snapshots of ``url``, in corpus order."""
        return self._snapshots_of([url]).get(url, [])

    def facts(self, url: str) -> UrlFacts:
        """``url``'s place, citations and snapshot documents in one query (:meth:`url_position`,
        :meth:`cited` and :meth:`snapshots` are one each). A run reads them with its requests, a
        page at a time (``crawler.pipeline.ScanRequests``); this is for the URLs it did not."""
        place: int | None = None
        citations: list[Citation] = []
        snapshots: list[tuple[Any, ...]] = []
        for kind, seq, *row in self.query(_FACTS, (url,)):
            if kind == 0:
                place = int(seq) - 1
            elif kind == 1:
                citations.append(Citation(*row[:_CITATION_WIDTH]))
            else:
                snapshots.append(tuple(row))
        return UrlFacts(place, CitedUrl(url, tuple(citations)), _documents(snapshots))

    def cited_urls(self, *, keep: Callable[[int], bool] = lambda place: True, page_rows: int = PAGE_ROWS,
                   ) -> Iterator[tuple[int, CitedUrl, list[Document]]]:
        """``(place, citations, snapshot documents)`` of every cited URL whose place ``keep`` accepts, in order.

        A page of URLs at a time, with one query for the page's citations and one for its
        snapshots, as :meth:`cited` and :meth:`snapshots` read them (a run reporting 100,000
        URLs it did not fetch asked those two and the URL's place for each: 300,000 queries).
        ``keep`` is asked as each page is read, so it may change while the caller iterates.
        """
        for rows in self.pages("urls", "url", size=page_rows):
            wanted = [(seq - 1, url) for seq, url in rows if keep(seq - 1)]
            if not wanted:
                continue
            urls = [url for _, url in wanted]
            snapshots = self._snapshots_of(urls)
            for (place, url), cited in zip(wanted, self._cited_urls([(url,) for url in urls]), strict=True):
                yield place, cited, snapshots.get(url, [])

    def citations_of(self, documents: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """``(url, role)`` of each of ``documents``' citations, in corpus order (documents citing nothing left out)."""
        out: dict[str, list[tuple[str, str]]] = {}
        for document, url, role in self._rows_where("citations", "document, url, role", "document", documents):
            out.setdefault(document, []).append((url, role))
        return out

    def url_position(self, url: str) -> int | None:
        """``url``'s place among the cited URLs (0 for the first cited), ``None`` when not cited."""
        return self.url_positions([url]).get(url)

    def url_positions(self, urls: Iterable[str]) -> dict[str, int]:
        """The places of those of ``urls`` that are cited (0 for the first cited)."""
        return {url: int(seq) - 1 for url, seq in self._rows_where("urls", "url, seq", "url", list(urls))}

    def _rows_where(self, table: str, columns: str, key: str, values: Sequence[str]) -> list[tuple[Any, ...]]:
        """``columns`` of ``table``'s rows whose ``key`` is one of ``values``, in ``seq`` order, 500 values a query.

        (``IN (?)`` with one value is planned as ``= ?``: a URL looked up alone reads its index in order.)
        """
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(values), 500):
            part = values[start:start + 500]
            rows += self.query(f"SELECT {columns} FROM {table} WHERE {key} IN ({', '.join('?' * len(part))}) "
                               "ORDER BY seq", part)
        return rows

    def url_strings(self) -> Iterator[str]:
        """Every cited URL in first-cited order, without its citations."""
        for rows in self.pages("urls", "url", size=PAGE_ROWS * 8):
            for _, url in rows:
                yield url

    def pages(self, table: str, columns: str, *, where: str = "", size: int = PAGE_ROWS,
              ) -> Iterator[list[tuple[Any, ...]]]:
        """``table``'s rows (``seq`` first, then ``columns``) in ``seq`` order, ``size`` at a time.

        Each page is one query that resumes after the last ``seq`` seen, so no cursor stays open
        between pages and the rows of a page may be updated before the next is read.
        """
        last = 0
        condition = f"seq > ? AND ({where})" if where else "seq > ?"
        while rows := self.query(f"SELECT seq, {columns} FROM {table} WHERE {condition} ORDER BY seq LIMIT {size}",
                                 (last,)):
            last = rows[-1][0]
            yield rows

    def counts(self) -> dict[str, Any]:
        """Rows per table and the break-downs :class:`~crawler.corpus.ScanStatistics` reports."""
        return {
            "documents": self.query_one("SELECT COUNT(*) FROM documents")[0],
            "shapes": dict(self.query("SELECT shape, COUNT(*) FROM documents GROUP BY shape ORDER BY MIN(seq)")),
            "urls": self.query_one("SELECT COUNT(*) FROM urls")[0],
            "citations": self.query_one("SELECT COUNT(*) FROM citations")[0],
            "linked_by_title": self.query_one("SELECT COUNT(*) FROM documents WHERE snapshot_via = 'title'")[0],
            "problems": dict(self.query("SELECT kind, COUNT(*) FROM problems GROUP BY kind ORDER BY MIN(seq)")),
        }

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _cited_urls(self, rows: list[tuple[Any, ...]]) -> list[CitedUrl]:
        """Each ``(url,)`` row's citations, in corpus order: one query for the rows (a page of a view)."""
        urls = [url for (url,) in rows]
        citations: dict[str, list[Citation]] = {url: [] for url in urls}
        for row in self._rows_where("citations", f"url, {_CITATION_COLUMNS}", "url", urls):
            citations[row[0]].append(Citation(*row[1:]))
        return [CitedUrl(url, tuple(citations[url])) for url in urls]

    def _snapshots_of(self, urls: Sequence[str]) -> dict[str, list[Document]]:
        """The documents that are snapshots of each of ``urls`` (those with any), in corpus order."""
        out: dict[str, list[Document]] = {}
        for doc in _documents(self._rows_where("documents", _DOCUMENT_COLUMNS, "snapshot_url", urls)):
            out.setdefault(doc.snapshot_url or "", []).append(doc)
        return out


class ScanUrls:
    """The cited URLs in first-cited order, their count and each one's place, looked up in the store.

    What a report spool needs (:class:`archive.report_spool.UrlIndex`) without a URL string in RAM.
    """

    def __init__(self, store: ScanStore) -> None:
        self._store = store
        self._len = int(store.query_one("SELECT COUNT(*) FROM urls")[0])

    def __len__(self) -> int:
        return self._len

    def position(self, url: str) -> int | None:
        return self._store.url_position(url)

    def positions(self, urls: Iterable[str]) -> dict[str, int]:
        return self._store.url_positions(urls)

    def __iter__(self) -> Iterator[str]:
        return self._store.url_strings()


def _document_row(d: Document) -> tuple[Any, ...]:
    return (d.id, d.path, d.shape, d.title, d.excerpt, d.published.isoformat() if d.published else None,
            d.content_hash, d.encoding, d.size, "\n".join(d.urls), d.snapshot_url, d.snapshot_via)


def _documents(rows: list[tuple[Any, ...]]) -> list[Document]:
    return [Document(id=r[0], path=r[1], shape=r[2], title=r[3], body=None, excerpt=r[4],
                     published=dt.datetime.fromisoformat(r[5]) if r[5] else None, content_hash=r[6],
                     encoding=r[7], size=r[8], urls=tuple(r[9].split("\n")) if r[9] else (), snapshot_url=r[10], snapshot_via=r[11])
            for r in rows]
