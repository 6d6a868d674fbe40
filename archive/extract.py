"""Article re-extraction: HTML → :class:`~archive.article.Article`, pure, on selectolax's Lexbor parser.

How the body is found (each step generic; no site has a rule of its own):

1. decode the bytes ourselves (:mod:`archive.charset`) and parse the ``str``;
2. read the metadata first (:mod:`archive.metadata`: JSON-LD lives in ``<script>``);
3. drop what is never article text (scripts, forms, ``nav`` …: found by tag id in one walk of the body);
4. collect the paragraphs (``p``, ``pre``, ``td``, text broken by ``<br>``) with
   their ancestor chains, and prune the furniture among them and their ancestors:
   hidden elements, figure captions and elements whose class/id/role words mark
   navigation, share bars, related lists, consent banners, comments or ad slots
   (:mod:`archive.boilerplate`), unless they hold most of the page's text;
5. score the paragraphs by length and punctuation, measured per script, and
   credit their ancestors, readability-style; scale each candidate container by
   its class/id words, ``<article>``/``itemprop=articleBody`` and
   ``1 - link density``;
6. take the best container, climb to an ancestor that holds clearly more text
   (an article split into blocks) unless what it adds is link-heavy (teaser
   cards of other stories), and add siblings that score alike;
7. inside it, drop the furniture (judged only here: elements far from any
   paragraph never cost a test), link lists, then read one paragraph per block
   element and drop stock lines ("Advertisement", "Share this", credits, cookie
   text, bylines, the headline again), short repeats and copies of earlier runs
   (blocks rendered once per screen size);
8. when the page's JSON-LD carries an ``articleBody`` clearly longer than what
   the markup yields (1.5 times, and 400 characters more), use that.

Speed: the parser, CSS matching, ``unwrap`` and ``text()`` run in C; a
``css()`` call costs microseconds even on a small node, so queries are made
over the body once rather than per paragraph. A walk of a news page costs
~0.1 ms plus a few ns per element and selector, so related queries share a
walk but unrelated tag lists are not merged into one (measured: slower).
Valid UTF-8 bytes go to the parser as they are (a ``str`` is re-encoded). Python touches paragraphs, their
ancestor chains (once per chain, shared by sibling paragraphs) and the elements
of the chosen container. Deeply nested markup is handled without recursion.
"""

from __future__ import annotations

import functools
import re

from selectolax.lexbor import LexborDocumentOptions, LexborHTMLParser, LexborNode

from archive.article import Article, BodySource
from archive.boilerplate import (
    INLINE_TAG_IDS,
    is_negative_hint,
    punctuation_count,
    tag_ids,
    text_weight,
    without_boilerplate,
)
from archive.charset import decode_html, utf8_reading
from archive.elements import PageElements
from archive.metadata import PageMetadata, read_metadata
from archive.paragraphs import Para, Pruner, collect_paragraphs

__all__ = ["extract_article", "extract_from_tree"]

_SEP = "\x1f"  # between text nodes; never in real text
#: no DOM mutation events: lexbor then skips a callback per node inserted while parsing and per
#: node moved or removed while cleaning. The effect selectolax documents, a <selectedcontent>
#: cloning its <select>'s chosen <option>, is inside <select>, which is junk here
_PARSE_OPTIONS = LexborDocumentOptions.WO_EVENTS
_COMMENT = LexborHTMLParser("<p><!---->").css_first("p").first_child.tag_id  # type: ignore[union-attr]
#: the inline-style tests grouped behind one presence test: lexbor then tries the four substrings only
#: on elements with a style (the query costs ~20% less), and lists such an element once, not once per
#: substring it holds (copies that _clean_inside judged alike)
_HIDDEN = ('[hidden], [aria-hidden="true"], [style]:is([style*="display:none"], [style*="display: none"], '
           '[style*="visibility:hidden"], [style*="visibility: hidden"])')
_POSITIVE_HINT = re.compile(r"article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story|prose",
                            re.I)
