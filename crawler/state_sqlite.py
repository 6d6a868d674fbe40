"""The embedded state store: one SQLite file in the collection folder.

Settings, and why:

* ``journal_mode=WAL``: ``citecrawl status`` (and the report) read while a run
  writes, without blocking it; a commit appends to the log instead of
  rewriting pages, which makes one transaction per finished URL cheap.
* ``synchronous=NORMAL``: in WAL mode a commit is durable against a crash or
  SIGKILL of the process (the log is in the OS's hands); only a power loss
  can drop the last few commits, and never corrupts the file. Losing a commit
  means the store points at *fewer* WARC records than exist: those URLs are
  fetched again next run, which is the safe direction. ``FULL`` would fsync
  every URL for no gain we need.
* ``busy_timeout``: a second process (status) waits for the writer instead of
  failing at once.
* ``foreign_keys=ON``: removing a document removes its citations.

All SQL of this backend is here and in :mod:`crawler.schema` (DDL, migrations).
The connection is shared across threads (``trio.to_thread``) behind a lock.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crawler import schema
from crawler.errors import StateError
from crawler.schedule import (
    NOT_ATTEMPTED_OUTCOMES,
    DueReason,
    RecrawlPolicy,
    UrlHistory,
    is_success,
    next_due_at,
)
from crawler.state import (
    Capture,
    CaptureSummary,
    Changes,
    Citation,
    DocumentDelta,
    DocumentSeen,
    DueUrl,
    PreviousCapture,
    Recorded,
    RobotsEntry,
    RunInfo,
    SpooledChanges,
    StateStatistics,
    UrlState,
    url_changes,
)

__all__ = ["BUSY_TIMEOUT_SECONDS", "SqliteStateStore"]

#: how long a call waits for another process's write transaction before failing
BUSY_TIMEOUT_SECONDS = 30.0

#: due URLs whose details are read at once
_DUE_PAGE = 500
_SEP = "\x1f"  # unit separator: joins roles in one aggregate, never part of a role
_PREVIOUS = ("SELECT u.url, c.fetched_at, c.status, c.payload_digest, c.record_id, c.warc_date, c.target_uri, "
             "c.warc_filename, c.warc_offset, c.warc_length FROM captures c JOIN urls u ON u.id = c.url_id ")


#: what recording a capture reads of its URL's row (``_record``)
_URL_ROW = ("SELECT id, consecutive_failures, etag, last_modified, last_finished, last_outcome, last_status, "
            "first_seen FROM urls WHERE url = ?")


class SqliteStateStore:
    """:class:`crawler.state.StateStore` on SQLite. Open with :func:`crawler.state.open_state_store`."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._lock = threading.Lock()
        if readonly and not self.path.is_file():
            raise StateError(f"{self.path}: no state store here (no run has recorded anything in this collection)")
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{self.path}: not a usable state store: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT_SECONDS)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT_SECONDS)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if self.readonly:
                version = schema.known_version(conn, path=str(self.path))
                if version == 0:
                    raise StateError(f"{self.path}: not a citecrawl state store (empty schema)")
                if version < schema.LATEST:
                    raise StateError(f"{self.path}: state store schema {version} is older than {schema.LATEST}; "
                                     "the next `citecrawl run` upgrades it")
            else:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StateError(f"{self.path}: cannot switch the state store to WAL mode (got {mode})")
                conn.execute("PRAGMA synchronous = NORMAL")
                schema.migrate(conn, path=str(self.path))
        except BaseException:
            conn.close()
            raise
        return conn

    # -- plumbing ---------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, taking the write lock at once (no upgrade deadlocks between processes)."""
        if self.readonly:
            raise StateError(f"{self.path}: opened read-only")
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One consistent snapshot for a multi-statement read."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteStateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- documents and citations ------------------------------------------------------------------

    def upsert_documents(self, documents: Iterable[DocumentSeen], *, now: float,
                         run_id: int | None = None) -> DocumentDelta:
        docs = {d.path: d for d in documents}
        with self._write() as c:
            known: dict[str, str] = {}
            paths = list(docs)
            for start in range(0, len(paths), 500):   # only these documents' rows, not the whole table
                part = paths[start:start + 500]
                known.update(c.execute(f"SELECT path, content_hash FROM documents WHERE path IN "
                                       f"({', '.join('?' * len(part))})", part).fetchall())
            new = tuple(p for p in docs if p not in known)
            changed = tuple(p for p, d in docs.items() if p in known and known[p] != d.content_hash)
            c.executemany(
                "INSERT INTO documents (path, content_hash, title, snapshot_url, first_seen, last_scanned, "
                "last_changed, first_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(path) DO UPDATE SET content_hash = excluded.content_hash, title = excluded.title, "
                "snapshot_url = excluded.snapshot_url, last_scanned = excluded.last_scanned, "
                "last_changed = CASE WHEN documents.content_hash = excluded.content_hash "
                "THEN documents.last_changed ELSE excluded.last_changed END",
                [(d.path, d.content_hash, d.title, d.snapshot_url, now, now, now, run_id) for d in docs.values()],
            )
        return DocumentDelta(new=new, changed=changed, unchanged=len(docs) - len(new) - len(changed))

    def replace_citations(self, citations: Mapping[str, Iterable[Citation]], *, now: float) -> int:
        with self._write() as c:
            new_urls = 0
            for path, cited in citations.items():
                row = c.execute("SELECT id, citations_digest FROM documents WHERE path = ?", (path,)).fetchone()
                if row is None:
                    raise ValueError(f"replace_citations: unknown document {path!r}; upsert_documents first")
                doc_id, stored = row
                pairs = sorted({(x.url, x.role) for x in cited})
                digest = _citations_digest(pairs)
                if digest == stored:        # the same citations as last time (a scheduled run: nearly all)
                    continue
                c.execute("UPDATE documents SET citations_digest = ? WHERE id = ?", (digest, doc_id))
                c.execute("DELETE FROM citations WHERE document_id = ?", (doc_id,))
                mark = c.total_changes
                c.executemany("INSERT INTO urls (url, host, first_seen) VALUES (?, ?, ?) ON CONFLICT(url) DO NOTHING",
                              [(u, schema.host_of(u), now) for u in sorted({u for u, _ in pairs})])
                new_urls += c.total_changes - mark
                c.executemany("INSERT INTO citations (document_id, url_id, role) SELECT ?, id, ? FROM urls WHERE url = ?",
                              [(doc_id, role, url) for url, role in pairs])
        return new_urls

    def remove_documents(self, paths: Iterable[str]) -> int:
        with self._write() as c:
            # rowcount counts the documents only (sqlite3_changes leaves out the cascaded citations)
            return c.executemany("DELETE FROM documents WHERE path = ?", [(p,) for p in paths]).rowcount

    # -- scheduling -------------------------------------------------------------------------------

    def begin_attempts(self, urls: Iterable[str], *, run_id: int, now: float) -> None:
        with self._write() as c:
            c.executemany("UPDATE urls SET attempt_started = ?, attempt_run = ? WHERE url = ?",
                          [(now, run_id, u) for u in urls])

    def due_urls(self, now: float, policy: RecrawlPolicy, *, limit: int | None = None) -> list[DueUrl]:
        return list(self.iter_due_urls(now, policy, limit=limit))

    def iter_due_urls(self, now: float, policy: RecrawlPolicy, *, limit: int | None = None) -> Iterator[DueUrl]:
        # A no-op nightly run reads every cited URL once: a narrow scan in index order, the policy in
        # Python (so a changed [recrawl] applies at once), details only for what is due, a page of
        # URLs at a time (100,000 due URLs held with their details came to ~40 MB)
        due: list[tuple[float, int, DueReason]] = []
        with self._read() as c:
            rows = c.execute(
                "SELECT u.id, u.first_seen, u.attempt_started, u.last_finished, u.last_outcome, u.last_status, "
                "u.consecutive_failures, r.roles FROM (SELECT url_id, group_concat(role, char(31)) AS roles "
                "FROM citations GROUP BY url_id) r JOIN urls u ON u.id = r.url_id"
            )
            for uid, first_seen, attempt, finished, outcome, status, failures, roles in rows:
                history = UrlHistory(roles=tuple(roles.split(_SEP)), last_finished=finished, last_outcome=outcome,
                                     last_status=status, consecutive_failures=failures,
                                     in_flight=attempt is not None, first_seen=first_seen)
                reason, due_at = next_due_at(history, policy)
                if reason is not None and due_at <= now:
                    due.append((due_at, uid, reason))
        due.sort()  # longest due first; among equals, in the order they were first cited
        if limit is not None:
            del due[limit:]
        return self._due_details(due)

    def _due_details(self, due: list[tuple[float, int, DueReason]]) -> Iterator[DueUrl]:
        """``due`` with their details, read a page at a time (no read held across a ``yield``)."""
        for start in range(0, len(due), _DUE_PAGE):
            page = due[start:start + _DUE_PAGE]
            ids = [uid for _, uid, _ in page]
            marks = ",".join("?" * len(ids))
            with self._read() as c:
                previous = {row[0]: PreviousCapture(*row[1:]) for row in c.execute(
                    "SELECT c.url_id, " + _PREVIOUS.removeprefix("SELECT ") + "WHERE c.id IN (SELECT max(id) FROM "
                    f"captures WHERE url_id IN ({marks}) AND record_type = 'response' GROUP BY url_id)", ids)}
                details = {row[0]: row[1:] for row in c.execute(
                    f"SELECT id, url, host, etag, last_modified FROM urls WHERE id IN ({marks})", ids)}
            for due_at, uid, reason in page:
                if uid in details:           # (a URL removed meanwhile by another process is not due)
                    url, host, etag, last_modified = details[uid]
                    yield DueUrl(url=url, reason=reason, due_at=due_at, host=host, etag=etag,
                                 last_modified=last_modified, previous_capture=previous.get(uid))

    def record_capture(self, capture: Capture, *, run_id: int | None, policy: RecrawlPolicy) -> Recorded:
        return self.record_captures([capture], run_id=run_id, policy=policy)[0]

    def record_captures(self, captures: Sequence[Capture], *, run_id: int | None,
                        policy: RecrawlPolicy) -> list[Recorded]:
        with self._write() as c:
            return [self._record(c, capture, run_id, policy) for capture in captures]

    @staticmethod
    def _record(c: sqlite3.Connection, capture: Capture, run_id: int | None, policy: RecrawlPolicy) -> Recorded:
        row = c.execute(_URL_ROW, (capture.url,)).fetchone()
        if row is None:  # fetched without a citation (a one-off archive): remembered, never due
            c.execute("INSERT INTO urls (url, host, first_seen) VALUES (?, ?, ?)",
                      (capture.url, schema.host_of(capture.url), capture.fetched_at))
            row = c.execute(_URL_ROW, (capture.url,)).fetchone()
        uid, failures, etag, last_modified, finished, outcome, status, first_seen = row
        roles = tuple(r for (r,) in c.execute("SELECT DISTINCT role FROM citations WHERE url_id = ?", (uid,)))
        if capture.outcome in NOT_ATTEMPTED_OUTCOMES:  # nothing happened: the URL stays as it was, due
            c.execute("UPDATE urls SET attempt_started = NULL, attempt_run = NULL WHERE id = ?", (uid,))
            history = UrlHistory(roles=roles, last_finished=finished, last_outcome=outcome, last_status=status,
                                 consecutive_failures=failures, first_seen=first_seen)
            return Recorded(capture_id=None, next_due=next_due_at(history, policy)[1])
        success = is_success(capture.outcome, capture.status)
        failures = 0 if success else failures + 1
        if success and capture.status != 304:  # a new representation: its validators, or none
            etag, last_modified = capture.etag, capture.last_modified
        elif success:  # 304: the validators stand unless the server sent fresh ones
            etag, last_modified = capture.etag or etag, capture.last_modified or last_modified
        w = capture.warc
        cur = c.execute(
            "INSERT INTO captures (url_id, run_id, fetched_at, outcome, status, final_url, payload_digest, "
            "etag, last_modified, warc_filename, warc_offset, warc_length, record_id, record_type, warc_date, "
            "target_uri, verdict, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (uid, run_id, capture.fetched_at, capture.outcome, capture.status, capture.final_url,
             capture.payload_digest, capture.etag, capture.last_modified,
             w and w.filename, w and w.offset, w and w.length, w and w.record_id, w and w.record_type,
             w and w.date, w and w.target_uri, capture.verdict, _json(capture.evidence)),
        )
        capture_id = int(cur.lastrowid or 0)
        history = UrlHistory(roles=roles, last_finished=capture.fetched_at, last_outcome=capture.outcome,
                             last_status=capture.status, consecutive_failures=failures)
        next_due = next_due_at(history, policy)[1]
        c.execute(
            "UPDATE urls SET attempt_started = NULL, attempt_run = NULL, last_finished = ?, last_outcome = ?, "
            "last_status = ?, consecutive_failures = ?, next_due = ?, etag = ?, last_modified = ?, "
            "last_capture = ? WHERE id = ?",
            (capture.fetched_at, capture.outcome, capture.status, failures,
             next_due if math.isfinite(next_due) else None, etag, last_modified, capture_id, uid),
        )
        return Recorded(capture_id=capture_id, next_due=next_due)

    def set_verdict(self, capture_id: int, *, verdict: str, evidence: Mapping[str, Any] | None = None) -> None:
        with self._write() as c:
            cur = c.execute("UPDATE captures SET verdict = ?, evidence = ? WHERE id = ?",
                            (verdict, _json(evidence), capture_id))
            if cur.rowcount != 1:
                raise ValueError(f"set_verdict: no capture {capture_id}")

    def last_capture(self, url: str) -> PreviousCapture | None:
        with self._lock:
            row = self._conn.execute(_PREVIOUS + "WHERE c.target_uri = ? AND c.record_type = 'response' "
                                     "ORDER BY c.id DESC LIMIT 1", (url,)).fetchone()
        return PreviousCapture(*row) if row else None

    def url_state(self, url: str) -> UrlState | None:
        with self._read() as c:
            row = c.execute("SELECT id, last_finished, last_outcome, last_status, consecutive_failures, next_due, "
                            "attempt_started FROM urls WHERE url = ?", (url,)).fetchone()
            if row is None:
                return None
            uid, finished, outcome, status, failures, next_due, attempt = row
            roles = tuple(r for (r,) in c.execute("SELECT DISTINCT role FROM citations WHERE url_id = ? ORDER BY role",
                                                  (uid,)))
            n = c.execute("SELECT count(*) FROM captures WHERE url_id = ?", (uid,)).fetchone()[0]
        return UrlState(url=url, roles=roles, last_finished=finished, last_outcome=outcome, last_status=status,
                        consecutive_failures=failures, next_due=next_due, in_flight=attempt is not None, captures=n)

    # -- runs -------------------------------------------------------------------------------------

    def start_run(self, *, now: float, pid: int, host: str) -> int:
        with self._write() as c:
            cur = c.execute("INSERT INTO runs (started, pid, host) VALUES (?, ?, ?)", (now, pid, host))
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, *, now: float, counts: Mapping[str, int], exit_status: int) -> None:
        with self._write() as c:
            cur = c.execute("UPDATE runs SET finished = ?, counts = ?, exit_status = ? WHERE id = ?",
                            (now, json.dumps(dict(counts), sort_keys=True), exit_status, run_id))
            if cur.rowcount != 1:
                raise ValueError(f"finish_run: no run {run_id}")

    def last_runs(self, n: int) -> list[RunInfo]:
        with self._lock:
            rows = self._conn.execute("SELECT id, started, finished, pid, host, counts, exit_status FROM runs "
                                      "ORDER BY id DESC LIMIT ?", (n,)).fetchall()
        return [RunInfo(id=i, started=s, finished=f, pid=p, host=h, counts=json.loads(cj), exit_status=e)
                for i, s, f, p, h, cj, e in rows]

    # -- reports ----------------------------------------------------------------------------------

    def verdict_counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT CASE WHEN u.last_capture IS NULL THEN 'not fetched' ELSE coalesce(c.verdict, 'unjudged') END "
                "AS v, count(*) FROM urls u LEFT JOIN captures c ON c.id = u.last_capture "
                "WHERE EXISTS (SELECT 1 FROM citations x WHERE x.url_id = u.id) GROUP BY v ORDER BY v"
            ).fetchall()
        return {v: n for v, n in rows}

    def last_verdicts(self) -> dict[str, str]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT u.url, c.verdict FROM urls u JOIN captures c ON c.id = u.last_capture "
                "WHERE c.verdict IS NOT NULL").fetchall()
        return {url: verdict for url, verdict in rows}

    def changes_since(self, run_id: int | None) -> Changes:
        with self.spooled_changes(run_id) as changes:
            return Changes(new_documents=self.new_documents_since(run_id), urls=tuple(changes))

    def new_documents_since(self, run_id: int | None) -> tuple[str, ...]:
        after = -1 if run_id is None else run_id
        with self._read() as c:
            return tuple(p for (p,) in c.execute(
                "SELECT path FROM documents WHERE first_run > ? OR (first_run IS NULL AND first_seen > ?) "
                "ORDER BY path", (after, self._finished_at(c, after))))

    def spooled_changes(self, run_id: int | None) -> SpooledChanges:
        after = -1 if run_id is None else run_id
        spooled = SpooledChanges()
        try:
            with self._read() as c:
                rows = c.execute(
                    "WITH a AS (SELECT url_id, min(id) AS first_id, max(id) AS last_id FROM captures "
                    "           WHERE run_id > ? GROUP BY url_id) "
                    "SELECT u.url, p.outcome, p.status, p.final_url, p.verdict, n.outcome, n.status, n.final_url, "
                    "n.verdict FROM a JOIN urls u ON u.id = a.url_id JOIN captures n ON n.id = a.last_id "
                    "LEFT JOIN captures p ON p.id = (SELECT max(id) FROM captures b "
                    "                                WHERE b.url_id = a.url_id AND b.id < a.first_id) "
                    "ORDER BY u.url", (after,))
                # row by row: most URLs of a run did not change, so most rows are dropped
                for url, *rest in rows:
                    before = None if rest[0] is None else CaptureSummary(*rest[0:4])
                    for change in url_changes(url, before, CaptureSummary(*rest[4:8])):
                        spooled.add(change)
        except BaseException:
            spooled.close()
            raise
        return spooled

    @staticmethod
    def _finished_at(c: sqlite3.Connection, run_id: int) -> float:
        boundary = c.execute("SELECT coalesce(finished, started) FROM runs WHERE id = ?", (run_id,)).fetchone()
        return boundary[0] if boundary else -math.inf

    # -- robots.txt -------------------------------------------------------------------------------

    def robots_get(self, origin: str) -> RobotsEntry | None:
        with self._lock:
            row = self._conn.execute("SELECT origin, fetched_at, status, body, digest FROM robots WHERE origin = ?",
                                     (origin,)).fetchone()
        return RobotsEntry(*row) if row else None

    def robots_put(self, entry: RobotsEntry) -> None:
        with self._write() as c:
            c.execute("INSERT OR REPLACE INTO robots (origin, fetched_at, status, body, digest) VALUES (?, ?, ?, ?, ?)",
                      (entry.origin, entry.fetched_at, entry.status, entry.body, entry.digest))

    def statistics(self) -> StateStatistics:
        with self._read() as c:
            def one(sql: str) -> int:
                return int(c.execute(sql).fetchone()[0])
            return StateStatistics(
                documents=one("SELECT count(*) FROM documents"),
                urls=one("SELECT count(*) FROM urls"),
                cited_urls=one("SELECT count(DISTINCT url_id) FROM citations"),
                captures=one("SELECT count(*) FROM captures"),
                runs=one("SELECT count(*) FROM runs"),
                schema_version=schema.schema_version(c),
            )


def _citations_digest(pairs: Sequence[tuple[str, str]]) -> str:
    """A digest of a document's sorted ``(url, role)`` pairs (what its citation rows hold)."""
    h = hashlib.sha1(usedforsecurity=False)
    for url, role in pairs:
        h.update(url.encode("utf-8", "surrogatepass") + b"\0" + role.encode("utf-8", "surrogatepass") + b"\0")
    return h.hexdigest()


def _json(value: Mapping[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(dict(value), sort_keys=True, ensure_ascii=False)

