"""The recrawl policy, as tables: pure, no clock, no database."""

from __future__ import annotations

import doctest
import math

import pytest

from crawler import schedule
from crawler.config import Config, RecrawlConfig
from crawler.schedule import (
    RecrawlPolicy,
    UrlHistory,
    decide,
    failure_delay,
    is_success,
    role_interval,
    role_kind,
)

DAY = 86400.0
POLICY = RecrawlPolicy.from_config(Config().recrawl)


def test_doctests() -> None:
    assert doctest.testmod(schedule).failed == 0


def test_policy_from_config_defaults() -> None:
    from_defaults = RecrawlPolicy.from_config(Config().recrawl)
    assert from_defaults == RecrawlPolicy()  # the class defaults mirror the configuration's
    assert (from_defaults.article, from_defaults.image, from_defaults.link) == (7 * DAY, math.inf, 30 * DAY)
    assert (from_defaults.failure_first, from_defaults.failure_max) == (DAY, 30 * DAY)
    custom = RecrawlPolicy.from_config(RecrawlConfig(article="12h", image="2w", link="never",
                                                     failure_first="90s", failure_max="1h"))
    assert (custom.article, custom.image, custom.link, custom.failure_first, custom.failure_max) == (
        12 * 3600.0, 14 * DAY, math.inf, 90.0, 3600.0)


@pytest.mark.parametrize(
    ("role", "kind"),
    [
        ("originalUrl", "article"),
        ("webUrl", "article"),
        ("related[1].webUrl", "article"),
        ("canonical", "article"),
        ("images[0].url", "image"),
        ("related[1].images[0].url", "image"),
        ("headimg", "image"),
        ("thumbnail", "image"),
        ("body.img", "image"),
        ("body.img[src]", "image"),
        ("body.a", "link"),
        ("body.a[href]", "link"),
        ("links[2]", "link"),
    ],
)
def test_role_kinds(role: str, kind: str) -> None:
    assert role_kind(role) == kind


@pytest.mark.parametrize(
    ("roles", "interval"),
    [
        (("webUrl",), 7 * DAY),
        (("images[0].url",), math.inf),
        (("body.a",), 30 * DAY),
        (("images[0].url", "body.a"), 30 * DAY),           # strictest role wins
        (("images[0].url", "webUrl", "body.a"), 7 * DAY),
        ((), math.inf),
    ],
)
def test_strictest_role_wins(roles: tuple[str, ...], interval: float) -> None:
    assert role_interval(roles, POLICY) == interval


@pytest.mark.parametrize(
    ("failures", "days"),
    [(0, 0), (1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 30), (7, 30), (1000, 30)],
)
def test_failures_back_off_doubling_to_the_cap(failures: int, days: float) -> None:
    assert failure_delay(failures, POLICY) == days * DAY


@pytest.mark.parametrize(
    ("outcome", "status", "success"),
    [("ok", 200, True), ("not_modified", 304, True), ("http_error", 304, True),
     ("http_error", 404, False), ("timeout", None, False), ("robots_disallowed", None, False)],
)
def test_success(outcome: str, status: int | None, success: bool) -> None:
    assert is_success(outcome, status) is success


ARTICLE = ("webUrl",)
IMAGE = ("images[0].url",)


@pytest.mark.parametrize(
    ("history", "now", "due", "reason", "due_at"),
    [
        # never fetched: due at once, ordered by first citation
        (UrlHistory(roles=ARTICLE, first_seen=5.0), 5.0, True, "new", 5.0),
        # not cited any more: never due
        (UrlHistory(roles=(), first_seen=5.0), 1e12, False, None, math.inf),
        # killed mid-fetch: due before anything else
        (UrlHistory(roles=IMAGE, last_finished=0.0, last_outcome="ok", last_status=200, in_flight=True),
         1.0, True, "interrupted", -math.inf),
        # article fetched on day 0: not due on day 6, due on day 7
        (UrlHistory(roles=ARTICLE, last_finished=0.0, last_outcome="ok", last_status=200), 6 * DAY, False, None,
         7 * DAY),
        (UrlHistory(roles=ARTICLE, last_finished=0.0, last_outcome="ok", last_status=200), 7 * DAY, True, "recheck",
         7 * DAY),
        # a 304 counts as success
        (UrlHistory(roles=ARTICLE, last_finished=0.0, last_outcome="not_modified", last_status=304), 7 * DAY, True,
         "recheck", 7 * DAY),
        # an image once fetched: never again
        (UrlHistory(roles=IMAGE, last_finished=0.0, last_outcome="ok", last_status=200), 1e12, False, None,
         math.inf),
        # an image that failed is retried like anything else
        (UrlHistory(roles=IMAGE, last_finished=0.0, last_outcome="timeout", consecutive_failures=1), DAY, True,
         "retry", DAY),
        # third failure in a row: 4 days
        (UrlHistory(roles=ARTICLE, last_finished=0.0, last_outcome="http_error", last_status=404,
                    consecutive_failures=3), 3.9 * DAY, False, None, 4 * DAY),
        (UrlHistory(roles=ARTICLE, last_finished=0.0, last_outcome="http_error", last_status=404,
                    consecutive_failures=3), 4 * DAY, True, "retry", 4 * DAY),
    ],
)
def test_decide(history: UrlHistory, now: float, due: bool, reason: str | None, due_at: float) -> None:
    d = decide(history, policy=POLICY, now=now)
    assert (d.due, d.reason, d.due_at) == (due, reason, due_at)


def test_a_failing_url_across_simulated_days() -> None:
    """Fail every time it is tried: tried on days 0, 1, 3, 7, 15, 31, 61, 91 (1, 2, 4, 8, 16, 30, 30 apart)."""
    tried: list[int] = []
    failures, last = 0, None
    for day in range(100):
        h = UrlHistory(roles=ARTICLE, last_finished=last, last_outcome=None if last is None else "timeout",
                       consecutive_failures=failures)
        if decide(h, policy=POLICY, now=day * DAY).due:
            tried.append(day)
            failures, last = failures + 1, day * DAY
    assert tried == [0, 1, 3, 7, 15, 31, 61, 91]
