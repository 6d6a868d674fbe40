"""Article metadata from a parsed page: title, dates, authors, language, canonical URL, image, site.

Sources, most trusted first: JSON-LD (``NewsArticle`` and friends, also inside
``@graph``), Open Graph / ``article:*`` / Dublin Core / parsely meta tags,
microdata (``itemprop``), then the markup (``<h1>``, ``<time datetime>``,
``rel=author``) and the URL (``/2019/11/19/``). Dates become ISO 8601;
titles lose the site-name suffix (``Headline | The Site``).
"""

from __future__ import annotations

import email.utils
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archive.elements import PageElements

__all__ = ["PageMetadata", "clean_title", "normalize_date", "normalize_language", "read_metadata"]


@dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str | None = None
    published: str | None = None
    modified: str | None = None
    authors: tuple[str, ...] = ()
    language: str | None = None
    canonical_url: str | None = None
    lead_image: str | None = None
    site_name: str | None = None
    description: str | None = None
    article_body: str | None = None   # JSON-LD articleBody, when the page has one
    headline: str | None = None       # the <h1> or headline as shown (not cleaned)


_ARTICLE_TYPES = frozenset({
    "article", "newsarticle", "blogposting", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "reviewnewsarticle", "backgroundnewsarticle", "askpublicnewsarticle", "techarticle", "scholarlyarticle",
    "report", "socialmediaposting", "liveblogposting", "posting", "review", "satiricalarticle", "medicalscholarlyarticle",
})
_PAGE_TYPES = frozenset({"webpage", "itempage", "aboutpage", "faqpage", "qapage", "collectionpage"})

_PUBLISHED_META = (
    "article:published_time", "og:published_time", "article:published", "datepublished", "pubdate", "publishdate",
    "publish-date", "publish_date", "date", "dc.date", "dc.date.issued", "dc.date.created", "dcterms.created",
    "dcterms.issued", "dcterms.date", "sailthru.date", "parsely-pub-date", "article.published",
    "article_date_original", "original-publish-date", "originalpublicationdate", "cxenseparse:recs:publishtime",
    "citation_publication_date", "citation_date", "displaydate", "dc.date.available", "last-modified",
)
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified", "last-modified",
                  "article.updated")
_AUTHOR_META = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "dcterms.creator",
                "citation_author", "byl", "twitter:creator")


def read_metadata(tree: LexborHTMLParser, *, url: str | None = None,
                  elements: PageElements | None = None) -> PageMetadata:
    """Everything but the body; call before the tree is cleaned (JSON-LD lives in ``<script>``).

    ``elements``: the page's :class:`~archive.elements.PageElements`, when the caller has them
    (the body extractor shares them, so the page is walked once).
    """
    scan = elements if elements is not None else PageElements(tree)
    metas, scripts, firsts = scan.metas, scan.scripts, scan.firsts
    meta = _meta_tags(metas)
    ld = _json_ld_article(scripts)
    canonical_link = firsts.get("link")
    h1 = _node_text(firsts.get("h1"))
    site = _str(_get(ld, "publisher", "name")) or meta.get("og:site_name") or meta.get("application-name")
    raw_title = (meta.get("og:title") or _str(ld.get("headline")) or meta.get("twitter:title")
                 or _node_text(firsts.get("title")) or h1)
    base = url
    href = (canonical_link.attributes.get("href") or "").strip() if canonical_link is not None else ""
    canonical = href or meta.get("og:url") or _str(ld.get("url"))
    if canonical and base:
        canonical = _join(base, canonical)
    image = meta.get("og:image") or meta.get("og:image:url") or meta.get("twitter:image") or _image(ld.get("image"))
    if image and (canonical or base):
        image = _join(canonical or base or "", image)
    published = (_date(ld.get("datePublished")) or _date(ld.get("dateCreated"))
                 or _first_date(meta.get(k) for k in _PUBLISHED_META if k != "last-modified")
                 or _date(_attr(firsts.get("itemprop-date"), "content") or _attr(firsts.get("itemprop-date"), "datetime"))
                 or _date(_attr(_first_time(scan.times, pubdate=True), "datetime")
                          or _attr(_first_time(scan.times, in_article=True), "datetime")
                          or _attr(_first_time(scan.times), "datetime"))
                 or _url_date(canonical or url))
    modified = _date(ld.get("dateModified")) or _first_date(meta.get(k) for k in _MODIFIED_META)
    authors = _authors(ld.get("author")) or _authors_from_meta(meta) or _authors_from_markup(scan.authors[:8])
    root = tree.root
    root_attrs = root.attributes if root is not None else {}
    language = normalize_language((root_attrs.get("lang") or "").strip() or (root_attrs.get("xml:lang") or "").strip()
                                  or meta.get("content-language") or meta.get("og:locale")
                                  or _str(ld.get("inLanguage")))
    body = ld.get("articleBody")
    return PageMetadata(
        title=clean_title(raw_title, site_name=site, url=canonical or url, h1=h1) if raw_title else None,
        published=published,
        modified=modified,
        authors=authors,
        language=language,
        canonical_url=canonical,
        lead_image=image,
        site_name=site,
        description=meta.get("og:description") or meta.get("description") or _str(ld.get("description")),
        article_body=_clean_ld_text(body) if isinstance(body, str) else None,
        headline=h1,
    )


