"""The state store: what a collection remembers between runs, behind a small interface.

A nightly run asks the store what is due, fetches it, and records one
:class:`Capture` per finished URL; the report, the revisit logic and
``citecrawl status`` read from it instead of re-reading WARC files. The store
holds documents seen, the URLs they cite (with roles), every capture with the
place of its WARC record, per-URL scheduling state, runs, and the robots.txt
cache.

:class:`StateStore` is a :class:`typing.Protocol` with coarse, synchronous
calls (one per finished URL, bulk calls for the scan), free of SQLite
specifics, so a PostgreSQL backend for several workers can follow. The
embedded backend is :class:`crawler.state_sqlite.SqliteStateStore`; open it
with :func:`open_state_store`. Callers in trio use ``trio.to_thread.run_sync``
for the bulk calls; single-URL calls take well under a millisecond.

Times are wall-clock seconds since the epoch (UTC), always passed in as
``now``: trio's clock does not survive the process, and tests inject days.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

from crawler.schedule import DueReason, RecrawlPolicy, is_success

__all__ = [
    "STATE_FILENAME",
    "Capture",
    "CaptureSummary",
    "Changes",
    "Citation",
    "DocumentDelta",
    "DocumentSeen",
    "DueUrl",
    "PreviousCapture",
    "Recorded",
    "RobotsEntry",
    "RunInfo",
    "SpooledChanges",
    "StateStatistics",
    "StateStore",
    "UrlChange",
    "UrlState",
    "WarcRef",
    "open_state_store",
    "url_changes",
]

#: the file name of the embedded store inside a collection folder
STATE_FILENAME = "state.sqlite"

RecordType = Literal["response", "revisit"]
ChangeKind = Literal["gone", "unreachable", "moved", "changed", "recovered"]


@dataclass(frozen=True, slots=True)
class DocumentSeen:
    """A corpus document as the scan saw it; ``path`` is its id in the corpus."""

    path: str
    content_hash: str
    title: str | None = None
    snapshot_url: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentDelta:
    """What :meth:`StateStore.upsert_documents` found: paths first seen, paths whose content changed."""

    new: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: int


@dataclass(frozen=True, slots=True)
class Citation:
    """A URL cited by a document in a role (the scanner's key path, e.g. ``images[0].url``)."""

    url: str
    role: str


@dataclass(frozen=True, slots=True)
class WarcRef:
    """Where a capture's principal record is: fully on disk before it is recorded here."""

    filename: str
    offset: int
    length: int
    record_id: str           # WARC-Record-ID, "<urn:uuid:…>"
    record_type: RecordType
    date: str                # WARC-Date as written, e.g. "2024-05-01T12:00:00.123456Z"
    target_uri: str          # WARC-Target-URI of the record (the final URL after redirects)


@dataclass(frozen=True)
class Capture:
    """One finished URL: its outcome, validators, WARC record, and (later) its verdict.

    ``outcome`` is the fetcher's outcome name (``ok``, ``http_error``, ``timeout`` …;
    see :mod:`crawler.schedule` for which count as success). ``deferred`` (never
    attempted) records nothing and leaves the URL due.
    """

    url: str
    fetched_at: float
    outcome: str
    status: int | None = None
    final_url: str | None = None
    payload_digest: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    warc: WarcRef | None = None
    verdict: str | None = None
    evidence: Mapping[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What :meth:`StateStore.record_capture` did: the capture's id (None for ``deferred``) and next due time."""

    capture_id: int | None
    next_due: float          # seconds since the epoch; inf: never


@dataclass(frozen=True, slots=True)
class PreviousCapture:
    """An earlier ``response`` record of a URL: what a revisit record refers to."""

    url: str
    fetched_at: float
    status: int | None
    payload_digest: str | None
    record_id: str
    date: str
    target_uri: str
    filename: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class DueUrl:
    """A URL to fetch now, with why, and what a conditional request and a revisit need."""

    url: str
    reason: DueReason
    due_at: float
    host: str
    etag: str | None
    last_modified: str | None
    previous_capture: PreviousCapture | None


@dataclass(frozen=True, slots=True)
class UrlState:
    """Scheduling state of one URL (for status, tests and debugging)."""

    url: str
    roles: tuple[str, ...]
    last_finished: float | None
    last_outcome: str | None
    last_status: int | None
    consecutive_failures: int
    next_due: float | None   # None: never (or not yet fetched)
    in_flight: bool
    captures: int


@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    started: float
    finished: float | None   # None: still running, or killed
    pid: int
    host: str
    counts: Mapping[str, int]
    exit_status: int | None

    @property
    def duration(self) -> float | None:
        return None if self.finished is None else self.finished - self.started


@dataclass(frozen=True, slots=True)
class UrlChange:
    """A URL whose state changed: ``before`` and ``after`` are outcomes, final URLs or verdicts."""

    url: str
    kind: ChangeKind
    before: str | None
    after: str | None


class SpooledChanges:
    """URL changes kept in a temporary file, read again at each iteration (none held in memory).

    :meth:`StateStore.spooled_changes` fills one; iterate it as often as needed (one
    iteration at a time: they share the file) and close it, or use it as a context manager.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())

    def add(self, change: UrlChange) -> None:
        self._file.write(json.dumps([change.url, change.kind, change.before, change.after],
                                    ensure_ascii=False).encode("utf-8") + b"\n")

    def __iter__(self) -> Iterator[UrlChange]:
        self._file.seek(0)
        for line in self._file:
            yield UrlChange(*json.loads(line))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SpooledChanges:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed after a run: documents first seen later, URLs newly gone, moved, changed, back."""

    new_documents: tuple[str, ...]
    urls: tuple[UrlChange, ...]

    def of_kind(self, kind: ChangeKind) -> tuple[UrlChange, ...]:
        return tuple(c for c in self.urls if c.kind == kind)


class CaptureSummary(NamedTuple):
    """The parts of a capture that decide whether a source changed."""

    outcome: str
    status: int | None
    final_url: str | None
    verdict: str | None


def _describe(s: CaptureSummary) -> str:
    return s.outcome if s.status is None else f"{s.outcome} {s.status}"


#: statuses that say the source is gone (the others that fail say "not now": unreachable)
GONE_STATUSES = frozenset({404, 410})


def _is_gone(s: CaptureSummary) -> bool:
    return s.status in GONE_STATUSES


def url_changes(url: str, before: CaptureSummary | None, after: CaptureSummary) -> list[UrlChange]:
    """How a URL changed between two captures (``before`` None: against the citation itself).

    Pure, so every backend reports the same: ``gone`` when it answers 404 or 410
    (or did from the first capture on), ``unreachable`` when it stopped answering
    for another reason (DNS, timeout, 5xx: often passing, so not news for a person),
    ``recovered`` when it answers again, ``moved`` when it now lands on another
    final URL, ``changed`` when the verdict changed.

    >>> url_changes("http://a/", CaptureSummary("ok", 200, "http://a/", "unchanged"),
    ...             CaptureSummary("http_error", 404, None, None))
    [UrlChange(url='http://a/', kind='gone', before='ok 200', after='http_error 404')]
    >>> url_changes("http://a/", None, CaptureSummary("ok", 200, "http://b/", None))[0].kind
    'moved'
    >>> url_changes("http://a/", None, CaptureSummary("dns", None, None, None))[0].kind
    'unreachable'
    """
    ok_after = is_success(after.outcome, after.status)
    if before is None:
        if not ok_after:
            return [UrlChange(url, "gone" if _is_gone(after) else "unreachable", None, _describe(after))]
        if after.final_url and after.final_url != url:
            return [UrlChange(url, "moved", url, after.final_url)]
        return []
    ok_before = is_success(before.outcome, before.status)
    if not ok_after:
        if _is_gone(after) and not _is_gone(before):
            return [UrlChange(url, "gone", _describe(before), _describe(after))]
        if ok_before:
            return [UrlChange(url, "unreachable", _describe(before), _describe(after))]
        return []
    if not ok_before:
        return [UrlChange(url, "recovered", _describe(before), _describe(after))]
    found = []
    # a 304 has no final URL of its own: it confirms the previous one
    old_final, new_final = before.final_url or url, (after.final_url or before.final_url or url)
    if old_final != new_final:
        found.append(UrlChange(url, "moved", old_final, new_final))
    if before.verdict is not None and after.verdict is not None and before.verdict != after.verdict:
        found.append(UrlChange(url, "changed", before.verdict, after.verdict))
    return found


@dataclass(frozen=True, slots=True)
class RobotsEntry:
    """A cached robots.txt: ``origin`` is ``scheme://host:port``, RFC 9309's scope."""

    origin: str
    fetched_at: float
    status: int | None
    body: bytes | None
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class StateStatistics:
    documents: int
    urls: int
    cited_urls: int
    captures: int
    runs: int
    schema_version: int


class StateStore(Protocol):
    """What the crawler needs from a state store. Every write is one transaction."""

    def upsert_documents(self, documents: Iterable[DocumentSeen], *, now: float,
                         run_id: int | None = None) -> DocumentDelta:
        """Insert or update documents by path; the delta says which are new or changed."""
        ...

    def replace_citations(self, citations: Mapping[str, Iterable[Citation]], *, now: float) -> int:
        """For each document path, replace what it cites; returns URLs first seen. Unknown path → error."""
        ...

    def remove_documents(self, paths: Iterable[str]) -> int:
        """Forget documents gone from the corpus (their URLs stop being due; captures stay)."""
        ...

    def begin_attempts(self, urls: Iterable[str], *, run_id: int, now: float) -> None:
        """Mark URLs as in flight; one killed before it is recorded comes back as ``interrupted``."""
        ...

    def due_urls(self, now: float, policy: RecrawlPolicy, *, limit: int | None = None) -> list[DueUrl]:
        """Cited URLs due at ``now``: interrupted first, then by how long they have been due."""
        ...

    def iter_due_urls(self, now: float, policy: RecrawlPolicy, *, limit: int | None = None) -> Iterator[DueUrl]:
        """:meth:`due_urls` one at a time: which URLs are due is decided at the call, their details
        are read a page at a time as they are handed out (the store is free in between)."""
        ...

    def record_capture(self, capture: Capture, *, run_id: int | None, policy: RecrawlPolicy) -> Recorded:
        """Store a finished URL (one transaction) and compute when it is next due."""
        ...

    def record_captures(self, captures: Sequence[Capture], *, run_id: int | None,
                        policy: RecrawlPolicy) -> list[Recorded]:
        """:meth:`record_capture` of each, in order, in one transaction (a run records them in batches)."""
        ...

    def set_verdict(self, capture_id: int, *, verdict: str, evidence: Mapping[str, Any] | None = None) -> None:
        """Attach the comparison's verdict to a capture, when it is judged after being recorded."""
        ...

    def last_capture(self, url: str) -> PreviousCapture | None:
        """The latest ``response`` record whose target URI is ``url`` (for revisits across runs)."""
        ...

    def url_state(self, url: str) -> UrlState | None: ...

    def start_run(self, *, now: float, pid: int, host: str) -> int: ...

    def finish_run(self, run_id: int, *, now: float, counts: Mapping[str, int], exit_status: int) -> None: ...

    def last_runs(self, n: int) -> list[RunInfo]:
        """The ``n`` latest runs, newest first."""
        ...

    def verdict_counts(self) -> dict[str, int]:
        """Cited URLs per verdict of their latest capture (``unjudged``, ``not fetched`` for the rest)."""
        ...

    def last_verdicts(self) -> dict[str, str]:
        """The verdict of each URL's latest judged capture: what a URL not due in this run still stands at."""
        ...

    def changes_since(self, run_id: int | None) -> Changes:
        """New documents and URL changes recorded after run ``run_id`` (``None``: since the start)."""
        ...

    def new_documents_since(self, run_id: int | None) -> tuple[str, ...]:
        """The paths of documents first seen after run ``run_id``, sorted."""
        ...

    def spooled_changes(self, run_id: int | None) -> SpooledChanges:
        """The URL changes of :meth:`changes_since`, in URL order, read now in one snapshot into a
        temporary file (none held in memory); the store is free again when this returns."""
        ...

    def robots_get(self, origin: str) -> RobotsEntry | None: ...

    def robots_put(self, entry: RobotsEntry) -> None: ...

    def statistics(self) -> StateStatistics: ...

    def close(self) -> None: ...


def open_state_store(collection: str | Path, *, readonly: bool = False) -> StateStore:
    """The store of a collection folder (``state.sqlite`` in it), created and migrated unless ``readonly``.

    ``readonly`` never creates or upgrades anything; a missing or outdated store
    raises :class:`~crawler.errors.StateError` with a message for a person.
    """
    from crawler.state_sqlite import SqliteStateStore  # the SQLite module imports this one

    return SqliteStateStore(Path(collection) / STATE_FILENAME, readonly=readonly)
