"""YAML front matter: finding it, loading it safely, and every URL inside it with its key path.

A snapshot may open with a YAML block between ``---`` lines, possibly after blank lines. Fields
differ from one source to the next, so nothing here relies on a schema: every http(s) URL
anywhere in the block is found, and its *role* is the key path where it sits
(``originalUrl``, ``images[0].url``, ``related[1].images[0].url``). The metadata that goes with a
URL (cited title, excerpt, date, width, height) is read from the mapping that encloses it, so
``related[1].webUrl`` carries ``related[1].title`` and ``images[0].url`` carries
``images[0].width`` but never the article's title.

YAML is composed by libyaml (when available) and turned into plain data here: no object is
ever constructed from a tag, and a broken block raises :class:`FrontMatterError` with YAML's
own line and column. Aliases and
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

_Loader: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_SPACE = re.compile(r"\s")
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

    libyaml composes the node graph (C, about 0.1 ms for a 3 KB block); the data is then built
    here, iteratively, without PyYAML's constructor, which costs three times as much and
    recurses. Strings stay strings, ``int``/``float``/``bool``/``null`` scalars are typed,
    timestamps stay text (:func:`parse_published` reads them), unknown tags (``!!python/...``)
    are plain data and never constructed, merge keys (``<<``) are skipped.
    """
    _check_nesting(source, first_line)
    try:
        root = yaml.compose(source, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + first_line}, column {mark.column + 1}" if mark is not None else ""
        raise FrontMatterError(f"broken YAML{where}: {exc.problem or exc.context}") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise FrontMatterError(f"broken YAML: {type(exc).__name__}: {str(exc)[:200]}") from None
    if root is None:
        return {}
    data = _build(root)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise FrontMatterError(f"front matter is a {type(data).__name__}, not a mapping of fields")
    return data


#: deeper nesting is refused before libyaml sees it: its composer recurses in C and crashes the
#: process (not an exception) somewhere past 10,000 levels
MAX_NESTING = 1000
_DEEP_INDENT = re.compile(rf"^[ \t]{{{MAX_NESTING},}}", re.MULTILINE)


def _check_nesting(source: str, first_line: int) -> None:
    if source.count("[") + source.count("{") > MAX_NESTING:
        depth = deepest = 0
        for c in source:
            if c in "[{":
                depth += 1
                deepest = max(deepest, depth)
            elif c in "]}":
                depth = max(0, depth - 1)
        if deepest > MAX_NESTING:
            raise FrontMatterError(f"broken YAML: nested more than {MAX_NESTING} levels deep")
    m = _DEEP_INDENT.search(source)
    if m is not None:
        line = source.count("\n", 0, m.start()) + first_line
        raise FrontMatterError(f"broken YAML at line {line}: indented more than {MAX_NESTING} columns")


_TAG = "tag:yaml.org,2002:"
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {w: w.lower() in ("yes", "true", "on") for base in ("yes", "no", "true", "false", "on", "off")
          for w in (base, base.capitalize(), base.upper())}
_INT = re.compile(r"[-+]?[0-9][0-9_]*\Z")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?\Z")


def _scalar(node: yaml.ScalarNode) -> Any:
    """A scalar's value: plain scalars typed as YAML 1.1 does (null, bool, int, float), the rest text.

    The loader is libyaml's *base* loader, which leaves resolution to us: PyYAML's resolver runs
    a dozen regular expressions in Python on every scalar, more than the whole compose costs.
    Timestamps stay text on purpose (see :func:`parse_published`).
    """
    tag, value = node.tag, node.value
    if tag == _TAG + "str":
        if node.style:  # quoted or block: always a string
            return value
        if value in _NULLS:
            return None
        flag = _BOOLS.get(value)
        if flag is not None:
            return flag
        if _INT.match(value):
            return int(value.replace("_", ""))
        if _FLOAT.match(value) and any(c.isdigit() for c in value):
            return float(value.replace("_", ""))
        return value
    if tag == _TAG + "null":
        return None
    if tag == _TAG + "bool":
        return value.lower() in ("yes", "true", "on")
    if tag == _TAG + "int":
        try:
            return int(value.replace("_", ""))
        except ValueError:
            return value
    if tag == _TAG + "float":
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return value
    return value


def _build(root: yaml.Node) -> Any:
    """Plain dicts, lists and scalars from a node graph; an alias becomes the same object."""
    made: dict[int, Any] = {}
    pending: list[tuple[yaml.Node, Any]] = []

    def make(node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        done = made.get(id(node))
        if done is not None:
            return done
        container: Any = {} if isinstance(node, yaml.MappingNode) else []
        made[id(node)] = container
        pending.append((node, container))
        return container

    top = make(root)
    while pending:
        node, container = pending.pop()
        if isinstance(container, dict):
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue  # a mapping or list as a key: no field name to report a URL under
                if key_node.value == "<<" and not key_node.style:
                    continue  # a merge key
                container[_scalar(key_node)] = make(value_node)
        else:
            container.extend(make(child) for child in node.value)
    return top


def walk_urls(data: Mapping[Any, Any]) -> list[FoundUrl]:
    """Every http(s) URL in the front matter, in document order, with role and metadata."""
    found: list[FoundUrl] = []
    seen: set[int] = set()
    metadata: dict[int, tuple[Any, ...]] = {}
    stack: list[tuple[str, Any, Mapping[Any, Any]]] = [("", data, data)]
    while stack:
        path, value, enclosing = stack.pop()
        if isinstance(value, str):
            if path and "://" in value:
                for raw in _urls_in(value):
                    meta = metadata.get(id(enclosing))
                    if meta is None:
                        meta = metadata[id(enclosing)] = _metadata(enclosing)
                    found.append(FoundUrl(path, raw, *meta))
        elif isinstance(value, dict | list | Mapping):
            if id(value) in seen:  # an alias or a loop: its URLs are already reported under the first path
                continue
            seen.add(id(value))
            stack.extend(reversed(list(_children(path, value))))
    return found


_NO_MAPPING: Mapping[Any, Any] = {}


def _children(path: str, value: Mapping[Any, Any] | list[Any]) -> Iterator[tuple[str, Any, Mapping[Any, Any]]]:
    if isinstance(value, list):
        for i, child in enumerate(value):
            yield f"{path}[{i}]", child, _NO_MAPPING
    else:
        for key, child in value.items():
            yield (f"{path}.{key}" if path else str(key)), child, value


def _urls_in(value: str) -> list[str]:
    stripped = value.strip()
    if is_http_url(stripped) and _SPACE.search(stripped) is None:
        return [stripped]
    return find_text_urls(value)


def _metadata(enclosing: Mapping[Any, Any]) -> tuple[Any, ...]:
    """``(title, excerpt, published, width, height)`` of the mapping around a URL."""
    published = next((text for text in map(_date_text, map(enclosing.get, DATE_KEYS)) if text), None)
    if published is not None:
        when = parse_published(published)
        published = when.isoformat() if when is not None else published  # one spelling for comparison
    return (first_text(enclosing, ("title",)), first_text(enclosing, EXCERPT_KEYS), published,
            _int(enclosing.get("width")), _int(enclosing.get("height")))


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
