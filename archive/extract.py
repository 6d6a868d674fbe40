"""Article re-extraction: HTML → :class:`~archive.article.Article`, pure, on selectolax's Lexbor parser.

How the body is found (each step generic; no site has a rule of its own):

1. decode the bytes ourselves (:mod:`archive.charset`) and parse the ``str``;
2. read the metadata first (:mod:`archive.metadata`: JSON-LD lives in ``<script>``);
3. drop what is never article text: scripts, forms, ``nav``, hidden elements,
   and elements whose class/id/role words mark navigation, share bars, related
   lists, consent banners, comments or ad slots (:mod:`archive.boilerplate`),
   unless they hold most of the page's text;
4. score the paragraphs (``p``, ``pre``, ``td``, text broken by ``<br>``) by
   length and punctuation, measured per script, and credit their ancestors,
   readability-style; scale each candidate container by its class/id words,
   ``<article>``/``itemprop=articleBody`` and ``1 - link density``;
5. take the best container and those of its siblings that score alike;
6. inside it, drop link lists and empty shells, then read one paragraph per
   block element and drop stock lines ("Advertisement", "Share this", cookie
   text, bylines, the headline again);
7. when the markup yields next to nothing but the page's JSON-LD carries an
   ``articleBody``, use that.

Speed: the parser, ``strip_tags``, CSS matching, ``unwrap_tags`` and ``text()``
run in C; Python touches only paragraphs, candidate containers and elements
with class/id attributes, so a typical news page takes a millisecond or two.
Deeply nested markup is handled without recursion.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archive.article import Article, BodySource
from archive.boilerplate import (
    INLINE_SELECTOR,
    JUNK_TAGS,
    is_boilerplate_line,
    is_negative_hint,
    punctuation_count,
    text_weight,
)
from archive.charset import decode_html
from archive.metadata import PageMetadata, read_metadata

__all__ = ["extract_article", "extract_from_tree"]

_SEP = "\x1f"  # between text nodes; never in real text
_MIN_PARAGRAPH = 25
_HIDDEN = ('[hidden], [aria-hidden="true"], [style*="display:none"], [style*="display: none"], '
           '[style*="visibility:hidden"], [style*="visibility: hidden"]')
_NEGATIVE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog",
                             "alertdialog", "menu", "menubar", "toolbar", "tablist", "alert"})
_ARTICLE_MARK = '[itemprop="articleBody"], [itemprop="articlebody"]'
_POSITIVE_HINT = re.compile(r"article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story|prose",
                            re.I)
_COMMENTISH = re.compile(r"comment|disqus|repl(?:y|ies)|respond", re.I)
_TAG_BONUS = {"div": 5, "article": 10, "main": 5, "section": 2, "pre": 3, "td": 3, "blockquote": 3,
              "form": -3, "ol": -3, "ul": -3, "dl": -3, "dd": -3, "dt": -3, "li": -3, "address": -3,
              "h1": -5, "h2": -5, "h3": -5, "h4": -5, "h5": -5, "h6": -5, "th": -5}
_ANCESTOR_SHARE = (1.0, 0.5, 1 / 6, 1 / 9)
_CLEAN_CANDIDATES = "div, section, ul, ol, table, aside, figure, form, header, footer, dl, center"
_SENTENCE_END = re.compile(r"[.!?。！？\"”’)]\s*$")


def extract_article(html: str | bytes, *, url: str | None = None, content_type: str | None = None) -> Article:
    """Extract the article of a page: body paragraphs, title, dates, authors, language, links.

    ``html`` may be bytes (decoded by :func:`archive.charset.decode_html` with the
    HTTP ``content_type``'s charset) or text. Never raises on any markup; a page
    without an article gives an :class:`Article` with no paragraphs.
    """
    encoding = encoding_source = None
    if isinstance(html, bytes | bytearray | memoryview):
        decoded = decode_html(bytes(html), content_type=content_type)
        text, encoding, encoding_source = decoded.text, decoded.encoding, decoded.source
    else:
        text = html
    return extract_from_tree(LexborHTMLParser(text), url=url, encoding=encoding, encoding_source=encoding_source)


def extract_from_tree(tree: LexborHTMLParser, *, url: str | None = None, encoding: str | None = None,
                      encoding_source: str | None = None) -> Article:
    """Like :func:`extract_article` on a parsed page. The tree is modified (cleaned) in place."""
    meta = read_metadata(tree, url=url)
    paragraphs, source = _body(tree, meta)
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


def _body(tree: LexborHTMLParser, meta: PageMetadata) -> tuple[tuple[str, ...], BodySource]:
    body = tree.body
    paragraphs: list[str] = []
    if body is not None:
        tree.strip_tags(JUNK_TAGS)
        _remove_boilerplate(body)
        containers = _choose_containers(body)
        drop = {_norm(t) for t in (meta.title, meta.headline) if t}
        for node in containers:
            paragraphs.extend(_paragraphs(node, drop))
        paragraphs = _dedupe(paragraphs)
    weight = sum(map(text_weight, paragraphs))
    ld_body = meta.article_body
    if ld_body and text_weight(ld_body) > max(2 * weight, weight + 400):
        lines = [" ".join(line.split()) for line in ld_body.split("\n")]
        return tuple(line for line in lines if line), "json-ld"
    return tuple(paragraphs), "dom" if paragraphs else "none"


def _remove_boilerplate(body: LexborNode) -> None:
    """Drop hidden elements and those whose class/id/role say they are around the article.

    Elements are visited last-first (children before their ancestors), so a
    removed element is never touched again. An element that holds more than
    half of the page's text, or the ``itemprop=articleBody`` element, stays.
    """
    total = max(1, text_weight(body.text(deep=True)))
    protected = {n.mem_id for n in body.css(_ARTICLE_MARK)}
    for node in reversed(body.css(_HIDDEN)):
        if node.mem_id not in protected and text_weight(node.text(deep=True)) < 0.3 * total:
            node.decompose()
    for node in reversed(body.css("[class], [id], [role]")):
        attrs = node.attributes
        role = (attrs.get("role") or "").strip().lower()
        hint = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        if role in _NEGATIVE_ROLES or (len(hint) > 1 and is_negative_hint(hint)):
            if node.mem_id in protected or node.tag in ("html", "body"):
                continue
            share = text_weight(node.text(deep=True)) / total
            if share < 0.5 or (_COMMENTISH.search(hint) and share < 0.9):
                node.decompose()


def _choose_containers(body: LexborNode) -> list[LexborNode]:
    scores: dict[int, float] = {}
    nodes: dict[int, LexborNode] = {}
    seen_br: set[int] = set()
    sources = list(body.css("p, pre, td"))
    for br in body.css("br"):
        parent = br.parent
        if parent is not None and parent.mem_id not in seen_br and parent.tag not in ("p", "pre", "td"):
            seen_br.add(parent.mem_id)
            sources.append(parent)
    for para in sources:
        text = para.text(deep=para.mem_id not in seen_br)
        weight = text_weight(text)
        if weight < _MIN_PARAGRAPH:
            continue
        points = 1 + punctuation_count(text) + min(weight // 100, 3)
        node = para.parent
        for share in _ANCESTOR_SHARE:
            if node is None or node.tag in ("html", None):
                break
            key = node.mem_id
            if key not in scores:
                nodes[key] = node
                scores[key] = _initial_score(node)
            scores[key] += points * share
            node = node.parent
    if not scores:
        return [body]
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)[:5]
    final = {key: scores[key] * (1 - _link_density(nodes[key])) for key in ranked}
    top_key = max(final, key=final.__getitem__)
    top = nodes[top_key]
    return _with_siblings(top, final[top_key], scores, nodes)


def _initial_score(node: LexborNode) -> float:
    score = float(_TAG_BONUS.get(node.tag or "", 0))
    attrs = node.attributes
    hint = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
    if len(hint) > 1:
        if _POSITIVE_HINT.search(hint):
            score += 25
        if is_negative_hint(hint):
            score -= 25
    if (attrs.get("itemprop") or "").lower() == "articlebody":
        score += 50
    return score


def _link_density(node: LexborNode) -> float:
    total = len(node.text(deep=True))
    if not total:
        return 1.0
    linked = sum(len(a.text(deep=True)) for a in node.css("a"))
    return min(1.0, linked / total)


def _with_siblings(top: LexborNode, top_score: float, scores: dict[int, float],
                   nodes: dict[int, LexborNode]) -> list[LexborNode]:
    parent = top.parent
    if parent is None or top.tag == "body":
        return [top]
    threshold = max(10.0, top_score * 0.2)
    top_class = top.attributes.get("class")
    out: list[LexborNode] = []
    for sibling in parent.iter():
        if sibling.mem_id == top.mem_id:
            out.append(sibling)
            continue
        bonus = top_score * 0.2 if top_class and sibling.attributes.get("class") == top_class else 0.0
        if scores.get(sibling.mem_id, 0.0) + bonus >= threshold:
            out.append(sibling)
        elif sibling.tag == "p":
            text = sibling.text(deep=True)
            density = _link_density(sibling)
            if (len(text) > 80 and density < 0.25) or (0 < len(text) <= 80 and density == 0
                                                        and _SENTENCE_END.search(text)):
                out.append(sibling)
    return out


# -- inside the chosen container -------------------------------------------------------------------


def _paragraphs(node: LexborNode, drop: set[str]) -> list[str]:
    _clean_inside(node)
    own = node.mem_id
    for inline in node.css(INLINE_SELECTOR):
        if inline.mem_id != own:  # css() includes the node itself; a <span> container must stay
            inline.unwrap()
    node.merge_text_nodes()
    out = []
    for piece in node.text(deep=True, separator=_SEP).split(_SEP):
        line = " ".join(piece.split())
        if line and not is_boilerplate_line(line) and _norm(line) not in drop:
            out.append(line)
    return out


def _clean_inside(node: LexborNode) -> None:
    """Drop link lists, empty shells and widget-like blocks inside the chosen container (last-first)."""
    for el in reversed(node.css(_CLEAN_CANDIDATES)):
        text = el.text(deep=True)
        weight = text_weight(text)
        if weight == 0:
            el.decompose()
            continue
        linked = sum(len(a.text(deep=True)) for a in el.css("a"))
        density = linked / max(1, len(text))
        punct = punctuation_count(text)
        if (density > 0.5 and (weight < 1000 or punct < 10)) or (density > 0.3 and punct < 3 and weight < 300):
            el.decompose()


def _dedupe(lines: list[str]) -> list[str]:
    """Drop short lines seen before (repeated captions, credits, ‘share’ rows); keep long ones."""
    seen: set[str] = set()
    out = []
    for line in lines:
        key = _norm(line)
        if key in seen and len(line) < 200:
            continue
        seen.add(key)
        out.append(line)
    return out


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
