"""An HTML body stored after front matter: its text as a reader sees it, and the links it cites.

The stored body is what the comparison later looks for on the live page, so it must be the
reader's text: scripts, styles, templates, ``noscript`` and comments removed, block elements
on their own lines, inline elements (``<a>``, ``<span>``) kept inside their sentence. Plain
``text(separator="\\n")`` would break a sentence at every link; ``separator=""`` would glue
paragraphs together. So each block element gets a newline on both sides before the text is
taken (selectolax with the lexbor backend, about a millisecond per page).

Links: ``img[src]`` (role ``body.img``, with numeric ``width``/``height`` attributes) and
``a[href]`` (role ``body.a``), raw as written; the caller resolves them against ``<base href>``
(returned here) or the document's own URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser

__all__ = ["BodyLink", "HtmlBody", "looks_like_html", "parse_html_body"]

_DROP = ["script", "style", "noscript", "template", "head", "iframe", "object", "svg", "math"]
_BLOCKS = (
    "address, article, aside, blockquote, br, caption, dd, div, dl, dt, figcaption, figure, footer, "
    "form, h1, h2, h3, h4, h5, h6, header, hr, li, main, nav, ol, p, pre, section, table, td, th, tr, ul"
)
_LOOKS_HTML = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*[\s/>]|!--|!doctype)", re.IGNORECASE)
_INLINE_SPACE = re.compile(r"[^\S\n]+")


@dataclass(frozen=True, slots=True)
class BodyLink:
    """A link found in the body, raw as written."""

    role: str
    raw: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class HtmlBody:
    """The reader's text, the links, ``<base href>`` and the page title (``<title>``, else ``<h1>``)."""

    text: str
    links: tuple[BodyLink, ...]
    base: str | None
    title: str | None = None


def looks_like_html(text: str) -> bool:
    """Whether a body after front matter is HTML rather than plain text or Markdown.

    >>> looks_like_html("<div><p>hi</p></div>"), looks_like_html("a < b and c > d")
    (True, False)
    """
    return _LOOKS_HTML.search(text[:65536]) is not None


def parse_html_body(html: str) -> HtmlBody:
    """The reader's text of an HTML body and its ``img[src]`` and ``a[href]`` links.

    >>> body = parse_html_body('<p>An <a href="/x">inline</a> link.</p><script>x()</script>'
    ...                        '<!-- note --><p>Next<br>line <img src="a.png" width="10"></p>')
    >>> body.text
    'An inline link.\\nNext\\nline'
    >>> [(l.role, l.raw, l.width) for l in body.links]
    [('body.a', '/x', None), ('body.img', 'a.png', 10)]
    """
    tree = LexborHTMLParser(html.replace("\x00", "\ufffd"))
    base_node = tree.css_first("base[href]")
    base = (base_node.attributes.get("href") or None) if base_node is not None else None
    title_node = tree.css_first("title") or tree.css_first("h1")
    title = (" ".join(title_node.text(separator=" ").split()) or None) if title_node is not None else None
    links: list[BodyLink] = []
    for node in tree.css("a[href], img[src]"):
        attrs = node.attributes
        if node.tag == "img":
            links.append(BodyLink("body.img", attrs.get("src") or "", _dimension(attrs.get("width")),
                                  _dimension(attrs.get("height"))))
        else:
            links.append(BodyLink("body.a", attrs.get("href") or ""))
    tree.strip_tags(_DROP)
    for node in tree.css(_BLOCKS):
        node.insert_before("\n")
        node.insert_after("\n")
    raw_text = tree.root.text(separator="", strip=False) if tree.root is not None else ""
    lines = (_INLINE_SPACE.sub(" ", line).strip() for line in raw_text.split("\n"))
    return HtmlBody("\n".join(line for line in lines if line), tuple(links), base, title)


def _dimension(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip().removesuffix("px")
    return int(value) if value.isdecimal() and len(value) < 7 else None