# -- markup fallbacks ------------------------------------------------------------------------------


def _first_time(times: list[LexborNode], *, pubdate: bool = False, in_article: bool = False) -> LexborNode | None:
    """The first ``time[datetime]`` (``time[pubdate]``; inside an ``<article>``)."""
    for node in times:
        attrs = node.attributes
        if pubdate:
            if "pubdate" in attrs:
                return node
        elif "datetime" in attrs and (not in_article or _inside_article(node)):
            return node
    return None


def _inside_article(node: LexborNode) -> bool:
    up = node.parent
    while up is not None:
        if up.tag == "article":
            return True
        up = up.parent
    return False


# -- meta tags and JSON-LD -----------------------------------------------------------------------


def _meta_tags(nodes: list[LexborNode]) -> dict[str, str]:
    """Every ``<meta>`` of the page: stray markup in the head makes parsers move the rest to the body."""
    out: dict[str, str] = {}
    for node in nodes:
        attrs = node.attributes
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or attrs.get("http-equiv")
        value = attrs.get("content")
        if key and value and value.strip():
            out.setdefault(key.strip().lower(), _squash(value))
    return out


def _json_ld_article(scripts: list[LexborNode]) -> dict[str, Any]:
    """The most article-like JSON-LD object of the page's scripts (``{}`` when there is none)."""
    best: dict[str, Any] = {}
    best_rank = 0
    for node in scripts:
        data = _loads(node.text(deep=True))
        for obj in _objects(data):
            types = obj.get("@type")
            names = {t.lower() for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)}
            rank = (3 if names & _ARTICLE_TYPES else 1 if names & _PAGE_TYPES else 0)
            if rank and ("articleBody" in obj or "headline" in obj):
                rank += 1
            if rank > best_rank:
                best, best_rank = obj, rank
    return best


def _loads(text: str) -> Any:
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip()
    text = text.removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
    try:
        return json.loads(text, strict=False)  # strict=False: raw newlines inside strings are common
    except ValueError:
        return None


