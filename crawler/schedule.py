"""The recrawl policy: is a cited URL due at ``now``, and when is it next due?

Pure: it takes a URL's history and the configured intervals and returns a
:class:`Decision`; it reads no clock and no database. The state store feeds it
one :class:`UrlHistory` per cited URL (see :mod:`crawler.state`), so a change of
``[recrawl]`` in the configuration takes effect at the next run without touching
stored data.

The rules, in order:

1. A URL cited by no document is never due (it left the corpus).
2. A URL whose last attempt started but never finished (the run was killed)
   is due at once: ``interrupted``.
3. A URL never fetched is due at once: ``new``.
4. After a failure, the URL is retried ``failure_first`` after it, doubling with
   each consecutive failure up to ``failure_max``: ``retry``.
5. After a success, it is rechecked after the interval of its role: ``recheck``.
   A URL cited in several roles takes the shortest interval (the strictest
   role wins: an article page also used as an image is rechecked weekly).

Times are wall-clock seconds since the epoch (UTC), not trio's clock: they
must mean the same thing in tomorrow's process.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from crawler.config import RecrawlConfig, parse_duration

__all__ = [
    "NOT_ATTEMPTED_OUTCOMES",
    "SUCCESS_OUTCOMES",
    "Decision",
    "DueReason",
    "RecrawlPolicy",
    "RoleKind",
    "UrlHistory",
    "decide",
    "failure_delay",
    "is_success",
    "next_due_at",
    "role_interval",
    "role_kind",
]

RoleKind = Literal["article", "image", "link"]
DueReason = Literal["interrupted", "new", "retry", "recheck"]

#: outcomes after which the URL waits for its role's recheck interval (a 304 counts too, by status)
SUCCESS_OUTCOMES = frozenset({"ok", "not_modified"})
#: outcomes that are no attempt at all (a budget or Ctrl-C stopped the run first): the URL stays due
NOT_ATTEMPTED_OUTCOMES = frozenset({"deferred"})

_IMAGE_WORDS = frozenset({
    "image", "images", "img", "imgs", "headimg", "thumbnail", "thumbnails", "thumb", "thumbs",
    "photo", "photos", "picture", "pictures", "cover", "poster", "icon", "logo", "avatar",
})
_LINK_WORDS = frozenset({"a", "href", "link", "links"})
_TOKEN = re.compile(r"[A-Za-z]+")


@functools.lru_cache(maxsize=4096)  # a corpus has few distinct roles; due_urls asks for each URL
def role_kind(role: str) -> RoleKind:
    """What a citation role is, for scheduling: an article page, an image or another link.

    Roles are the scanner's key paths. Any image-like segment makes it an image;
    a link in a body (``body.a``) is a link; every other field is taken for an
    article page (``originalUrl``, ``webUrl``, ``related[1].webUrl``), the kind
    whose changes matter most.

    >>> [role_kind(r) for r in ("originalUrl", "related[1].webUrl", "images[0].url", "headimg")]
    ['article', 'article', 'image', 'image']
    >>> [role_kind(r) for r in ("body.img", "body.a", "related[1].images[0].url")]
    ['image', 'link', 'image']
    """
    tokens = [t.lower() for t in _TOKEN.findall(role)]
    if any(t in _IMAGE_WORDS for t in tokens):
        return "image"
    if tokens and (tokens[0] == "body" or tokens[-1] in _LINK_WORDS):
        return "link"
    return "article"


@dataclass(frozen=True, slots=True)
class RecrawlPolicy:
    """The ``[recrawl]`` intervals in seconds (``math.inf`` for ``never``)."""

    article: float = 7 * 86400.0
    image: float = math.inf
    link: float = 30 * 86400.0
    failure_first: float = 86400.0
    failure_max: float = 30 * 86400.0

    @classmethod
    def from_config(cls, recrawl: RecrawlConfig) -> RecrawlPolicy:
        return cls(
            article=parse_duration(recrawl.article),
            image=parse_duration(recrawl.image),
            link=parse_duration(recrawl.link),
            failure_first=parse_duration(recrawl.failure_first),
            failure_max=parse_duration(recrawl.failure_max),
        )

    def interval(self, kind: RoleKind) -> float:
        return {"article": self.article, "image": self.image, "link": self.link}[kind]


def role_interval(roles: Iterable[str], policy: RecrawlPolicy) -> float:
    """The recheck interval of a URL cited in these roles: the shortest of its kinds; inf without roles.

    >>> role_interval(["images[0].url", "webUrl"], RecrawlPolicy())
    604800.0
    """
    return min((policy.interval(role_kind(r)) for r in roles), default=math.inf)


def failure_delay(consecutive_failures: int, policy: RecrawlPolicy) -> float:
    """Wait before retrying after the n-th failure in a row: first, 2×first, 4×first … up to max.

    >>> [failure_delay(n, RecrawlPolicy()) / 86400 for n in (1, 2, 3, 5, 6, 9)]
    [1.0, 2.0, 4.0, 16.0, 30.0, 30.0]
    """
    if consecutive_failures < 1:
        return 0.0
    exponent = min(consecutive_failures - 1, 64)  # 2**64 days is past any max; avoids overflow
    return min(policy.failure_first * 2.0**exponent, policy.failure_max)


def is_success(outcome: str, status: int | None) -> bool:
    """Whether an outcome resets the failure count: a 2xx (``ok``) or a 304 to a conditional request."""
    return outcome in SUCCESS_OUTCOMES or status == 304


@dataclass(frozen=True, slots=True)
class UrlHistory:
    """What the policy needs to know about one cited URL.

    ``last_finished`` is when the last real attempt ended (``None``: never);
    ``in_flight`` is true when an attempt was started and nothing was recorded
    for it; ``first_seen`` orders new URLs (oldest citation first).
    """

    roles: tuple[str, ...]
    last_finished: float | None = None
    last_outcome: str | None = None
    last_status: int | None = None
    consecutive_failures: int = 0
    in_flight: bool = False
    first_seen: float = 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    """``due`` now or not; ``reason`` when due; ``due_at``: the moment it is (or became) due, inf for never."""

    due: bool
    reason: DueReason | None
    due_at: float


def next_due_at(history: UrlHistory, policy: RecrawlPolicy) -> tuple[DueReason | None, float]:
    """When a URL becomes due, and why, independent of ``now``."""
    if not history.roles:
        return None, math.inf
    if history.in_flight:
        return "interrupted", -math.inf
    if history.last_finished is None or history.last_outcome is None:
        return "new", history.first_seen
    if is_success(history.last_outcome, history.last_status):
        return "recheck", history.last_finished + role_interval(history.roles, policy)
    return "retry", history.last_finished + failure_delay(max(history.consecutive_failures, 1), policy)


def decide(history: UrlHistory, *, policy: RecrawlPolicy, now: float) -> Decision:
    """Whether the URL is due at ``now``; when not, ``due_at`` says when it will be.

    >>> p = RecrawlPolicy()
    >>> decide(UrlHistory(roles=("webUrl",)), policy=p, now=0.0).reason
    'new'
    >>> h = UrlHistory(roles=("webUrl",), last_finished=0.0, last_outcome="ok", last_status=200)
    >>> decide(h, policy=p, now=6 * 86400.0).due, decide(h, policy=p, now=7 * 86400.0).reason
    (False, 'recheck')
    """
    reason, due_at = next_due_at(history, policy)
    due = reason is not None and due_at <= now
    return Decision(due=due, reason=reason if due else None, due_at=due_at)