#: what _POSITIVE_HINT finds in a lower-cased ASCII hint ("hentry" and "h-entry" hold "entry")
_POSITIVE_PARTS = ("article", "body", "content", "entry", "main", "page", "post", "text", "blog", "story", "prose")
_TAG_BONUS = {"div": 5, "article": 10, "main": 5, "section": 2, "pre": 3, "td": 3, "blockquote": 3,
              "form": -3, "ol": -3, "ul": -3, "dl": -3, "dd": -3, "dt": -3, "li": -3, "address": -3,
              "h1": -5, "h2": -5, "h3": -5, "h4": -5, "h5": -5, "h6": -5, "th": -5}
_TAG_BONUS_BY_ID = {next(iter(tag_ids(name))): bonus for name, bonus in _TAG_BONUS.items()}
_ANCESTOR_SHARE = (1.0, 0.5, 1 / 6, 1 / 9)
#: elements inside the chosen container that may be link lists
_CLEAN_CANDIDATE_IDS = tag_ids("div", "section", "ul", "ol", "table", "aside", "figure", "form", "header", "footer",
                               "dl", "center")
_A = next(iter(tag_ids("a")))
_P = next(iter(tag_ids("p")))
_CLIMB_GROWTH = 1.6
#: the publisher's JSON-LD articleBody replaces the markup's paragraphs when it holds this much
#: more (and 400 more): the markup then missed a third of the article (lazy-loaded or paged parts)
_LD_BODY_GROWTH = 1.5
_TEASER_LINK_DENSITY = 0.35
_BODY_MARK = re.compile(r"(?:article|story|post|entry|news|blog)[-_]?(?:body|content|text)|articlebody", re.I)
_SENTENCE_END = re.compile(r"[.!?。！？\"”’)]\s*$")


def extract_article(html: str | bytes, *, url: str | None = None, content_type: str | None = None) -> Article:
    """Extract the article of a page: body paragraphs, title, dates, authors, language, links.

    ``html`` may be bytes (decoded by :func:`archive.charset.decode_html` with the
    HTTP ``content_type``'s charset) or text. Never raises on any markup; a page
    without an article gives an :class:`Article` with no paragraphs.
    """
    encoding = encoding_source = None
    source: str | bytes
    if isinstance(html, bytes | bytearray | memoryview):
        body = bytes(html)
        reading = utf8_reading(body, content_type=content_type)  # most pages: checked, not decoded
        if reading is not None:
            # valid UTF-8 (or ASCII): lexbor parses bytes as UTF-8, the same input it would make
            # of the str (selectolax encodes a str back to UTF-8: ~0.2 ms of a 100 KB page)
            encoding, encoding_source = reading
            source = body[3:] if encoding_source == "bom" else body
        else:
            decoded = decode_html(body, content_type=content_type)
            encoding, encoding_source = decoded.encoding, decoded.source
            source = decoded.text
            if decoded.errors == 0 and (encoding == "utf-8" or decoded.source == "default"):
                source = body[3:] if decoded.source == "bom" else body
    else:
        source = html
    return extract_from_tree(LexborHTMLParser(source, options=_PARSE_OPTIONS), url=url, encoding=encoding,
                             encoding_source=encoding_source)


def extract_from_tree(tree: LexborHTMLParser, *, url: str | None = None, encoding: str | None = None,
                      encoding_source: str | None = None) -> Article:
    """Like :func:`extract_article` on a parsed page. The tree is modified (cleaned) in place."""
    elements = PageElements(tree)  # one walk of the page for both
    meta = read_metadata(tree, url=url, elements=elements)
    paragraphs, source = _body(tree, meta, elements)
    return Article(
        title=meta.title,
        text="\n\n".join(paragraphs),
        paragraphs=paragraphs,
        published=meta.published,
        modified=meta.modified,
        authors=meta.authors,
        language=meta.language or _script_language(paragraphs),
        url=url,
        canonical_url=meta.canonical_url,
        lead_image=meta.lead_image,
        site_name=meta.site_name,
        description=meta.description,
        encoding=encoding,
        encoding_source=encoding_source,
        body_source=source,
    )


# -- the body --------------------------------------------------------------------------------------