def _objects(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _objects(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
            if key in data and isinstance(data[key], list | dict):
                yield from _objects(data[key], depth + 1)


def _get(obj: dict[str, Any], *path: str) -> Any:
    cur: Any = obj
    for key in path:
        if isinstance(cur, list):
            cur = cur[0] if cur else None
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def _str(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("url")
    return _squash(value) or None if isinstance(value, str) else None


def _image(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl")
    return value.strip() if isinstance(value, str) and value.strip() else None


_TAGS = re.compile(r"<[^>]{1,200}>")


def _clean_ld_text(text: str) -> str:
    import html

    return html.unescape(_TAGS.sub(" ", text)).replace("\r\n", "\n").strip()


# -- links -----------------------------------------------------------------------------------------

_ABSOLUTE = ("https://", "http://")


def _join(base: str, link: str) -> str:
    """``urljoin(base, link)``; the link as it is when it is absolute already and ``urljoin`` would
    give it back unchanged (most canonical and image links: ~5 µs each saved, more with cold caches),
    or when ``urljoin`` rejects it (a malformed host such as ``http://[x/``: the page still extracts).

    >>> _join("https://a.example/x/", "img/1.jpg"), _join("https://a.example/x/", "http://b.example/y?q=1")
    ('https://a.example/x/img/1.jpg', 'http://b.example/y?q=1')
    >>> _join("https://a.example/", "https://b.example/y?#f"), _join("https://a.example/", "http://[x/")
    ('https://b.example/y#f', 'http://[x/')
    """
    # urljoin returns an absolute http(s) link with a host re-assembled from its parts: the same string
    # unless it has an empty query, fragment or ;parameters to drop, tabs or newlines to remove, or a
    # non-ASCII host to check
    if (link.startswith(_ABSOLUTE) and link.isascii() and link.isprintable() and link[-1] not in "?#"
            and "?#" not in link and "[" not in link and ";" not in link):
        host = 8 if link[4] == "s" else 7
        if link[host:host + 1] not in ("", "/", "?", "#"):  # without a host, the base's is used
            return link
    try:
        return urljoin(base, link)
    except ValueError:
        return link


# -- markup ----------------------------------------------------------------------------------------


def _node_text(node: LexborNode | None) -> str | None:
    return (_squash(node.text(deep=True)) or None) if node is not None else None


def _attr(node: LexborNode | None, name: str) -> str | None:
    value = node.attributes.get(name) if node is not None else None
    return value.strip() if value and value.strip() else None


def _squash(text: str) -> str:
    """``" ".join(text.split())``; text with no whitespace but single spaces inside (every other
    whitespace character is non-printable) skips the split into words once its ends are stripped.

    >>> _squash(" Jane  Doe\\n"), _squash("Jane Doe"), _squash("a\\xa0b"), _squash(" ")
    ('Jane Doe', 'Jane Doe', 'a b', '')
    """
    text = text.strip()
    if text.isprintable() and "  " not in text:
        return text
    return " ".join(text.split())


# -- authors ---------------------------------------------------------------------------------------

_BY = re.compile(r"^\s*(?:by|von|par|por|di|door|av|przez)\s+", re.I)
_SPLIT_AUTHORS = re.compile(r"\s*(?:,|;|\band\b|&|\bund\b|\bet\b|\by\b)\s*", re.I)


def _authors(value: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    names: list[str] = []
    for v in values:
        name = _str(v)
        if name:
            names.extend(_split_names(name))
    return tuple(dict.fromkeys(names))


def _authors_from_meta(meta: dict[str, str]) -> tuple[str, ...]:
    for key in _AUTHOR_META:
        if key in meta:
            names = _split_names(meta[key])
            if names:
                return tuple(dict.fromkeys(names))
    return ()


def _authors_from_markup(nodes: list[LexborNode]) -> tuple[str, ...]:
    names: list[str] = []
    for node in nodes:
        inner = node.css_first('[itemprop="name"]')
        names.extend(_split_names((inner or node).text(deep=True)))
    return tuple(dict.fromkeys(names))


def _split_names(text: str) -> list[str]:
    text = _BY.sub("", _squash(text))
    if not text or "://" in text or ("@" in text and " " not in text):
        return []
    out = []
    for part in _SPLIT_AUTHORS.split(text):
        part = part.strip(" .|-–—")
        if 2 <= len(part) <= 60 and not part.isdigit() and len(part.split()) <= 5:
            out.append(part)
    return out


# -- dates -----------------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?\s*(Z|[+-]\d{2}:?\d{2})?)?")
_MONTHS = {m: i for i, names in enumerate((
    "jan january janvier januar enero gennaio", "feb february fevrier février februar febrero febbraio",
    "mar march mars märz marz marzo", "apr april avril abril aprile", "may mai mayo maggio",
    "jun june juin juni junio giugno", "jul july juillet juli julio luglio",
    "aug august aout août agosto", "sep sept september septembre septiembre settembre",
    "oct october octobre oktober octubre ottobre", "nov november novembre noviembre",
    "dec december decembre décembre dezember diciembre dicembre"), start=1) for m in names.split()}
_MDY = re.compile(r"\b([A-Za-zéûä]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\.?\s+(?:de\s+)?([A-Za-zéûä]{3,10})\.?,?\s+(?:de\s+)?(\d{4})\b")
_NUMERIC = re.compile(r"\b(\d{4})[/.](\d{1,2})[/.](\d{1,2})\b|\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")
_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|\b)")


def normalize_date(value: str | None) -> str | None:
    """An ISO 8601 date or date-time for the date forms pages use; ``None`` if none is found.

    >>> normalize_date("2019-11-19T15:04:05.000Z"), normalize_date("2019-11-19T15:04:05-0500")
    ('2019-11-19T15:04:05+00:00', '2019-11-19T15:04:05-05:00')
    >>> normalize_date("Tue, 19 Nov 2019 15:04:05 GMT"), normalize_date("November 19, 2019")
    ('2019-11-19T15:04:05+00:00', '2019-11-19')
    >>> normalize_date("19 novembre 2019"), normalize_date("2019年11月19日"), normalize_date("soon")
    ('2019-11-19', '2019-11-19', None)
    """
    if not value:
        return None
    v = value.strip()
    m = _ISO.search(v)
    if m and (m.group(4) is not None or "-" in v[m.start():m.end()] or len(v) == 8):
        y, mo, d, hh, mm, ss, tz = m.groups()
        if hh is None:
            return _ymd(y, mo, d)
        try:
            dt = datetime(int(y), int(mo), int(d), int(hh), int(mm), int(ss or 0))
        except ValueError:
            return None
        if tz:
            tz = "+00:00" if tz == "Z" else tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"
            return dt.isoformat() + tz
        return dt.isoformat()
    if "," in v[:5] or re.search(r"\d{1,2}:\d{2}(:\d{2})?\s+(GMT|UTC|[+-]\d{4})", v):
        try:
            return email.utils.parsedate_to_datetime(v).isoformat()
        except (TypeError, ValueError, IndexError):
            pass
    if m := _CJK_DATE.search(v):
        return _ymd(*m.groups())
    if m := _MDY.search(v):
        month = _MONTHS.get(m.group(1).lower())
        if month:
            return _ymd(m.group(3), str(month), m.group(2))
    if m := _DMY.search(v):
        month = _MONTHS.get(m.group(2).lower())
        if month:
            return _ymd(m.group(3), str(month), m.group(1))
    if m := _NUMERIC.search(v):
        if m.group(1):
            return _ymd(m.group(1), m.group(2), m.group(3))
        return _ymd(m.group(6), m.group(5), m.group(4))  # day first, as outside the US
    return None


def _ymd(y: str, m: str, d: str) -> str | None:
    try:
        result = date(int(y), int(m), int(d))
    except ValueError:
        return None
    return result.isoformat() if 1990 <= result.year <= 2100 else None


def _date(value: Any) -> str | None:
    return normalize_date(value) if isinstance(value, str) else None


def _first_date(values: Iterator[str | None] | Any) -> str | None:
    for v in values:
        d = normalize_date(v)
        if d:
            return d
    return None


def _url_date(url: str | None) -> str | None:
    m = _URL_DATE.search(url or "")
    return _ymd(*m.groups()) if m else None


# -- language and title ------------------------------------------------------------------------------


def normalize_language(tag: str | None) -> str | None:
    """A BCP 47 tag as ``en``, ``en-US``, ``zh-CN``; ``None`` for nothing usable.

    >>> normalize_language("EN_us"), normalize_language("zh-cn, en"), normalize_language(" ")
    ('en-US', 'zh-CN', None)
    """
    if not tag:
        return None
    first = tag.split(",")[0].strip().replace("_", "-")
    parts = [p for p in first.split("-") if p]
    if not parts or not parts[0].isalpha() or not 2 <= len(parts[0]) <= 3:
        return None
    out = [parts[0].lower()]
    for p in parts[1:]:
        out.append(p.upper() if len(p) == 2 else p.title() if len(p) == 4 else p.lower())
    return "-".join(out)


_TITLE_SEPARATORS = re.compile(r"\s+[|–—·•»:/-]{1,2}\s+|\s*[|·•»]\s*")


def clean_title(title: str, *, site_name: str | None = None, url: str | None = None, h1: str | None = None) -> str:
    """A title without the site name that pages append or prepend.

    >>> clean_title("Storm hits coast | The Daily Planet", site_name="The Daily Planet")
    'Storm hits coast'
    >>> clean_title("Storm hits coast - Daily Planet", url="https://www.dailyplanet.com/a")
    'Storm hits coast'
    >>> clean_title("Google Stadia: So Many Ways to Play")
    'Google Stadia: So Many Ways to Play'
    >>> clean_title("Council approves the new budget | Planet"), clean_title("Ups - and downs")
    ('Council approves the new budget', 'Ups - and downs')
    """
    title = _squash(title)
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p.strip()]
    if len(parts) < 2:
        return title
    if h1:
        h = _squash(h1)
        if h and h in title and len(h) >= 10:
            return h
    host = (urlsplit(url).hostname or "") if url else ""
    host_key = _key(host)
    stem = _key(host.removeprefix("www.").split(".")[0])
    site_key = _key(site_name or "")

    def is_site(part: str) -> bool:
        k = _key(part)
        if len(k) < 2:
            return False
        if site_key and (k == site_key or k in site_key or site_key in k):
            return True
        return len(stem) >= 3 and (stem in k or (len(k) >= 3 and k in host_key))

    while len(parts) > 1 and is_site(parts[-1]):
        parts.pop()
    while len(parts) > 1 and is_site(parts[0]):
        parts.pop(0)
    if len(parts) == len(_TITLE_SEPARATORS.split(title)):
        # nothing recognised as the site: a short last part after a long headline is still one
        first, last = parts[0].split(), parts[-1].split()
        if len(parts) == 2 and len(last) <= 4 and len(first) >= max(3, 2 * len(last)):
            return parts[0].strip()
        return title
    kept = parts[0]
    start = title.find(kept)
    end = title.find(parts[-1], start) + len(parts[-1])
    return title[start:end] if start >= 0 and end > start else " ".join(parts)


def _key(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())
