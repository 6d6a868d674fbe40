"""robots.txt policy: pure, from status and bytes."""

from __future__ import annotations

import doctest
import gzip

import pytest

import crawler.robots
from crawler.robots import MAX_ROBOTS_BYTES, RobotsPolicy, robots_text

RULES = b"User-agent: *\nDisallow: /\n\nUser-agent: citecrawl\nDisallow: /private\nCrawl-delay: 4\n"


def test_doctests() -> None:
    assert doctest.testmod(crawler.robots).failed == 0


def test_our_token_selects_the_group() -> None:
    p = RobotsPolicy.from_fetch(200, RULES, token="citecrawl")
    assert p.decide("https://a.example/news") == "allowed"
    assert p.decide("https://a.example/private/x") == "disallowed"
    assert p.crawl_delay() == 4.0
    other = RobotsPolicy.from_fetch(200, RULES, token="otherbot")
    assert other.decide("https://a.example/news") == "disallowed"


def test_bom_does_not_hide_the_first_group() -> None:
    p = RobotsPolicy.from_fetch(200, b"\xef\xbb\xbfUser-agent: *\nDisallow: /x\n", token="citecrawl")
    assert p.decide("http://a.example/x") == "disallowed"


@pytest.mark.parametrize(
    ("status", "state", "decision"),
    [(404, "allowed", "allowed"), (401, "allowed", "allowed"), (410, "allowed", "allowed"),
     (500, "unavailable", "unavailable"), (503, "unavailable", "unavailable"),
     (429, "unavailable", "unavailable"), (None, "unavailable", "unavailable")],
)
def test_status_rules(status: int | None, state: str, decision: str) -> None:
    p = RobotsPolicy.from_fetch(status, RULES, token="citecrawl")
    assert p.state == state
    assert p.decide("http://a.example/private") == decision


def test_ignored() -> None:
    assert RobotsPolicy.ignored().decide("http://a.example/x") == "ignored"


def test_gzip_body_and_size_cap() -> None:
    body = gzip.compress(b"User-agent: *\nDisallow: /g\n")
    p = RobotsPolicy.from_fetch(200, body, content_encoding="gzip", token="citecrawl")
    assert p.decide("http://a.example/g") == "disallowed"
    # a rule past 500 KiB is not read
    big = b"#" * (MAX_ROBOTS_BYTES + 10) + b"\nUser-agent: *\nDisallow: /\n"
    assert RobotsPolicy.from_fetch(200, big, token="citecrawl").decide("http://a.example/") == "allowed"
    assert len(robots_text(gzip.compress(big), "gzip").encode()) == MAX_ROBOTS_BYTES
    assert robots_text(b"garbage", "gzip") == ""
    assert robots_text(b"data", "zstd") == ""             # an encoding we do not undo: no rules
    assert robots_text(b"\xef\xbb\xbfUser-agent: *", None) == "User-agent: *"


def test_request_rate_counts_as_delay() -> None:
    p = RobotsPolicy.from_fetch(200, b"User-agent: *\nRequest-rate: 1/10s\nCrawl-delay: 3\n", token="citecrawl")
    assert p.crawl_delay() == 10.0


def test_html_garbage_is_no_rules() -> None:
    p = RobotsPolicy.from_fetch(200, b"<html><body>Not found</body></html>", token="citecrawl")
    assert p.decide("http://a.example/anything") == "allowed"
    assert p.crawl_delay() is None
