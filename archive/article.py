"""The value extraction returns: one article's text and metadata, frozen and JSON-ready."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from archive.boilerplate import text_weight

__all__ = ["Article", "BodySource"]

#: where the body text came from: the page's own markup, its JSON-LD ``articleBody``, or nothing
BodySource = Literal["dom", "json-ld", "none"]


@dataclass(frozen=True, slots=True)
class Article:
    """An extracted article.

    ``text`` is ``paragraphs`` joined by blank lines. ``published`` and
    ``modified`` are ISO 8601 (a date, or a date-time with its offset when the
    page gave one). ``language`` is the BCP 47 tag the page declares (``"en"``,
    ``"zh-CN"``) or, for undeclared CJK pages, one read from the script.
    ``encoding`` is the Python codec the bytes were decoded with, and
    ``encoding_source`` how it was chosen (``bom``, ``http``, ``meta``,
    ``detected``, ``default``; ``None`` when text was given).
    """

    title: str | None = None
    text: str = ""
    paragraphs: tuple[str, ...] = ()
    published: str | None = None
    modified: str | None = None
    authors: tuple[str, ...] = ()
    language: str | None = None
    url: str | None = None
    canonical_url: str | None = None
    lead_image: str | None = None
    site_name: str | None = None
    description: str | None = None
    encoding: str | None = None
    encoding_source: str | None = None
    body_source: BodySource = "none"

    @property
    def is_empty(self) -> bool:
        return not self.paragraphs

    def is_article(self, min_chars: int = 200) -> bool:
        """Enough body text to be an article (``extract.min_article_chars``; a CJK character counts three)."""
        return text_weight(self.text) >= min_chars

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (tuples become lists)."""
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
                for f in dataclasses.fields(self)}
