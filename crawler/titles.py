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
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["TitleIndex", "is_image_role", "normalise_title"]

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
#: punctuation, symbols, whitespace and controls (everything but letters, digits and marks) → one space
_NOT_WORD = re.compile(r"[^\w\u0300-\u036f\u0900-\u0dff]+|_+")
_IMAGE_PARTS = ("image", "img", "thumbnail", "thumb", "photo", "picture", "logo", "icon", "avatar")


@functools.lru_cache(maxsize=1 << 15)  # a corpus cites the same related titles again and again
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


@dataclass(slots=True)
class _Cited:
    documents: int
    first: str
    last: str


@dataclass(slots=True)
class TitleIndex:
    """Cited page titles → URL, fed while scanning and asked once the scan is done.

    When one title is cited for several URLs, the URL cited by the most documents wins, then
    the first one seen, so the answer depends on nothing but the corpus. Memory is one small
    record per (title, URL), not per citation.
    """

    _by_title: dict[str, dict[str, _Cited]] = field(default_factory=dict)
    _order: dict[str, int] = field(default_factory=dict)

    def add(self, title: str | None, url: str, role: str, document: str) -> None:
        """Record that ``document`` cites ``url`` as ``role`` under ``title``.

        A document's citations are added together, one document after the other.
        """
        if not title or is_image_role(role):
            return
        key = normalise_title(title)
        if not key:
            return
        self._order.setdefault(url, len(self._order))
        urls = self._by_title.setdefault(key, {})
        cited = urls.get(url)
        if cited is None:
            urls[url] = _Cited(1, document, document)
        elif cited.last != document:
            cited.documents += 1
            cited.last = document

    def add_all(self, entries: Iterable[tuple[str | None, str, str, str]]) -> None:
        for title, url, role, document in entries:
            self.add(title, url, role, document)

    def match(self, title: str | None, *, document: str) -> str | None:
        """The URL cited elsewhere under ``title``, or ``None``; citations by ``document`` itself do not count."""
        if not title:
            return None
        candidates = self._by_title.get(normalise_title(title))
        if not candidates:
            return None
        others = {url: c.documents - (c.first == document) for url, c in candidates.items()}
        others = {url: n for url, n in others.items() if n > 0}
        if not others:
            return None
        return min(others, key=lambda url: (-others[url], self._order[url]))