def _body(tree: LexborHTMLParser, meta: PageMetadata, elements: PageElements) -> tuple[tuple[str, ...], BodySource]:
    body = tree.body
    paragraphs: list[str] = []
    if body is not None:
        paras, marked = collect_paragraphs(elements)  # also removes the junk elements
        pruner = Pruner(paras, marked)
        paras = pruner.prune_paragraphs(paras)
        drop = {_norm(t) for t in (meta.title, meta.headline) if t}
        for node in _choose_containers(body, paras, pruner):
            pruner.clean(node)
            paragraphs.extend(_paragraphs(node, drop))
        paragraphs = _dedupe(paragraphs)
    ld_body = meta.article_body
    if ld_body:  # most pages have none: the markup's paragraphs are then not measured
        weight = sum(map(text_weight, paragraphs))
        if text_weight(ld_body) > max(_LD_BODY_GROWTH * weight, weight + 400):
            lines = [" ".join(line.split()) for line in ld_body.split("\n")]
            return tuple(line for line in lines if line), "json-ld"
    return tuple(paragraphs), "dom" if paragraphs else "none"


#: text and link text lengths by ``mem_id`` (:func:`_text_and_links`), for one page's unchanged tree
_Measured = dict[int, tuple[int, int]]


def _choose_containers(body: LexborNode, paras: list[Para], pruner: Pruner) -> list[LexborNode]:
    if not paras:
        return [body]
    points: dict[int, int] = {}  # by chain: sibling paragraphs credit the same ancestors
    chains: dict[int, Para] = {}
    for para in paras:
        key = id(para.chain)
        points[key] = points.get(key, 0) + para.points
        chains[key] = para
    scores: dict[int, float] = {}
    nodes: dict[int, LexborNode] = {}
    for chain_key, para in chains.items():
        held = points[chain_key]
        for node, key, share in zip(para.chain, para.keys, _ANCESTOR_SHARE, strict=False):
            if key not in scores:
                nodes[key] = node
                scores[key] = _initial_score(node, pruner)
            scores[key] += held * share
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)[:5]
    final: dict[int, float] = {}
    measured: _Measured = {}  # text and link lengths: the climb and the siblings ask for some again

    def scaled(key: int) -> float:  # the score times (1 - link density): a text() and a css() call
        if key not in final:
            final[key] = scores[key] * (1 - _link_density(nodes[key], measured))
        return final[key]

    # branch and bound: scaling never raises a score above itself (or a negative one above 0), so
    # the ranked candidates below the best scaled score so far cannot win (ties keep the first)
    top_key = ranked[0]
    best = scaled(top_key)
    for key in ranked[1:]:
        raw = scores[key]
        if raw <= best and (raw >= 0 or best >= 0):
            break
        if scaled(key) > best:
            top_key, best = key, final[key]
    top = _climb(nodes[top_key], pruner, measured)
    return _with_siblings(top, scaled(top.mem_id) if top.mem_id in ranked else best, scores, pruner, measured)


def _climb(top: LexborNode, pruner: Pruner, measured: _Measured) -> LexborNode:
    """Go up to an ancestor that holds clearly more paragraph text (an article split into blocks).

    Never past an ``<article>`` or an element marked as the article body: pages
    that load the next stories below the first hold more text further up.
    """
    content = pruner.left
    best, best_content = top, content.get(top.mem_id, 0)
    if top.tag == "article" or _is_body_marked(top, pruner):
        return top
    best_measures: tuple[int, int] | None = None  # text and link length of ``best``, read once
    node = top.parent
    while node is not None and node.tag not in ("body", "html", None):
        if (node.tag == "article" or _is_body_marked(node, pruner)) and content.get(node.mem_id, 0) >= best_content:
            return node  # an <article> or a marked body is a whole; above it lie other stories
        held = content.get(node.mem_id, 0)
        if held >= best_content * _CLIMB_GROWTH:
            if best_measures is None:
                best_measures = _text_and_links(best, measured)
            measures = _text_and_links(node, measured)
            if not _adds_teasers(best_measures, measures):
                best, best_content, best_measures = node, held, measures
        node = node.parent
    return best


