"""YAML front matter: finding it, loading it safely, and every URL inside it with its key path.

A snapshot may open with a YAML block between ``---`` lines, possibly after blank lines. Fields
differ from one source to the next, so nothing here relies on a schema: every http(s) URL
anywhere in the block is found, and its *role* is the key path where it sits
(``originalUrl``, ``images[0].url``, ``related[1].images[0].url``). The metadata that goes with a
URL (cited title, excerpt, date, width, height) is read from the mapping that encloses it, so
``related[1].webUrl`` carries ``related[1].title`` and ``images[0].url`` carries
``images[0].width`` but never the article's title.

YAML is loaded with the safe loader (libyaml's when available): no arbitrary objects, and a
broken block raises :class:`FrontMatterError` with YAML's own line and column. Aliases and
self-referencing structures are walked once per node, so an alias bomb cannot blow up the walk.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from crawler.urls import find_text_urls, is_http_url

__all__ = [
    "FoundUrl",
    "FrontMatterError",
    "first_text",
    "load_front_matter",
    "parse_published",
    "split_front_matter",
    "walk_urls",
]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = re.compile(r"\A(?:[ \t]*\r?\n)*---[ \t]*\r?\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.MULTILINE)

#: keys whose value is a date of publication, most specific first
DATE_KEYS = ("publishedDateTime", "datePublished", "publishedAt", "published_at", "pubDate", "published", "date")
#: keys whose value is a summary of the cited page
EXCERPT_KEYS = ("excerpt", "description", "summary")


class FrontMatterError(ValueError):
    """The front matter is not closed, not YAML, or not a mapping; the message says where."""


@dataclass(frozen=True, slots=True)
class FoundUrl:
    """A raw URL found in front matter, with its key path and the metadata beside it."""

    role: str
    raw: str
    title: str | None = None
    excerpt: str | None = None
    published: str | None = None
    width: int | None = None
    height: int | None = None


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """``(yaml, body, line)`` when ``text`` opens with front matter (after blank lines), else ``None``.

    ``line`` is the line number in the file where the YAML starts, for error messages.

    >>> split_front_matter("\\n---\\ntitle: x\\n---\\n<p>hi</p>\\n")
    ('title: x\\n', '<p>hi</p>\\n', 3)
    >>> split_front_matter("Title\\n---\\n") is None
    True
    """
    m = _OPEN.match(text)
    if m is None:
        return None
    close = _CLOSE.search(text, m.end())
    if close is None:
        raise FrontMatterError("front matter opened with --- is never closed by --- or ...")
    return text[m.end():close.start()], text[close.end():], m.group(0).count("\n") + 1


def load_front_matter(source: str, *, first_line: int = 1) -> Mapping[Any, Any]:
    """The front matter as a mapping (an empty block is an empty mapping).

    ``first_line`` is where ``source`` starts in its file, so errors name the file's line.
    """
    try:
        data = yaml.load(source, Loader=_Loader)  # _Loader is a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + first_line}, column {mark.column + 1}" if mark is not None else ""
        raise FrontMatterError(f"broken YAML{where}: {exc.problem or exc.context}") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise FrontMatterError(f"broken YAML: {type(exc).__name__}: {str(exc)[:200]}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise FrontMatterError(f"front matter is a {type(data).__name__}, not a mapping of fields")
    return data


def walk_urls(data: Mapping[Any, Any]) -> list[FoundUrl]:
    """Every http(s) URL in the front matter, in document order, with role and metadata."""
    found: list[FoundUrl] = []
    seen: set[int] = set()
    stack: list[tuple[str, Any, Mapping[Any, Any]]] = [("", data, data)]
    while stack:
        path, value, enclosing = stack.pop()
        if isinstance(value, Mapping | list):
            if id(value) in seen:  # an alias or a loop: its URLs are already reported under the first path
                continue
            seen.add(id(value))
            children = _children(path, value)
            stack.extend(reversed(list(children)))
        elif isinstance(value, str) and path:
            for raw in _urls_in(value):
                found.append(_found(path, raw, enclosing))
    return found


def _children(path: str, value: Mapping[Any, Any] | list[Any]) -> Iterator[tuple[str, Any, Mapping[Any, Any]]]:
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield (f"{path}.{key}" if path else str(key)), child, value
    else:
        for i, child in enumerate(value):
            yield f"{path}[{i}]", child, {}


def _urls_in(value: str) -> list[str]:
    stripped = value.strip()
    if is_http_url(stripped) and not any(c.isspace() for c in stripped):
        return [stripped]
    if "http" in value.lower():
        return find_text_urls(value)
    return []


def _found(role: str, raw: str, enclosing: Mapping[Any, Any]) -> FoundUrl:
    published = next((_date_text(enclosing.get(k)) for k in DATE_KEYS if _date_text(enclosing.get(k))), None)
    return FoundUrl(
        role=role,
        raw=raw,
        title=first_text(enclosing, ("title",)),
        excerpt=first_text(enclosing, EXCERPT_KEYS),
        published=published,
        width=_int(enclosing.get("width")),
        height=_int(enclosing.get("height")),
    )


def first_text(mapping: Mapping[Any, Any], keys: tuple[str, ...]) -> str | None:
    """The first of ``keys`` that holds a non-empty scalar, as stripped text."""
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, bool) or value is None or isinstance(value, Mapping | list):
            continue
        text = str(value).strip()
        if text:
            return text
    return None


def _date_text(value: Any) -> str | None:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) < 10:
        return int(value.strip())
    return None


def parse_published(value: Any) -> dt.datetime | None:
    """An aware datetime from a YAML date value: ISO 8601 or RFC 2822 text, a date or a datetime.

    A value without a time zone is taken as UTC (the sources we see write UTC when they omit
    it); ``None`` means no date could be read.

    >>> parse_published("2022-01-24T14:56:00Z").isoformat()
    '2022-01-24T14:56:00+00:00'
    >>> parse_published("Mon, 24 Jan 2022 03:05:25 GMT").isoformat()
    '2022-01-24T03:05:25+00:00'
    >>> parse_published(dt.date(2023, 6, 5)).isoformat()
    '2023-06-05T00:00:00+00:00'
    >>> parse_published(True) is None
    True
    """
    when: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, dt.date):
        when = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(text)
            except (ValueError, TypeError, IndexError, OverflowError):
                return None
    if when is None:
        return None
    if when.tzinfo is None or when.tzinfo.utcoffset(when) is None:
        when = when.replace(tzinfo=dt.UTC)
    return when
