"""SURT keys as pywb computes them, so our CDXJ lines sort and match like pywb's own.

pywb and its ``cdxj-indexer`` key every capture by ``surt.surt(url)``: the
Internet Archive's URL canonicalisation (Google's safe-browsing rules, then
IA's: lowercase, drop ``www``/``www2``, default ports, user info, session IDs,
a trailing slash, sort query arguments) with the host reversed. A replay tool
finds a capture only when our key equals the one it computes for the request,
so this is a careful re-implementation of that algorithm (the ``surt`` package
on PyPI pulls in ``tldextract``, which wants the network for its suffix list,
and has not been released since 2019). ``scripts/check_pywb.py`` compares the
two over real URLs.

>>> surt_key("https://www.Example.com:443/A/b/?z=1&a=2#frag")
'com,example)/a/b?a=2&z=1'
>>> surt_key("http://example.com")
'com,example)/'
>>> surt_key("http://127.0.0.1:8080/x")
'1,0,0,127:8080)/x'
"""

from __future__ import annotations

import re
import socket
from functools import lru_cache
from urllib.parse import SplitResultBytes, quote_from_bytes, unquote_to_bytes

__all__ = ["surt_key"]

_SPACES = re.compile(rb"[\n\r\t]")
_HAS_SCHEME = re.compile(rb"^([a-zA-Z][a-zA-Z0-9+\-.]*):")
_MULTI_HTTP = re.compile(rb"^(https?://)+")
_URI = re.compile(rb"^(([a-zA-Z][a-zA-Z0-9+.-]*):)?((//([^/?#]*))?([^?#]*)(\?([^#]*))?)?(#(.*))?$", re.S)
_DECIMAL_IP = re.compile(rb"^([1-9][0-9]*)(\.[0-9]+)?(\.[0-9]+)?(\.[0-9]+)?$")
_OCTAL_IP = re.compile(rb"^(0[0-7]*)(\.[0-7]+)?(\.[0-7]+)?(\.[0-7]+)?$")
_WWW = re.compile(rb"www\d*\.")
_SAFE = b"!\"$&'()*+,-./:;<=>?@[\\]^_`{|}~"
_PATH_SESSION = (
    re.compile(rb"^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^\?]+\.aspx.*)$", re.I),
    re.compile(rb"^(.*/)(\([0-9a-z]{24}\)/)([^\?]+\.aspx.*)$", re.I),
)
_QUERY_SESSION = (
    re.compile(rb"^(.*)(?:jsessionid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:phpsessid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:sid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:ASPSESSIONID[a-zA-Z]{8}=[a-zA-Z]{24})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:cfid=[^&]+&cftoken=[^&]+)(?:&(.*))?$", re.I),
)
_DEFAULT_PORT = {b"http": 80, b"https": 443}


def _unescape(data: bytes) -> bytes:
    while True:
        un = unquote_to_bytes(data)
        if un == data:
            return data
        data = un


def _escape(data: bytes) -> bytes:
    return quote_from_bytes(data, safe=_SAFE).encode("ascii") if data else data


def _ip(host: bytes) -> bytes | None:
    """Numeric host forms (``3232235777``, ``10.1``, octal) in dotted-quad form, without DNS."""
    if host.isdigit():
        return socket.inet_ntoa((int(host) & 0xFFFFFFFF).to_bytes(4, "big")).encode("ascii")
    if _DECIMAL_IP.match(host) or _OCTAL_IP.match(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host.decode("ascii"))).encode("ascii")
        except OSError:
            return None
    return None


def _normalize_path(path: bytes | None) -> bytes:
    if not path:
        return b"/"
    kept: list[bytes] = []
    for part in path.split(b"/")[1:]:
        if part == b".":
            continue
        if part == b"..":
            if kept:
                kept.pop()
            else:
                kept.append(part)
            continue
        kept.append(part)
    out = b"/"
    if kept:
        out += b"".join(p + b"/" for p in kept[:-1] if p)
        out += kept[-1]
    return out


def _reorder_query(query: bytes) -> bytes:
    if len(query) <= 1:
        return query
    pairs = sorted(tuple(arg.split(b"=", 1)) for arg in query.split(b"&"))
    return b"&".join(b"=".join(p) for p in pairs)


@lru_cache(maxsize=256)
def surt_key(url: str) -> str:
    """The SURT key of ``url`` (without scheme), as ``surt.surt(url)`` gives it; the URL itself if unparsable.

    Cached: a capture's response and metadata records are indexed under the same URL.
    """
    try:
        return _surt(url.encode("utf-8")).decode("utf-8")
    except (ValueError, UnicodeError):
        return url


def _surt(raw: bytes) -> bytes:
    if not raw:
        return b"-"
    if raw.startswith(b"filedesc"):
        return raw
    raw = _SPACES.sub(b"", raw.strip())
    if not _HAS_SCHEME.match(raw):
        raw = b"http://" + raw
    raw = _MULTI_HTTP.sub(lambda m: m.group(1), raw)
    m = _URI.match(raw)
    if m is None:
        raise ValueError("unparsable URL")
    parts = SplitResultBytes(m.group(2) or b"", m.group(5) or b"", m.group(6) or b"", m.group(8) or b"", b"")
    if parts.netloc.endswith(b":"):
        parts = parts._replace(netloc=parts.netloc.rstrip(b":"))
    scheme = parts.scheme
    port = parts.port or None
    host = parts.hostname or None
    path = parts.path or None
    query = parts.query or None
    trailing_q = raw.endswith(b"?") and query is None
    if scheme.startswith(b"http") and host is None and path is not None:
        first, _, rest = path.lstrip(b"/").partition(b"/")
        host, path = first, b"/" + rest

    # Google's canonicalisation
    if query:
        query = _escape(_unescape(query))
    if host:
        h = _unescape(host)
        try:
            h.decode("ascii")
        except UnicodeDecodeError:
            h = h.decode("utf-8", "ignore").encode("idna")
        h = h.replace(b"..", b".").strip(b".")
        host = _ip(h) or _escape(h.lower())
    path = _unescape(path) if path is not None else None
    if host:
        path = _normalize_path(path)
    path = _escape(path) if path else path

    # the Internet Archive's additions
    if host:
        host = host.lower()
        if scheme != b"dns":
            w = _WWW.match(host)
            if w:
                host = host[len(w.group(0)):]
    if port is not None and port == _DEFAULT_PORT.get(scheme.lower()):
        port = None
    if path:
        path = path.lower()
        for pattern in _PATH_SESSION:
            pm = pattern.match(path)
            if pm:
                path = pm.group(1) + pm.group(3)
        if path.endswith(b"/") and len(path) > 1:
            path = path[:-1]
    if query:
        for pattern in _QUERY_SESSION:
            qm = pattern.match(query)
            if qm:
                query = qm.group(1) + qm.group(2) if qm.group(2) else qm.group(1)
        query = _reorder_query(query.lower())
        if query == b"":
            query = None
    else:
        query = None
        trailing_q = False

    if host:
        out = b",".join(reversed(host.split(b".")))
        if port is not None:
            out += b":%d" % port
        out += b")"
    else:
        out = scheme + b":"
    if path:
        out += path
    elif query is not None:
        out += b"/"
    if query is not None:
        out += b"?" + query
    if trailing_q:
        out += b"?"
    return out
