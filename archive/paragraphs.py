"""Paragraph-like elements with their ancestor chains, and the pruning of page furniture among them.

The body extractor (:mod:`archive.extract`) scores containers by the
paragraphs they hold; this module finds those paragraphs (``p``, ``pre``,
``td``, text broken by ``<br>``) and removes what is around the article
(:class:`Pruner`): elements whose class/id/role words say navigation, share
bar, related list, consent banner, comments or ad slot, and figure captions,
unless they hold a large share of the page's paragraph text.

Sibling paragraphs share one ancestor chain (a list object), so weight is
added and furniture judged once per chain, not once per paragraph.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

from archive.boilerplate import is_negative_hint, punctuation_count, tag_ids, text_weight
from archive.elements import PageElements

__all__ = ["Hints", "Para", "Pruner", "collect_paragraphs", "paragraph_content"]

_MIN_PARAGRAPH = 25
_NEGATIVE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog",
                             "alertdialog", "menu", "menubar", "toolbar", "tablist", "alert"})
#: elements the pruner judges: class/id/role words, and figure captions (not body text
#: unless a gallery holds its text in them)
_JUDGED = "[class], [id], [role], figcaption"
#: furniture words remove an element holding less of the page's paragraph weight than this …
_FURNITURE_SHARE = 0.3
#: … and comment words one holding less than this (a comments section can outgrow the article)
_KEPT_SHARE = 0.9
_COMMENTISH = re.compile(r"comment|disqus|repl(?:y|ies)|respond", re.I)


_A = next(iter(tag_ids("a")))
_BR = next(iter(tag_ids("br")))
_FIGCAPTION = next(iter(tag_ids("figcaption")))
_PARAGRAPH_TAGS = tag_ids("p", "pre", "td")
_TOP_TAGS = tag_ids("html", "body")  # never furniture
_HTML = next(iter(tag_ids("html")))


#: what an element's attributes say (:meth:`Pruner.hints`): its class and id joined by a space,
#: whether they or its role name page furniture, and its itemprop
Hints = tuple[str, bool, str | None]


class Para:
    """A paragraph-like element: its text measures and its ancestors (nearest first), with their
    ``mem_id`` in ``keys`` (read once per ancestor; sibling paragraphs share both lists)."""

    __slots__ = ("chain", "keys", "node", "points", "weight")

    def __init__(self, node: LexborNode, weight: int, points: int, chain: list[LexborNode],
                 keys: list[int]) -> None:
        self.node, self.weight, self.points, self.chain, self.keys = node, weight, points, chain, keys


def collect_paragraphs(elements: PageElements) -> tuple[list[Para], set[int]]:
    """Remove the junk elements (:data:`~archive.boilerplate.JUNK_TAGS`) from the body, then find
    ``p``, ``pre``, ``td`` and elements whose text is broken by ``<br>``, with enough text to count;
    and the ``mem_id`` of the elements marked as the article body (``itemprop``).

    ``elements`` are the page's, found before anything was removed (:class:`~archive.elements.PageElements`).
    """
    seen_br: set[int] = set()
    sources, breaks, links, marks = list(elements.sources), elements.breaks, elements.links, elements.marks
    if elements.junk:
        # a removed element's descendants are unlinked one by one (selectolax), so what was found
        # inside junk has no parent left
        for node in elements.junk:
            node.decompose()
        sources = [node for node in sources if node.parent is not None]
        breaks = [node for node in breaks if node.parent is not None]
        links = [node for node in links if node.parent is not None]
        marks = [node for node in marks if node.parent is not None]
    marked = {node.mem_id for node in marks}
    for br in breaks:
        parent = br.parent
        if parent is not None and parent.mem_id not in seen_br and parent.tag_id not in _PARAGRAPH_TAGS:
            seen_br.add(parent.mem_id)
            sources.append(parent)
    # link text per paragraph from one query (a css() call costs microseconds even on a small node):
    # each link counts for its nearest paragraph-like ancestor
    tagged = {node.mem_id for node in sources}
    linked: dict[int, int] = {}
    for a in links:
        holder = a.parent
        for _ in range(8):
            if holder is None:
                break
            key = holder.mem_id
            if key in tagged:
                linked[key] = linked.get(key, 0) + len(a.text(deep=True))
                break
            holder = holder.parent
    out = []
    chains: dict[int, _Chain] = {}  # by parent: sibling paragraphs share their ancestors
    for node in sources:
        key = node.mem_id
        broken = key in seen_br  # its own text only: the blocks inside have theirs
        text = node.text(deep=not broken)
        weight = text_weight(text)
        if weight < _MIN_PARAGRAPH:
            continue
        held = sum(len(a.text(deep=True)) for a in node.css("a")) if broken else linked.get(key, 0)
        if held > 0.5 * len(text):
            continue  # a teaser or a link list, not prose
        parent = node.parent
        if parent is None:
            continue
        chain = chains.get(parent.mem_id)
        if chain is None:
            chain = _chain(parent, chains)
        out.append(Para(node, weight, 1 + punctuation_count(text) + min(weight // 100, 3), *chain))
    return out, marked


_NO_HINTS: Hints = ("", False, None)


def _read_hints(node: LexborNode) -> Hints:
    attrs = node.attributes
    if not attrs:
        return _NO_HINTS  # most paragraphs and many of their wrappers have no attribute at all
    cls, ident, role = attrs.get("class"), attrs.get("id"), attrs.get("role")
    hint = f"{cls} {ident}" if cls and ident else cls or ident or ""
    negative = (len(hint) > 1 and is_negative_hint(hint)) or bool(role and role.strip().lower() in _NEGATIVE_ROLES)
    return hint, negative, attrs.get("itemprop")


#: an ancestor chain: the elements, nearest first, and their ``mem_id``
_Chain = tuple[list[LexborNode], list[int]]


def _chain(node: LexborNode, chains: dict[int, _Chain]) -> _Chain:
    """``node`` and its ancestors below ``<html>``, nearest first, with their ``mem_id``; every
    chain made on the way is kept in ``chains`` (by ``mem_id``), so that an ancestor shared by
    many paragraphs is read once, not once per paragraph parent (a hop costs a node object and
    a tag read)."""
    path: list[tuple[LexborNode, int]] = []
    known: list[LexborNode] = []
    known_keys: list[int] = []
    up: LexborNode | None = node
    while up is not None:
        key = up.mem_id
        found = chains.get(key)
        if found is not None:
            known, known_keys = found
            break
        if up.tag_id == _HTML or not up.is_element_node:
            break
        path.append((up, key))
        up = up.parent
    for below, key in reversed(path):
        known, known_keys = [below, *known], [key, *known_keys]
        chains[key] = (known, known_keys)
    return known, known_keys


def _weight_by_chain(paras: list[Para]) -> dict[int, tuple[list[int], int]]:
    """The paragraphs' chains (by ``id``) as ``mem_id`` lists, with the weight of the paragraphs
    under each."""
    out: dict[int, tuple[list[int], int]] = {}
    for para in paras:
        key = id(para.keys)
        found = out.get(key)
        out[key] = (para.keys, para.weight + (found[1] if found is not None else 0))
    return out


def paragraph_content(paras: list[Para]) -> dict[int, int]:
    """Paragraph weight held by every ancestor (sibling paragraphs share one chain: add it once)."""
    content: dict[int, int] = {}
    get = content.get
    for keys, weight in _weight_by_chain(paras).values():
        for key in keys:
            content[key] = get(key, 0) + weight
    return content


class Pruner:
    """Drops hidden elements and those whose class/id/role say they are around the article.

    An element is kept when it holds a large share of the page's paragraph text
    (a layout class like ``with-sidebar`` on the main column must not take the
    article with it), unless its words say comments.

    Only elements that can reach the output are judged: the ancestors of
    paragraphs (before containers are scored) and the elements inside the chosen
    containers (:meth:`clean`). A ``<footer class=...>`` far from any paragraph
    never costs a class-word test, which is most of a page's elements.
    """

    __slots__ = ("content", "kept", "left", "protected", "read", "total")

    def __init__(self, paras: list[Para], protected: set[int]) -> None:
        """``protected``: elements never judged furniture (marked as the article body)."""
        self.content = paragraph_content(paras)
        #: the paragraph weight each ancestor holds of the paragraphs :meth:`prune_paragraphs` left
        #: (``content`` stays the page's: the verdicts of :meth:`clean` are measured against it)
        self.left = self.content
        self.total = max(1, sum(p.weight for p in paras))
        self.protected = protected
        self.kept: set[int] = set()
        self.read: dict[int, Hints] = {}

    def hints(self, node: LexborNode) -> Hints:
        """What ``node``'s attributes say, read once per element: the pruner judges the ancestors of
        paragraphs, and the container scoring reads the same elements' class and id again."""
        key = node.mem_id
        found = self.read.get(key)
        if found is None:
            found = self.read[key] = _read_hints(node)
        return found

    def is_around(self, node: LexborNode) -> bool:
        """True when ``node`` is page furniture (or a figure caption) that does not hold the article."""
        key = node.mem_id
        if key in self.kept:
            return False
        share = self.content.get(key, 0) / self.total
        if share < _KEPT_SHARE:  # an element holding this much is kept whatever its words: not read
            hint, hinted, _ = self.hints(node)
            tag = node.tag_id
            if ((hinted or tag == _FIGCAPTION) and key not in self.protected and tag not in _TOP_TAGS
                    and (share < _FURNITURE_SHARE or (hinted and _COMMENTISH.search(hint)))):
                return True
        self.kept.add(key)
        return False

    def prune_paragraphs(self, paras: list[Para]) -> list[Para]:
        """Remove the furniture among paragraphs and their ancestors; the paragraphs that are left."""
        dead_chain: dict[int, bool] = {}  # by chain: sibling paragraphs share one
        removed: set[int] = set()
        out = []
        dropped = []
        for para in paras:
            key = id(para.chain)
            dead = dead_chain.get(key)
            if dead is None:
                dead = dead_chain[key] = self._prune_chain(para.chain, removed)
            if dead:
                dropped.append(para)
                continue
            if self.is_around(para.node):
                para.node.decompose()
                dropped.append(para)
                continue
            out.append(para)
        if dropped:  # most pages lose a few paragraphs: their weight is taken off, not all added again
            left = dict(self.content)
            for keys, weight in _weight_by_chain(dropped).values():
                for key in keys:
                    left[key] -= weight
            self.left = left
        return out

    def _prune_chain(self, chain: list[LexborNode], removed: set[int]) -> bool:
        """Judge the ancestors nearest first; True when one of them is (or was) removed."""
        for node in chain:
            key = node.mem_id
            if key in removed:
                return True
            if key in self.kept:
                continue  # judged and kept, by an earlier chain through it
            if self.is_around(node):
                removed.add(key)
                node.decompose()
                return True
        return False

    def clean(self, node: LexborNode) -> None:
        """Remove the furniture inside ``node``, in document order: what lies inside an element
        removed is not judged (the verdicts do not depend on the order), and an element listed
        twice (lexbor lists it once per selector it matches) is judged once."""
        last = node.mem_id  # css() lists the node itself first when it matches
        removed = False
        read, kept = self.read, self.kept
        for el in node.css(_JUDGED):
            key = el.mem_id
            if key == last or key in kept:
                continue
            last = key
            if removed and el.parent is None:
                continue  # inside an element removed before: selectolax unlinks its descendants
            # most elements here are read for the first time and have no furniture words: they are
            # kept without being remembered (no later call asks about an element inside a container)
            hinted = (read.get(key) or _read_hints(el))[1]
            if (hinted or el.tag_id == _FIGCAPTION) and self.is_around(el):
                el.decompose()
                removed = True
