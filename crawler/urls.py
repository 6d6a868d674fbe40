"""Cited URLs: which links we fetch, how we spell them, and when two spellings are one URL.

A corpus cites URLs in many hands: hand-written front matter, scraped HTML, plain text. This
module turns each raw string into either a fetchable URL or a :class:`SkippedUrl` that says why
not, and gives a canonical form so the same page cited twice is fetched once.

Choices, and why:

* **Only http and https.** ``javascript:``, ``mailto:``, ``data:``, ``tel:`` and every other scheme
  are skipped with a reason: there is nothing to archive behind them.
* **Fragment-only links** (``#top``) point into the citing page itself; skipped.
* **Relative links** are resolved against the citing document's own URL (or an HTML ``<base>``);
  without one they cannot be resolved and are skipped, never guessed.
* **Unsafe characters** (spaces, non-ASCII, backslashes) are fixed by w3lib's ``safe_url_string``,
  which percent-encodes paths as UTF-8 and IDNA-encodes host names, as browsers do.
* **The canonical form** lowercases scheme and host, drops the default port and the fragment,
  removes ``.`` and ``..`` segments, writes an empty path as ``/`` and normalises
  percent-encoding (unreserved characters decoded, other escapes upper-cased, a stray ``%``
  encoded). All of these are equivalences of RFC 3986 section 6, so the canonical URL requests
  the same resource as the cited one and is the URL we fetch. It does **not** strip trailing
  slashes, sort or drop query parameters, or change path case: ``/a`` and ``/a/``, ``?b=1&a=2``
  and ``?a=2&b=1`` can be different pages on real servers (w3lib's ``canonicalize_url`` sorts the
  query, which is why it is not used here).
* **Text URLs**: in plain text only full ``http://`` / ``https://`` URLs count. A bare domain such
  as ``example.org`` is a mention of a site, not a citation of a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import safe_url_string

__all__ = [
    "SkippedUrl",
    "canonical_url",
    "clean_url",
    "find_text_urls",
    "is_http_url",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(r"%(?:([0-9A-Fa-f]{2})|)")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_NAMED_SKIPS = {
    "javascript": "javascript: link",
    "mailto": "mailto: address",
    "data": "data: URI",
    "tel": "tel: number",
}
#: longest URL we accept; browsers and servers commonly stop near 8 KB (RFC 9110 recommends 8000)
MAX_URL_LENGTH = 8000


@dataclass(frozen=True, slots=True)
class SkippedUrl:
    """A raw link that is not fetched, with a reason a person can read."""

    raw: str
    reason: str


def is_http_url(text: str) -> bool:
    """Whether ``text`` starts like an absolute http(s) URL (any case, surrounding blanks allowed).

    >>> is_http_url(" HTTPS://example.org/a ")
    True
    >>> is_http_url("example.org")
    False
    """
    head = text.lstrip()[:8].lower()
    return head.startswith(("http://", "https://"))


def clean_url(raw: str, *, base: str | None = None) -> str | SkippedUrl:
    """The canonical http(s) URL for a cited link, or why it is skipped.

    ``base`` is the citing document's own URL, used to resolve relative links.

    >>> clean_url("https://Example.ORG:443/a b#sec")
    'https://example.org/a%20b'
    >>> clean_url("../img/x.jpg", base="https://example.org/news/2022/story.html")
    'https://example.org/news/img/x.jpg'
    >>> clean_url("mailto:desk@example.org")
    SkippedUrl(raw='mailto:desk@example.org', reason='mailto: address')
    >>> clean_url("img/x.jpg").reason
    'relative link with no base URL to resolve it against'
    """
    text = raw.strip()
    if not text:
        return SkippedUrl(raw, "empty link")
    if len(text) > MAX_URL_LENGTH:
        return SkippedUrl(raw[:200], f"longer than {MAX_URL_LENGTH} characters")
    if text.startswith("#"):
        return SkippedUrl(raw, "fragment-only link (points into the same page)")
    m = _SCHEME.match(text)
    if m:
        scheme = m.group(1).lower()
        if scheme not in _DEFAULT_PORTS:
            return SkippedUrl(raw, _NAMED_SKIPS.get(scheme, f"unsupported scheme {scheme}:"))
        absolute = text
    else:
        if base is None:
            return SkippedUrl(raw, "relative link with no base URL to resolve it against")
        try:
            absolute = urljoin(base, text)
        except ValueError as exc:
            return SkippedUrl(raw, f"cannot resolve against {base}: {exc}")
        if not is_http_url(absolute):
            return SkippedUrl(raw, f"does not resolve to an http(s) URL against {base}")
    try:
        return canonical_url(absolute)
    except ValueError as exc:
        return SkippedUrl(raw, f"malformed URL: {exc}")


def canonical_url(url: str) -> str:
    """The canonical spelling of an absolute http(s) URL (see the module docstring).

    Raises :class:`ValueError` for a URL that cannot be made into one (no host, bad port).

    >>> canonical_url("HTTP://Example.COM:80")
    'http://example.com/'
    >>> canonical_url("https://example.com/%7euser/a/./b/../c?q=%e4%b8%ad&a=1#frag")
    'https://example.com/~user/a/c?q=%E4%B8%AD&a=1'
    >>> canonical_url("https://example.com/Path/?b=2&a=1")
    'https://example.com/Path/?b=2&a=1'
    """
    if _already_canonical(url):
        return url  # the common case: nothing in _canonical_full would change it, at a tenth of the cost
    return _canonical_full(url)


def _already_canonical(url: str) -> bool:
    """Whether :func:`_canonical_full` would return ``url`` unchanged, by a test of its spelling alone."""
    m = _ALREADY_CANONICAL.match(url)
    if m is None or "/." in url or "xn--" in url:
        return False
    port = m.group("port")
    return port is None or (int(port) != _DEFAULT_PORTS[m.group("scheme")] and int(port) <= 65535)


def _canonical_full(url: str) -> str:
    safe = safe_url_string(url.strip())
    parts = urlsplit(safe)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url[:200]!r}")
    host = (parts.hostname or "").rstrip(".") if parts.hostname else ""
    if not host:
        raise ValueError("no host name")
    if any(c in host for c in " %<>\\^`{|}\"") or ".." in host:
        raise ValueError(f"invalid host name {host!r}")
    port = parts.port  # raises ValueError for a bad port
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    if parts.username is not None or parts.password is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{_normalise_percent(userinfo)}@{netloc}"
    path = _remove_dot_segments(_normalise_percent(parts.path)) or "/"
    query = _normalise_percent(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


# a lower-case host name or a dotted IPv4 address without leading zeros, a port without leading zeros
# (not the scheme's default: _already_canonical checks), a path, no percent-escapes, no fragment, a
# non-empty query if any: canonical as it stands (tests check that the full path agrees)
_PCHARS = r"A-Za-z0-9\-_~!$&'()*+,;=:@/."
_QCHARS = r"A-Za-z0-9\-_~!$&()*+,;=:@/.?"  # w3lib escapes ' in a query, as WHATWG does
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_ALREADY_CANONICAL = re.compile(
    rf"(?P<scheme>https?)://(?:[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{{2,63}}|{_OCTET}(?:\.{_OCTET}){{3}})"
    rf"(?::(?P<port>[1-9][0-9]{{0,4}}))?/[{_PCHARS}]*(?:\?[{_QCHARS}]+)?\Z")


def _normalise_percent(text: str) -> str:
    """Decode escapes of unreserved characters, upper-case the rest, encode a stray ``%``.

    >>> _normalise_percent("%7e%2f%zz")
    '~%2F%25zz'
    """
    if "%" not in text:
        return text

    def fix(m: re.Match[str]) -> str:
        hexpair = m.group(1)
        if hexpair is None:
            return "%25"
        char = chr(int(hexpair, 16))
        return char if char in _UNRESERVED else f"%{hexpair.upper()}"

    return _PERCENT.sub(fix, text)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, as browsers apply it before sending a request.

    >>> _remove_dot_segments("/a/b/../../../c/./d/")
    '/c/d/'
    """
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return result


# A URL in running text ends at whitespace, at ASCII delimiters that cannot appear unescaped in a
# URL, and at CJK or full-width punctuation (Chinese text often runs straight on after a link).
_TEXT_URL = re.compile(
    r"(?<![A-Za-z0-9_.+-])https?://[^\s<>\"'`\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?*'\"”’»›…"
_PAIRS = {")": "(", "]": "[", "}": "{"}


def find_text_urls(text: str) -> list[str]:
    """Full http(s) URLs in running text, with sentence punctuation after them trimmed.

    >>> find_text_urls("See https://example.org/a_(b). Also example.net and http://x.test/p?q=1, done.")
    ['https://example.org/a_(b)', 'http://x.test/p?q=1']
    >>> find_text_urls("原文见https://news.example.cn/a.html。")
    ['https://news.example.cn/a.html']
    """
    found: list[str] = []
    for m in _TEXT_URL.finditer(text):
        url = m.group(0)
        while url:
            tail = url[-1]
            unbalanced = tail in _PAIRS and url.count(_PAIRS[tail]) < url.count(tail)
            if tail in _TRAILING or unbalanced:
                url = url[:-1]
            else:
                break
        if "://" in url and len(url.split("://", 1)[1]) > 0:
            found.append(url)
    return found
