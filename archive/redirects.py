"""When does a redirect mean the source *moved*?

Sites redirect all the time without moving anything: http → https, ``example.com``
→ ``www.example.com``, ``/a`` → ``/a/``, ``/a/index.html`` → ``/a/``, one subdomain
of the same site to another. A redirect is a *move* only when it lands
**elsewhere**: on a different registered domain, or on the same site at a
different path or query (the article at a new address, or a redirect to the home
page, which is how many sites answer for deleted articles).

The registered domain is approximated without the Public Suffix List (no
dependency, no list to keep fresh): the last two labels, or the last three when
the top level is a two-letter country code and the second level is a generic one
(``co``, ``com``, ``org``, ``gov`` … as in ``bbc.co.uk``, ``sina.com.cn``). It
treats private suffixes such as ``github.io`` as one site; a move between two
such sites that keeps the path is missed.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["is_elsewhere", "registered_domain"]

_GENERIC_SECOND = frozenset({"ac", "co", "com", "edu", "go", "gob", "gov", "gv", "ltd", "mil", "ne", "net",
                             "nic", "or", "org", "plc", "sch"})
_INDEX = ("index.html", "index.htm", "index.php", "index.shtml", "default.aspx")


def registered_domain(host: str) -> str:
    """The site part of a host name (see the module docstring); IP addresses are their own site.

    >>> registered_domain("news.cgtn.com"), registered_domain("finance.sina.com.cn")
    ('cgtn.com', 'sina.com.cn')
    >>> registered_domain("WWW.BBC.CO.UK."), registered_domain("127.0.0.1")
    ('bbc.co.uk', '127.0.0.1')
    """
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _GENERIC_SECOND:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _path(path: str) -> str:
    path = unquote(path) or "/"
    head, _, last = path.rpartition("/")
    if last.lower() in _INDEX:
        path = head + "/"
    return path.rstrip("/") or "/"


def is_elsewhere(cited: str, final: str) -> bool:
    """True when ``final`` (where redirects ended) is not just another spelling of ``cited``.

    >>> is_elsewhere("http://example.com/a/b", "https://www.example.com/a/b/")
    False
    >>> is_elsewhere("https://news.cgtn.com/n/x/index.html", "https://www.cgtn.com/n/x/")
    False
    >>> is_elsewhere("https://example.com/a/b", "https://example.com/")
    True
    >>> is_elsewhere("https://example.com/a?id=1", "https://example.org/a?id=1")
    True
    """
    if cited == final:                       # no redirect: nothing to parse
        return False
    try:
        a, b = urlsplit(cited), urlsplit(final)
        hosts = a.hostname or "", b.hostname or ""
    except ValueError:                       # an unparseable URL (bad IPv6 literal): compare as text
        return cited != final
    if registered_domain(hosts[0]) != registered_domain(hosts[1]):
        return True
    if _path(a.path) != _path(b.path):
        return True
    return sorted(parse_qsl(a.query, keep_blank_values=True)) != sorted(parse_qsl(b.query, keep_blank_values=True))
