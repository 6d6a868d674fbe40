"""Publication dates: parse what snapshots and pages write, and tell whether two name the same day.

Snapshots write ISO 8601 (``2022-01-24T14:56:00Z``), RFC 2822 mail dates
(``Mon, 24 Jan 2022 03:05:25 GMT``) or plain dates; YAML may already have turned
them into ``datetime``/``date`` values. Pages often show the local date of an
instant the snapshot stored in UTC, so "same day" is timezone-aware: two instants
are the same day when they fall on one calendar date in the time zone of either
side. A value without a time zone, or a date without a time, is compared by its
calendar date as written.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from datetime import date, datetime

__all__ = ["DateComparison", "When", "compare_published", "parse_when"]

When = str | datetime | date


@dataclass(frozen=True, slots=True)
class DateComparison:
    """``cited``/``found`` in ISO 8601; ``delta_seconds`` is found minus cited, None when not comparable as instants."""

    cited: str
    found: str
    same_day: bool
    delta_seconds: float | None


def parse_when(value: When | None) -> datetime | date | None:
    """A ``datetime`` (aware when the text names a zone) or ``date``; None for empty or unreadable text.

    >>> parse_when("2022-01-24T14:56:00Z")
    datetime.datetime(2022, 1, 24, 14, 56, tzinfo=datetime.timezone.utc)
    >>> parse_when("Mon, 24 Jan 2022 03:05:25 GMT").isoformat()
    '2022-01-24T03:05:25+00:00'
    >>> parse_when("2022-01-24")
    datetime.date(2022, 1, 24)
    >>> parse_when("last Tuesday") is None
    True
    """
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def compare_published(cited: When | None, found: When | None) -> DateComparison | None:
    """Compare two publication dates; None when either is missing or unreadable.

    >>> compare_published("2022-01-24T10:06:00Z", "2022-01-24T18:06:00+08:00").same_day
    True
    >>> compare_published("2022-01-24T20:00:00Z", "2022-01-25T04:00:00+08:00").same_day  # local date
    True
    >>> c = compare_published("2022-01-24T14:56:00Z", "2022-01-27")
    >>> c.same_day, c.delta_seconds
    (False, None)
    """
    a, b = parse_when(cited), parse_when(found)
    if a is None or b is None:
        return None
    delta = None
    if isinstance(a, datetime) and isinstance(b, datetime):
        if (a.tzinfo is None) == (b.tzinfo is None):
            delta = (b - a).total_seconds()
        if a.tzinfo is not None and b.tzinfo is not None:
            same = b.astimezone(a.tzinfo).date() == a.date() or a.astimezone(b.tzinfo).date() == b.date()
        else:
            same = a.date() == b.date()
    else:
        same = _day(a) == _day(b)
    return DateComparison(cited=a.isoformat(), found=b.isoformat(), same_day=same, delta_seconds=delta)


def _day(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value
