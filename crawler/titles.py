"""Linking a document with no URL of its own to the URL whose cited title matches its title.

Plain-text snapshots carry no URL, but another document often cites the same article by title
(``related[1].title`` beside ``related[1].webUrl``). Titles are compared after normalising what
differs between a scraped page and a hand-written front matter without changing the words:
Unicode NFKC (full-width forms become ASCII), case folding, curly and straight quotes, and every
run of punctuation, symbols and whitespace collapsed to one space.

Only page citations are candidates: an image never carries an article's title (front matter
puts ``headimg`` beside the document's own ``title``, which would otherwise link a document to
its own picture), and a document is never linked to a URL only it cites.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import unicodedata
from collections.abc import Iterable

__all__ = ["TitleIndex", "is_image_role", "normalise_title"]

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
#: punctuation, symbols, whitespace and controls (everything but letters, digits and marks) → one space
_NOT_WORD = re.compile(r"[^\w\u0300-\u036f\u0900-\u0dff]+|_+")
_IMAGE_PARTS = ("image", "img", "thumbnail", "thumb", "photo", "picture", "logo", "icon", "avatar")


@functools.lru_cache(maxsize=4096)  # a corpus cites the same related titles again and again (bounded: ~1 MB)
def normalise_title(title: str) -> str:
    """A title reduced to its words, for comparison.

    >>> normalise_title("  Asia’s  LARGEST — AI centre!  ")
    'asia s largest ai centre'
    >>> normalise_title("ＳｅｎｓｅＴｉｍｅ launches") == normalise_title("sensetime LAUNCHES")
    True
    >>> normalise_title("打造人工智能高地！华东首个")
    '打造人工智能高地 华东首个'
    """
    text = unicodedata.normalize("NFKC", title).translate(_QUOTES).casefold()
    return _NOT_WORD.sub(" ", text).strip()


@functools.lru_cache(maxsize=4096)  # a few hundred distinct roles even in a large corpus
def is_image_role(role: str) -> bool:
    """Whether a role names an image (``images[0].url``, ``headimg``, ``body.img``), not a page.

    >>> [is_image_role(r) for r in ("related[1].webUrl", "related[1].images[0].url", "headimg")]
    [False, True, True]
    """
    lowered = role.lower()
    return any(part in lowered for part in _IMAGE_PARTS)


class TitleIndex:
    """Cited page titles → URL, fed while scanning and asked once the scan is done.

    When one title is cited for several URLs, the URL cited by the most documents wins, then
    the one given a title first, so the answer depends on nothing but the corpus. The rows live
    in a table of ``conn`` (the scan's database, :mod:`crawler.scanstore`): one row per
    (title, URL), not per citation, and none of it in RAM.

    >>> import sqlite3
    >>> index = TitleIndex(sqlite3.connect(":memory:"))
    >>> index.add("Harbour plan", "https://a.example/1", "related[0].webUrl", "one.md", order=1)
    >>> index.add("HARBOUR  plan!", "https://a.example/1", "related[0].webUrl", "two.md", order=2)
    >>> index.add("Harbour plan", "https://a.example/pic.jpg", "related[0].images[0].url", "two.md", order=3)
    >>> index.finish()
    >>> index.match("harbour plan", document="three.md")
    'https://a.example/1'
    >>> index.match("Another title", document="three.md") is None
    True
    """

    def __init__(self, conn: sqlite3.Connection, *, create: bool = True) -> None:
        """The index in ``conn``: its table made there, or (``create=False``) already there."""
        self._conn = conn
        self._rows: list[tuple[str, str, str, int]] = []
        if create:
            conn.execute("CREATE TABLE title_citations (key TEXT NOT NULL, url TEXT NOT NULL, "
                         "document TEXT NOT NULL, first_order INTEGER NOT NULL)")

    def add(self, title: str | None, url: str, role: str, document: str, *, order: int) -> None:
        """Record that ``document`` cites ``url`` as ``role`` under ``title``; ``order`` grows with every call."""
        self.add_all([(title, url, role, document, order)])

    def add_all(self, citations: Iterable[tuple[str | None, str, str, str, int]]) -> None:
        """:meth:`add` for each ``(title, url, role, document, order)``; rows are written by :meth:`flush`."""
        for title, url, role, document, order in citations:
            if not title or is_image_role(role):
                continue
            key = normalise_title(title)
            if key:
                self._rows.append((key, url, document, order))

    def flush(self) -> None:
        """Write the rows added since the last flush (the caller owns the transaction)."""
        self._conn.executemany("INSERT INTO title_citations VALUES (?, ?, ?, ?)", self._rows)
        self._rows.clear()

    def finish(self) -> None:
        """One row per (title, URL): how many documents cite it, the first of them, when it was first titled.

        Call once, after the last :meth:`add`. Every citation was only appended while scanning
        (the same cost at any corpus size); the grouping is one sort here. In a group, the bare
        ``document`` column comes from the row with the smallest ``first_order`` (SQLite's rule
        for a bare column beside ``MIN()``): the first citing document.
        """
        self.flush()
        self._conn.executescript("""
            CREATE TABLE titles (key TEXT NOT NULL, url TEXT NOT NULL, documents INTEGER NOT NULL,
                                 first TEXT NOT NULL, first_order INTEGER NOT NULL, PRIMARY KEY (key, url)) WITHOUT ROWID;
            INSERT INTO titles SELECT key, url, COUNT(DISTINCT document), document, MIN(first_order)
                FROM title_citations GROUP BY key, url;
            DROP TABLE title_citations;
            CREATE INDEX titles_by_url ON titles (url, first_order);
        """)

    def match(self, title: str | None, *, document: str) -> str | None:
        """The URL cited elsewhere under ``title``, or ``None``; citations by ``document`` itself do not count."""
        if not title:
            return None
        row = self._conn.execute(
            "SELECT url, documents - (first = ?) AS others, "
            "(SELECT MIN(first_order) FROM titles AS t WHERE t.url = titles.url) AS seen "
            "FROM titles WHERE key = ? AND others > 0 ORDER BY others DESC, seen LIMIT 1",
            (document, normalise_title(title))).fetchone()
        return None if row is None else str(row[0])
