"""The elements of a parsed page that metadata and body extraction start from, found in one walk.

Both :mod:`archive.metadata` and :mod:`archive.paragraphs` begin by finding
elements all over the page (``<meta>``, ``<time>``, JSON-LD scripts, author
links; paragraphs, line breaks, junk, the links in paragraphs). Every
``css()`` call is a walk of the whole tree, and lexbor tests every element
against every selector of a list (~10 ns each: a list of 20 tags costs twice
the walk). So :class:`PageElements` finds what is known by its tag in one
``traverse()`` of ``<head>`` and one of ``<body>`` (a tag-id lookup per
element), and what needs an attribute or an ancestor test in one ``css()``
call, which lexbor makes in C.

Nothing is changed here: the metadata is read from the page as parsed (JSON-LD
lives in ``<script>``), then :func:`archive.paragraphs.collect_paragraphs`
removes the junk.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archive.boilerplate import JUNK_TAGS, tag_ids

__all__ = ["ARTICLE_MARKS", "PageElements", "in_paragraph"]

#: the itemprop values that mark the article body (case-sensitive, as the markup has them)
ARTICLE_MARKS = ("articleBody", "articlebody")


def _one(name: str) -> int:
    return next(iter(tag_ids(name)))


_A, _BR, _H1, _LINK, _META, _SCRIPT, _TIME, _TITLE = map(_one, ("a", "br", "h1", "link", "meta", "script", "time",
                                                              "title"))
_PARAGRAPH_TAGS = tag_ids("p", "pre", "td")
_HEAD_TAGS = frozenset({_META, _TITLE, _H1, _TIME})  # what the metadata reads by tag
_BODY_TAGS = _HEAD_TAGS | _PARAGRAPH_TAGS | tag_ids(*JUNK_TAGS) | {_BR}

#: found by attribute or ancestor, in one css() call over the page (lexbor compares ``rel`` and ``type``
#: values case-insensitively). Metadata: JSON-LD, the canonical link, microdata dates and authors
#: (itemprop values are compared here: a presence test is cheaper for lexbor than three value tests,
#: and few elements have one), author links; paragraphs: the links in paragraph-like elements (one
#: ancestor test for the three tags) and the article-body marks. lexbor lists an element once per
#: selector it matches, one copy after the other.
_SELECTED = 'script[type*="ld+json"], link[rel="canonical"], [itemprop], [rel="author"], a[href*="/author/"], :is(p, pre, td) a'



class PageElements:
    """The elements of one page by role, each in document order (so the first of a kind is what
    ``css_first`` would give) and each listed once."""

    __slots__ = ("authors", "breaks", "firsts", "junk", "links", "marks", "metas", "scripts", "sources", "times")

    def __init__(self, tree: LexborHTMLParser) -> None:
        self.metas: list[LexborNode] = []
        self.scripts: list[LexborNode] = []    # JSON-LD (and microdata-marked scripts)
        self.times: list[LexborNode] = []
        self.authors: list[LexborNode] = []    # microdata, rel=author and /author/ links
        self.firsts: dict[str, LexborNode] = {}  # title, h1, link (canonical), itemprop-date
        self.sources: list[LexborNode] = []    # p, pre, td
        self.breaks: list[LexborNode] = []     # br
        self.junk: list[LexborNode] = []       # JUNK_TAGS inside <body>
        self.links: list[LexborNode] = []      # links inside p, pre or td
        self.marks: list[LexborNode] = []      # itemprop=articleBody
        head = tree.head
        if head is not None:
            self._walk(head, _HEAD_TAGS)
        body = tree.body
        if body is not None:
            self._walk(body, _BODY_TAGS)
        self._select(tree)

    def _walk(self, node: LexborNode, wanted: frozenset[int]) -> None:
        firsts = self.firsts
        for el in node.traverse():
            tag = el.tag_id
            if tag not in wanted:
                continue
            if tag in _PARAGRAPH_TAGS:
                self.sources.append(el)
            elif tag == _BR:
                self.breaks.append(el)
            elif tag == _META:
                self.metas.append(el)
            elif tag == _TIME:
                self.times.append(el)
            elif tag == _TITLE:
                firsts.setdefault("title", el)
            elif tag == _H1:
                firsts.setdefault("h1", el)
            else:
                self.junk.append(el)

    def _select(self, tree: LexborHTMLParser) -> None:
        firsts = self.firsts
        last = -1
        for node in tree.css(_SELECTED):
            key = node.mem_id
            if key == last:
                continue  # another copy: the element matches several selectors
            last = key
            tag = node.tag_id
            if tag == _TITLE:
                continue
            attrs = node.attributes
            rel = (attrs.get("rel") or "").lower()
            if tag == _SCRIPT:
                # JSON-LD, or a script with a microdata date or author (its text is tried as JSON-LD)
                if ("ld+json" in (attrs.get("type") or "").lower() or rel == "author"
                        or attrs.get("itemprop") in ("datePublished", "author")):
                    self.scripts.append(node)
                continue
            if tag == _LINK and rel == "canonical":
                firsts.setdefault("link", node)
            itemprop = attrs.get("itemprop")
            href = attrs.get("href") or "" if tag == _A else ""
            if itemprop == "datePublished":
                firsts.setdefault("itemprop-date", node)
            if itemprop == "author" or rel == "author" or "/author/" in href:
                self.authors.append(node)
            if itemprop in ARTICLE_MARKS:
                self.marks.append(node)
            if tag == _A and ((itemprop is None and rel != "author" and "/author/" not in href)
                              or in_paragraph(node)):
                self.links.append(node)  # listed by ':is(p, pre, td) a' unless an attribute test listed it


def in_paragraph(node: LexborNode) -> bool:
    """True when an ancestor of ``node`` is a ``p``, ``pre`` or ``td``."""
    up = node.parent
    while up is not None:
        if up.tag_id in _PARAGRAPH_TAGS:
            return True
        up = up.parent
    return False