def _adds_teasers(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    """True when what an outer element holds besides an inner one (text and link lengths of each)
    is link-heavy: teaser cards (a linked headline over a summary) of other stories, not the rest
    of a split article."""
    extra = outer[0] - inner[0]
    return extra > 0 and (outer[1] - inner[1]) / extra > _TEASER_LINK_DENSITY


def _text_and_links(node: LexborNode, measured: _Measured) -> tuple[int, int]:
    """The length of ``node``'s text and of the text of its links (none without text), read once."""
    key = node.mem_id
    found = measured.get(key)
    if found is None:
        total = len(node.text(deep=True))
        found = measured[key] = (total, sum(len(a.text(deep=True)) for a in node.css("a")) if total else 0)
    return found


def _is_body_marked(node: LexborNode, pruner: Pruner) -> bool:
    """Class, id or itemprop name the article body itself (``article-body``, ``entry-content`` …).

    The words are the pruner's (read once per element: the climb passes the ancestors of the
    paragraphs, which it judged); no match spans two of them, as the pattern holds no blank.
    """
    words, _, itemprop = pruner.hints(node)
    return bool(_BODY_MARK.search(words) or (itemprop and _BODY_MARK.search(itemprop)))


def _initial_score(node: LexborNode, pruner: Pruner) -> float:
    words, _, itemprop = pruner.hints(node)  # read when the pruner judged the chain
    score = float(_TAG_BONUS_BY_ID.get(node.tag_id, 0) + _hint_score(words))
    if (itemprop or "").lower() == "articlebody":
        score += 50
    return score


@functools.lru_cache(maxsize=4096)
def _hint_score(hint: str) -> int:
    """+25 for words of the article, -25 for words of furniture (or both); cached, since every
    paragraph's ancestors are scored and templates repeat their class lists."""
    if len(hint) <= 1:
        return 0
    if hint.isascii():  # a few C substring scans; the pattern tries its 13 words at every offset (~5x)
        positive = any(map(hint.lower().__contains__, _POSITIVE_PARTS))
    else:  # outside ASCII, case folding is the pattern's to judge
        positive = _POSITIVE_HINT.search(hint) is not None
    return (25 if positive else 0) - (25 if is_negative_hint(hint) else 0)


def _link_density(node: LexborNode, measured: _Measured) -> float:
    total, linked = _text_and_links(node, measured)
    return min(1.0, linked / total) if total else 1.0


def _with_siblings(top: LexborNode, top_score: float, scores: dict[int, float],
                   pruner: Pruner, measured: _Measured) -> list[LexborNode]:
    parent = top.parent
    if parent is None or top.tag == "body" or _is_body_marked(top, pruner):
        return [top]  # a container marked as the article body has no article siblings
    threshold = max(10.0, top_score * 0.2)
    top_class = top.attributes.get("class")
    out: list[LexborNode] = []
    own = top.mem_id
    for sibling in parent.iter():
        key = sibling.mem_id
        if key == own:
            out.append(sibling)
            continue
        score = scores.get(key, 0.0)
        if top_class and score + top_score * 0.2 >= threshold and sibling.attributes.get("class") == top_class:
            score += top_score * 0.2
        if score >= threshold:
            if _link_density(sibling, measured) <= _TEASER_LINK_DENSITY and not pruner.is_around(sibling):
                out.append(sibling)  # teaser cards of other stories hold prose too, but are link-heavy
        elif sibling.tag_id == _P:
            length, linked = _text_and_links(sibling, measured)
            if not length:
                continue
            if ((length > 80 and linked / length < 0.25)
                    or (length <= 80 and not linked and _SENTENCE_END.search(sibling.text(deep=True)))) \
                    and not pruner.is_around(sibling):
                out.append(sibling)
    return out


# -- inside the chosen container -------------------------------------------------------------------


def _paragraphs(node: LexborNode, drop: set[str]) -> list[str]:
    own = node.mem_id
    # one walk of the container for the links and link-list candidates (_clean_inside), the inline
    # tags to unwrap and the comments, by tag id: lexbor tests each element against each selector of
    # a list (the 37 inline tags cost more than reading the tags). The tree is changed after the
    # walk, since unlinking the node a walk stands on ends it
    inline: list[LexborNode] = []
    links: list[LexborNode] = []
    candidates: list[LexborNode] = []
    comments: list[LexborNode] = []
    for el in node.traverse():
        tag = el.tag_id
        if tag in INLINE_TAG_IDS:
            inline.append(el)
            if tag == _A:
                links.append(el)
        elif tag in _CLEAN_CANDIDATE_IDS:
            candidates.append(el)
        elif tag == _COMMENT:
            comments.append(el)
    if _clean_inside(node, links, candidates):  # a removed element's descendants have no parent left
        inline = [el for el in inline if el.parent is not None]
        comments = [el for el in comments if el.parent is not None]
    for el in inline:
        if el.mem_id != own:  # the walk includes the node itself: a <span> container stays
            el.unwrap()
    # a comment between two runs of text (``no one<!-- -->ran``, which React pages print) would
    # keep them apart as two lines; the browser shows one
    for el in comments:
        el.decompose()
    node.merge_text_nodes()
    # ASCII-blank text nodes (between blocks: about half of them) are skipped by lexbor; other
    # blank ones become empty lines here. (A regex over the whole text is slower: one match per line.)
    lines = _squashed(node.text(deep=True, separator=_SEP, skip_empty=True))
    # a line is the headline again only if its length is one of theirs: lower-casing keeps the
    # length of all text but U+0130 ("İ" becomes two characters); the rest is not lower-cased
    longest = max(map(len, drop), default=0)
    sizes = set(map(len, drop))
    return [line for line in without_boilerplate(lines)
            if len(line) > longest or (len(line) not in sizes and "\u0130" not in line) or line.lower() not in drop]


def _clean_inside(node: LexborNode, links: list[LexborNode], candidates: list[LexborNode]) -> bool:
    """Drop hidden parts and link lists inside the chosen container (last-first); True when
    something was removed. ``links`` and ``candidates`` (the container's ``a`` elements and
    the elements of :data:`_CLEAN_CANDIDATE_IDS`, in document order) may include hidden ones.

    Only elements that hold link text can be link lists, so only those have their
    text read; empty shells are left alone, as they add nothing to the output.
    """
    removed = False
    hidden = node.css(_HIDDEN)
    if hidden:  # most containers hide nothing: their text is not read for this
        total = 0  # read at the first hidden element with text: most are empty (icons), and go anyway
        for el in reversed(hidden):
            length = len(el.text(deep=True))
            if length:
                total = total or max(1, len(node.text(deep=True)))  # what went before had no text
                if length >= 0.3 * total:
                    continue
            el.decompose()
            removed = True
        if removed:
            links = [a for a in links if a.parent is not None]
            candidates = [el for el in candidates if el.parent is not None]
    own = node.mem_id
    linked: dict[int, int] = {}  # link text held by each element, from one pass over the links
    for a in links:
        length = len(a.text(deep=True))
        up = a.parent
        while length and up is not None and (key := up.mem_id) != own:
            linked[key] = linked.get(key, 0) + length
            up = up.parent
    if not linked:
        return removed
    # last-first, an element comes after the elements inside it. What a kept inner candidate holds,
    # an outer one holds too (removing other parts of it later leaves the inner one's text alone):
    # its text length is a floor for the outer one's, and a floor that its links cannot reach a
    # third of rules the outer one out before its (longer: nested lists) text is read
    floors: dict[int, int] = {}
    for el in reversed(candidates):
        key = el.mem_id
        held = linked.get(key)
        if not held or key == own:
            continue
        floor = floors.get(key, 0)
        if held * 10 > floor * 3:  # density > 0.3 is possible
            text = el.text(deep=True)
            density = held / max(1, len(text))
            if density > 0.3:
                weight = len(text) if len(text) >= 1000 else text_weight(text)  # only compared with < 1000
                punct = punctuation_count(text)
                if (density > 0.5 and (weight < 1000 or punct < 10)) or (punct < 3 and weight < 300):
                    el.decompose()
                    removed = True
                    continue
            floor = len(text)
        up = el.parent  # the nearest candidate around: it holds links, as this one does
        while up is not None and (up_key := up.mem_id) != own:
            if up.tag_id in _CLEAN_CANDIDATE_IDS:
                if floor > floors.get(up_key, 0):
                    floors[up_key] = floor
                break
            up = up.parent
    return removed


_COPIED_RUN = 3  # distinct long lines in a run that repeats an earlier run: a block rendered twice


def _dedupe(lines: list[str]) -> list[str]:
    """Drop short lines seen before (repeated captions, credits, ‘share’ rows), and copies of
    earlier runs of lines: blocks a responsive template renders twice (one copy per screen size,
    the other hidden by CSS). A long line repeated on its own is kept (tables and meal plans
    repeat rows on purpose).
    """
    keys = [line.lower() for line in lines]  # lines are whitespace-normalised already
    if len(set(keys)) == len(keys):
        return lines  # nothing repeats (one C pass): no line is measured or looked up one by one
    long: list[bool | None] = [None] * len(lines)  # measured when a repeat asks

    def is_long(k: int) -> bool:
        found = long[k]
        if found is None:
            line = lines[k]
            found = long[k] = len(line) >= 100 or text_weight(line) >= 100
        return found

    where: dict[str, list[int]] = {}
    drop = [False] * len(lines)
    for i, key in enumerate(keys):
        earlier = where.get(key)
        if earlier is None:
            where[key] = [i]
            continue
        if not drop[i]:
            if not is_long(i):
                drop[i] = True
            else:
                longest = max(_common_run(keys, j, i) for j in earlier[-4:])
                run = range(i, i + longest)
                if len({keys[k] for k in run if is_long(k)}) >= _COPIED_RUN:
                    drop[i:i + longest] = [True] * longest
        earlier.append(i)
    return [line for line, dropped in zip(lines, drop, strict=True) if not dropped]


def _common_run(keys: list[str], j: int, i: int) -> int:
    """How many keys from ``i`` on repeat those from ``j`` on (``j < i``; not past ``i``; at most 200,
    so that no page costs quadratic time: the rest of a longer copy is found from its next line)."""
    n = 0
    while n < 200 and i + n < len(keys) and j + n < i and keys[j + n] == keys[i + n]:
        n += 1
    return n


def _squashed(text: str) -> list[str]:
    """The pieces of ``text`` (split at :data:`_SEP`) with whitespace runs as one space and none at
    the ends (``" ".join(piece.split())``, which splits at every word), empty ones left out. Most
    lines of a page need only their ends stripped: inside, no whitespace but single spaces (every
    other whitespace character is non-printable); those skip the split. One call for all: a call
    per line costs as much as the test most lines need.

    ``str.isprintable`` looks every character up in the Unicode tables, ASCII too (~5 ns each:
    0.35 ms of a 70 KB article, a seventh of its extraction). So a text that is all printable
    ASCII (and separators) is recognised once, deleting those bytes from its encoding (~1 ns a
    character); its pieces then need the double-space test only.

    >>> _squashed("one two\\x1f one\\n two\\xa0 \\x1fa  b\\x1f  \\x1f\\x1f\\u3000x\\u3000")
    ['one two', 'one two', 'a b', 'x']
    >>> _squashed(" plain  ascii \\x1fonly ")
    ['plain ascii', 'only']
    """
    pieces = map(str.strip, text.split(_SEP))
    if text.isascii() and not text.encode("ascii").translate(None, _PRINTABLE_ASCII):
        squashed = [piece if "  " not in piece else " ".join(piece.split()) for piece in pieces]
    else:
        squashed = [piece if piece.isprintable() and "  " not in piece else " ".join(piece.split())
                    for piece in pieces]
    return [line for line in squashed if line]


#: the bytes of printable ASCII text and of :data:`_SEP`
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + _SEP.encode("ascii")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


_KANA = re.compile("[\u3040-\u30ff]")
_HANGUL = re.compile("[\uac00-\ud7af]")
_HAN = re.compile("[\u4e00-\u9fff]")


def _script_language(paragraphs: tuple[str, ...]) -> str | None:
    """For pages that do not declare a language: ``ja``/``ko``/``zh`` from the script, else ``None``."""
    sample = "".join(paragraphs[:20])[:4000]
    if sample.isascii() or not sample:
        return None
    n = len(sample)
    if len(_KANA.findall(sample)) > n * 0.05:
        return "ja"
    if len(_HANGUL.findall(sample)) > n * 0.2:
        return "ko"
    if len(_HAN.findall(sample)) > n * 0.2:
        return "zh"
    return None
