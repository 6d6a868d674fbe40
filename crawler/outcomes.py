"""What became of a URL: typed final outcomes and the :class:`FetchResult` value.

A failed URL is data, not an exception: the crawler sends one
:class:`FetchResult` per requested URL (and per robots.txt it fetched) and the
state store and reports read them. ``ok`` means the final response was 2xx (a
truncated body is still ``ok``, with ``truncated`` set); a 404 is
``http_error`` with ``status`` 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from archive.exchange import Exchange

__all__ = ["TRANSIENT", "Attempt", "FetchResult", "Outcome", "RobotsDecision"]

RobotsDecision = Literal["allowed", "disallowed", "ignored", "unavailable"]


class Outcome(StrEnum):
    OK = "ok"                                  # final response 2xx
    HTTP_ERROR = "http_error"                  # final response not 2xx (status says which)
    TIMEOUT = "timeout"                        # no response head in time (connect, read or whole-fetch deadline)
    DNS = "dns"                                # the name did not resolve
    TLS = "tls"                                # TLS handshake or certificate check failed
    CONNECT = "connect"                        # the connection could not be opened (refused, unreachable)
    NETWORK = "network"                        # the connection broke before a response head (reset, closed)
    PROTOCOL_ERROR = "protocol_error"          # the server spoke broken HTTP
    TOO_MANY_REDIRECTS = "too_many_redirects"  # more hops than network.max_redirects
    REDIRECT_LOOP = "redirect_loop"            # a hop led back to a URL of the same chain
    ROBOTS_DISALLOWED = "robots_disallowed"    # robots.txt forbids it, or robots.txt was unreachable
    ADDRESS_REFUSED = "address_refused"        # the address is private/loopback/... and not allowed
    UNSUPPORTED_SCHEME = "unsupported_scheme"  # not http or https (also for a redirect target)
    INVALID_URL = "invalid_url"                # not a URL we can request
    DEFERRED = "deferred"                      # not fetched in this run (stop, Crawl-delay or Retry-After over the cap)


#: outcomes worth another attempt (with 429, 502, 503 and 504 responses). A protocol error is one:
#: a server that sent more bytes than its Content-Length leaves them on the kept-alive connection,
#: and the next request on it reads them as a broken response; httpcore drops that connection, so
#: the retry goes over a fresh one (as browsers retry on a stale kept-alive connection)
TRANSIENT = frozenset({Outcome.TIMEOUT, Outcome.CONNECT, Outcome.NETWORK, Outcome.PROTOCOL_ERROR})


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of one hop; times in seconds on trio's clock."""

    number: int                  # 1-based, per hop
    started: float
    finished: float
    outcome: Outcome             # of this attempt (ok / http_error with status / timeout …)
    status: int | None
    error: str | None
    waited: float                # seconds spent in the host's queue before this attempt
    url: str = ""                # the hop's URL (differs from the result's url after a redirect)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The final word on one requested URL (``kind="page"``) or one robots.txt (``kind="robots"``).

    ``hops`` holds every exchange that got a response, in order: redirect hops
    and also retried 429/5xx responses (they happened on the wire and are
    archived). Consumers own them: call :meth:`close` once they are written.
    """

    url: str
    kind: Literal["page", "robots"]
    outcome: Outcome
    status: int | None = None
    final_url: str | None = None
    hops: tuple[Exchange, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    robots: RobotsDecision = "allowed"
    error: str | None = None
    truncated: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @property
    def retries(self) -> int:
        """Attempts beyond the first, over all hops."""
        return sum(1 for a in self.attempts if a.number > 1)

    @property
    def body_bytes(self) -> int:
        return sum(h.body_length for h in self.hops)

    def close(self) -> None:
        for h in self.hops:
            h.close()
