"""The politeness core driven with plain numbers: no event loop, no clock."""

from __future__ import annotations

import doctest
import random

import pytest

import crawler.politeness
from crawler.politeness import Politeness, Rules


class FixedRandom(random.Random):
    """``random()`` returns one fixed value, so jitter is exact in the tables."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


def core(rng: float = 0.0, **rules: float) -> Politeness[str]:
    return Politeness(Rules(**rules), rng=FixedRandom(rng))  # type: ignore[arg-type]


def test_doctests() -> None:
    assert doctest.testmod(crawler.politeness).failed == 0


@pytest.mark.parametrize(
    ("delay", "jitter", "draw", "finished_at", "next_at"),
    [
        (1.0, 0.0, 0.9, 0.5, 1.5),      # no jitter: exactly the delay after the END of the response
        (1.0, 0.5, 0.0, 0.5, 1.5),      # jitter never goes below the floor
        (1.0, 0.5, 1.0, 0.5, 2.0),      # ... and adds up to +50 %
        (2.0, 0.5, 0.5, 3.0, 5.5),      # 2 s * 1.25 after t=3
        (0.0, 0.5, 1.0, 3.0, 3.0),      # politeness off: next at once
    ],
)
def test_gap_from_end_of_response(delay: float, jitter: float, draw: float, finished_at: float,
                                  next_at: float) -> None:
    p = core(draw, delay=delay, jitter=jitter)
    p.add("h", "1", now=0.0)
    p.add("h", "2", now=0.0)
    assert p.next_ready(0.0) == ("1", None)
    assert p.next_ready(finished_at) == (None, None)      # in flight: the gap has not started
    p.finished("h", finished_at)
    if next_at > finished_at:
        assert p.next_ready(next_at - 0.001) == (None, pytest.approx(next_at))
    assert p.next_ready(next_at) == ("2", None)


def test_per_host_limit_and_global_cap() -> None:
    p = core(delay=0.0, concurrency=3, per_host=2)
    for host in ("a", "b"):
        for i in range(3):
            p.add(host, f"{host}{i}", now=0.0)
    started = [p.next_ready(0.0)[0] for _ in range(4)]
    assert started[:3] == ["a0", "b0", "a1"]    # ties go round-robin in order of arrival
    assert started[3] is None                    # the global cap (3) holds
    assert p.in_flight == 3
    p.finished("a", 1.0)
    assert p.next_ready(1.0) == ("b1", None)     # b was ready before a's new turn
    assert p.next_ready(1.0) == (None, None)     # cap reached again
    p.finished("b", 2.0)
    p.finished("b", 2.0)
    assert p.next_ready(2.0) == ("a2", None)
    assert p.next_ready(2.0) == ("b2", None)
    assert p.next_ready(2.0) == (None, None)     # a has 2 in flight (per_host), b has its one


def test_fairness_ready_first_goes_first_and_slow_host_does_not_block() -> None:
    p = core(delay=1.0, jitter=0.0)
    p.add("slow", "s1", now=0.0)
    p.add("slow", "s2", now=0.0)
    assert p.next_ready(0.0) == ("s1", None)
    p.add("fast", "f1", now=0.5)
    p.add("fast", "f2", now=0.5)
    p.add("late", "l1", now=0.7)
    # the slow host's response is still streaming: others go on
    assert p.next_ready(0.7) == ("f1", None)
    assert p.next_ready(0.7) == ("l1", None)
    p.finished("fast", 0.8)              # fast ready again at 1.8
    p.finished("slow", 0.6 + 0.1)        # slow ready at 1.7, before fast
    assert p.next_ready(1.75) == ("s2", None)
    assert p.next_ready(1.75) == (None, pytest.approx(1.8))
    assert p.next_ready(1.8) == ("f2", None)


def test_crawl_delay_raises_gap_and_cap_defers_host() -> None:
    p = core(delay=1.0, jitter=0.0, max_crawl_delay=30.0)
    for i in range(3):
        p.add("h", str(i), now=0.0)
    assert p.set_crawl_delay("h", 10.0, now=0.0)
    assert p.next_ready(0.0) == ("0", None)
    p.finished("h", 1.0)
    assert p.next_ready(5.0) == (None, 11.0)
    assert p.crawl_delay("h") == 10.0
    assert not p.set_crawl_delay("h", 31.0, now=11.0)       # over the cap: the caller defers
    assert p.defer_host("h", now=11.0) == ["1", "2"]
    assert p.is_deferred("h")
    assert p.next_ready(100.0) == (None, None)
    assert not p.add("h", "3", now=100.0)
    assert p.statistics(100.0).hosts_deferred == ("h",)


def test_crawl_delay_below_delay_keeps_delay() -> None:
    p = core(delay=2.0, jitter=0.0)
    p.add("h", "a", now=0.0)
    p.add("h", "b", now=0.0)
    p.set_crawl_delay("h", 0.5, now=0.0)
    p.next_ready(0.0)
    p.finished("h", 0.0)
    assert p.next_ready(0.0) == (None, 2.0)


@pytest.mark.parametrize(
    ("retry_after", "expected_next"),
    [
        (0.0, 1.0),          # the gap still applies
        (5.0, 5.0),          # the server's wish is longer than the gap
        (120.0, 100.0),      # capped at max_retry_after for the host
        (-3.0, 1.0),         # a date in the past: no pause beyond the gap
    ],
)
def test_retry_after_pauses_host(retry_after: float, expected_next: float) -> None:
    p = core(delay=1.0, jitter=0.0, max_retry_after=100.0, backoff_base=0.0)
    p.add("h", "a", now=0.0)
    p.add("h", "b", now=0.0)
    p.next_ready(0.0)
    p.finished("h", 0.0, ok=False, retry_after=retry_after)
    assert p.next_ready(0.0) == (None, pytest.approx(expected_next))


@pytest.mark.parametrize(
    ("attempt", "retry_after", "draw", "expected"),
    [
        (1, None, 0.0, 1.0),         # base 2: jitter range [1, 2]
        (1, None, 1.0, 2.0),
        (2, None, 1.0, 4.0),
        (3, None, 0.5, 6.0),         # 8 * 0.75
        (10, None, 1.0, 60.0),       # capped at backoff_max
        (1, 30.0, 0.7, 30.0),        # Retry-After is obeyed as given
        (1, 60.0, 0.7, 60.0),        # ... up to the cap
        (1, 61.0, 0.7, None),        # beyond: defer the URL
    ],
)
def test_retry_wait(attempt: int, retry_after: float | None, draw: float, expected: float | None) -> None:
    p = core(draw, backoff_base=2.0, backoff_max=60.0, max_retry_after=60.0)
    assert p.retry_wait(attempt, retry_after=retry_after) == expected


def test_adaptive_slowdown_and_recovery() -> None:
    p = core(delay=1.0, jitter=0.0, backoff_base=2.0, backoff_max=10.0)
    p.add("h", "x", now=0.0)
    gaps = []
    now = 0.0
    outcomes = [False, False, False, False, True, True, True, True, True, True, True, True, True, True]
    for ok in outcomes:
        p.add("h", "x", now=now)
        item, wake = p.next_ready(now)
        if item is None:
            assert wake is not None
            now = wake
            item, _ = p.next_ready(now)
        assert item == "x"
        p.finished("h", now, ok=ok)
        _, wake = p.next_ready(now)
        assert wake is not None
        gaps.append(round(wake - now, 4))
    # errors: +2, +4, +8, +10 (capped); successes halve it back down to the 1 s floor
    assert gaps[:4] == [3.0, 5.0, 9.0, 11.0]
    assert gaps[4:8] == [6.0, 3.5, 2.25, 1.625]
    assert gaps[-1] == 1.0
    assert p.slowdown("h") == 0.0


def test_retry_goes_first_but_waits_for_host_turn() -> None:
    p = core(delay=1.0, jitter=0.0)
    p.add("h", "a", now=0.0)
    p.add("h", "b", now=0.0)
    assert p.next_ready(0.0) == ("a", None)
    p.finished("h", 0.5, ok=False)              # slow-down +2: ready at 3.5
    p.add_front("h", "a-retry", now=0.5, not_before=2.0)
    assert p.next_ready(2.0) == (None, 3.5)     # the back-off did not shorten the host's own wait
    assert p.next_ready(3.5) == ("a-retry", None)
    p.finished("h", 3.5)
    p.add_front("h", "a-retry2", now=3.5, not_before=10.0)
    assert p.next_ready(5.0) == (None, 10.0)    # and a longer back-off pauses the whole host
    assert p.next_ready(10.0) == ("a-retry2", None)


def test_release_unused_slot_has_no_gap() -> None:
    p = core(delay=5.0, jitter=0.0)
    p.add("h", "a", now=0.0)
    p.add("h", "b", now=0.0)
    assert p.next_ready(0.0) == ("a", None)
    p.release("h")
    assert p.next_ready(0.0) == ("b", None)
    p.release("h")
    with pytest.raises(RuntimeError, match="no request in flight"):
        p.release("h")                           # a bug in the caller is an exception


def test_drain_and_statistics() -> None:
    p = core(delay=1.0, jitter=0.0)
    for host, n in (("a", 3), ("b", 1)):
        for i in range(n):
            p.add(host, f"{host}{i}", now=0.0)
    p.next_ready(0.0)
    stats = p.statistics(0.0)
    assert dict(stats.queued) == {"a": 2, "b": 1}
    assert stats.in_flight == 1
    assert stats.hosts_waiting == 1          # a is busy; b is ready
    assert sorted(p.drain()) == ["a1", "a2", "b0"]
    assert p.queued == 0
    assert p.next_ready(5.0) == (None, None)


def test_many_hosts_heap_order_is_by_ready_time() -> None:
    rng = random.Random(7)
    p: Politeness[str] = Politeness(Rules(delay=1.0, jitter=0.5, concurrency=1000), rng=rng)
    for i in range(50):
        for j in range(4):
            p.add(f"h{i}", f"h{i}/{j}", now=0.0)
    now = 0.0
    last_start: dict[str, float] = {}
    ends: dict[str, float] = {}
    done = 0
    while done < 200:
        item, wake = p.next_ready(now)
        if item is None:
            assert wake is not None
            now = wake
            continue
        host = item.split("/")[0]
        if host in ends:
            assert now - ends[host] >= 1.0 - 1e-9          # never less than the floor
        last_start[host] = now
        ends[host] = now + 0.1 * (int(host[1:]) % 3)
        p.finished(host, ends[host])
        done += 1
    assert len(last_start) == 50


def test_crawl_delay_learned_after_the_robots_response_counts_from_its_end() -> None:
    p = core(delay=1.0, jitter=0.0)
    p.add("h", "robots", now=0.0)
    p.add("h", "page", now=0.0)
    p.next_ready(0.0)
    p.finished("h", 2.0)                 # robots.txt ended at 2.0: next at 3.0 by the delay ...
    assert p.set_crawl_delay("h", 5.0, now=2.0)
    assert p.next_ready(2.0) == (None, 7.0)   # ... but its Crawl-delay says 7.0
    assert p.next_ready(7.0) == ("page", None)


@pytest.mark.parametrize(("value", "expected"), [
    ("\u00b2", None),                  # str.isdigit() says yes, float() says no: must not raise
    ("\u0661\u0662", None),            # Arabic-Indic digits
    ("-30", None),
    ("soon", None),
    ("", None),
    ("9" * 40, 1e40),
    ("Thu, 01 Jan 1970 00:00:00 GMT", -1735689600.0),
])
def test_parse_retry_after_absurd_values(value: str, expected: float | None) -> None:
    from datetime import UTC, datetime

    from crawler.politeness import parse_retry_after

    assert parse_retry_after(value, now=datetime(2025, 1, 1, tzinfo=UTC)) == expected
