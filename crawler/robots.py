"""robots.txt per RFC 9309, as a pure policy built from a fetched response (Protego parses).

The crawler fetches ``/robots.txt`` once per origin (scheme, host, port) per run,
through the same politeness as every page, delivers that fetch as a
``kind="robots"`` result (so it is archived) and builds a :class:`RobotsPolicy`
from it with :meth:`RobotsPolicy.from_fetch`:

* 2xx: the rules, parsed from at most 500 KiB (Google's limit; RFC 9309 asks
  for at least 500 KiB) after undoing the content encoding and a UTF-8 BOM (a
  BOM would hide the first group from Protego);
* 4xx ("unavailable"): allow everything;
* 5xx, 429 or unreachable: disallow everything for this run (``unavailable``);
* ``politeness.robots = false``: everything allowed, the decision says ``ignored``.

Our product token (``identity.robots_token``) selects the group; ``Crawl-delay``
(and ``Request-rate``, as seconds per request) feed the politeness core.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from protego import Protego

from archive.content import ContentDecodingError, decode_content
from crawler.outcomes import RobotsDecision

__all__ = ["MAX_ROBOTS_BYTES", "RobotsPolicy", "origin_of", "robots_text", "robots_url"]

#: bytes of robots.txt parsed (after content decoding); the rest is ignored
MAX_ROBOTS_BYTES = 500 * 1024


def origin_of(url: str | httpx.URL) -> str:
    """``scheme://host:port``, the unit a robots.txt governs.

    >>> origin_of("https://Example.com/a?b")
    'https://example.com:443'
    """
    u = httpx.URL(url) if isinstance(url, str) else url
    port = u.port or (443 if u.scheme == "https" else 80)
    host = u.host if ":" not in u.host else f"[{u.host}]"
    return f"{u.scheme}://{host}:{port}"


def robots_url(url: str | httpx.URL) -> str:
    """Where the robots.txt for ``url`` lives.

    >>> robots_url("http://example.com:8080/news/1?x=2")
    'http://example.com:8080/robots.txt'
    """
    u = httpx.URL(url) if isinstance(url, str) else url
    return str(u.copy_with(path="/robots.txt", query=None, fragment=None))


def robots_text(body: bytes, content_encoding: str | None, *, limit: int = MAX_ROBOTS_BYTES) -> str:
    """The first ``limit`` bytes of a robots.txt, content encoding undone, as text without a BOM.

    An encoding we cannot undo, or a broken stream, gives what could be decoded
    (possibly nothing): a robots.txt we cannot read has no rules.
    """
    try:
        data = decode_content(body, content_encoding, max_bytes=limit, truncate=True).data
    except ContentDecodingError:
        data = b""
    return data.decode("utf-8", "replace").lstrip("\ufeff")


@dataclass(frozen=True, slots=True)
class RobotsPolicy:
    """What one origin's robots.txt allows us. ``rules`` is ``None`` when no rules apply."""

    state: RobotsDecision            # "allowed" (rules or none), "unavailable" (disallow all), "ignored"
    rules: Protego | None = None
    token: str = "citecrawl"
    note: str = ""                   # why: "status 404", "unreachable: timeout", …

    @classmethod
    def ignored(cls) -> RobotsPolicy:
        return cls("ignored", note="politeness.robots is false")

    @classmethod
    def unreachable(cls, why: str) -> RobotsPolicy:
        return cls("unavailable", note=why)

    @classmethod
    def from_fetch(cls, status: int | None, body: bytes, *, content_encoding: str | None = None,
                   token: str, why: str = "") -> RobotsPolicy:
        """The policy for a robots.txt fetch that ended with ``status`` (``None``: no response)."""
        if status is None:
            return cls.unreachable(why or "no response")
        if 200 <= status < 300:
            text = robots_text(body, content_encoding)
            return cls("allowed", Protego.parse(text), token=token, note=f"status {status}")
        if status == 429 or status >= 500:
            return cls.unreachable(f"status {status}")
        if 400 <= status < 500:
            return cls("allowed", token=token, note=f"status {status}: no robots.txt, all allowed")
        # 1xx or a 3xx left over after the redirect cap: treat as unreachable (RFC 9309 2.3.1.2)
        return cls.unreachable(f"status {status}")

    def decide(self, url: str) -> RobotsDecision:
        """``allowed``, ``disallowed``, ``unavailable`` (disallowed: no robots.txt this run) or ``ignored``."""
        if self.state != "allowed":
            return self.state
        if self.rules is None or self.rules.can_fetch(url, self.token):
            return "allowed"
        return "disallowed"

    def crawl_delay(self) -> float | None:
        """Seconds between requests asked by ``Crawl-delay`` or ``Request-rate`` (the longer), if any."""
        if self.rules is None:
            return None
        delays: list[float] = []
        cd = self.rules.crawl_delay(self.token)
        if cd is not None:
            delays.append(float(cd))
        rate = self.rules.request_rate(self.token)
        if rate is not None and rate.requests > 0:
            delays.append(rate.seconds / rate.requests)
        return max(delays) if delays else None
