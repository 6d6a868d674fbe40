"""The SQLite schema of the state store and its migrations, applied in order.

The schema version lives in ``PRAGMA user_version`` (0 for a new file). Each
entry of :data:`MIGRATIONS` moves the schema up by one; they run in one
``BEGIN IMMEDIATE`` transaction together with the version bump, so a crash
during an upgrade leaves the old schema and the old data, never half of each.
A file whose version is newer than :data:`LATEST` was written by a newer
citecrawl: we refuse it rather than guess (an old binary writing into a new
schema is how stores get corrupted).

Times are REAL seconds since the epoch (UTC). Tables are plain (not ``STRICT``)
so the file opens with the SQLite of older distributions (``STRICT`` needs 3.37).
This module and :mod:`crawler.state_sqlite` are the only places with SQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from crawler.errors import StateError

__all__ = ["LATEST", "MIGRATIONS", "host_of", "known_version", "migrate", "schema_version"]

_V1: Sequence[str] = (
    """CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        started     REAL NOT NULL,
        finished    REAL,                       -- NULL: still running, or killed
        pid         INTEGER NOT NULL,
        host        TEXT NOT NULL,
        counts      TEXT NOT NULL DEFAULT '{}', -- JSON object of counters
        exit_status INTEGER
    )""",
    """CREATE TABLE documents (
        id           INTEGER PRIMARY KEY,
        path         TEXT NOT NULL UNIQUE,      -- the scanner's document id
        content_hash TEXT NOT NULL,
        title        TEXT,
        snapshot_url TEXT,
        first_seen   REAL NOT NULL,
        last_scanned REAL NOT NULL,
        last_changed REAL NOT NULL,             -- when content_hash last changed
        first_run    INTEGER REFERENCES runs(id)
    )""",
    """CREATE TABLE urls (
        id                   INTEGER PRIMARY KEY,
        url                  TEXT NOT NULL UNIQUE,
        first_seen           REAL NOT NULL,
        attempt_started      REAL,              -- set when fetching starts, cleared when recorded
        attempt_run          INTEGER,
        last_finished        REAL,
        last_outcome         TEXT,
        last_status          INTEGER,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_due             REAL,              -- as computed when last recorded (inf stored as NULL)
        etag                 TEXT,              -- validators for conditional requests
        last_modified        TEXT,
        last_capture         INTEGER            -- captures.id of the latest capture
    )""",
    """CREATE TABLE citations (
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        url_id      INTEGER NOT NULL REFERENCES urls(id),
        role        TEXT NOT NULL,
        PRIMARY KEY (document_id, url_id, role)
    ) WITHOUT ROWID""",
    "CREATE INDEX citations_by_url ON citations(url_id, role)",
    """CREATE TABLE captures (
        id             INTEGER PRIMARY KEY,
        url_id         INTEGER NOT NULL REFERENCES urls(id),
        run_id         INTEGER REFERENCES runs(id),
        fetched_at     REAL NOT NULL,
        outcome        TEXT NOT NULL,
        status         INTEGER,
        final_url      TEXT,
        payload_digest TEXT,
        etag           TEXT,
        last_modified  TEXT,
        warc_filename  TEXT,
        warc_offset    INTEGER,
        warc_length    INTEGER,
        record_id      TEXT,
        record_type    TEXT CHECK (record_type IN ('response', 'revisit')),
        warc_date      TEXT,                    -- WARC-Date of the record, as written
        target_uri     TEXT,                    -- WARC-Target-URI of the record
        verdict        TEXT,
        evidence       TEXT                     -- JSON
    )""",
    "CREATE INDEX captures_by_url ON captures(url_id, id)",
    "CREATE INDEX captures_by_run ON captures(run_id)",
    "CREATE INDEX captures_by_target ON captures(target_uri, id) WHERE record_type = 'response'",
    """CREATE TABLE robots (
        origin     TEXT PRIMARY KEY,            -- scheme://host:port, the scope of a robots.txt
        fetched_at REAL NOT NULL,
        status     INTEGER,
        body       BLOB,
        digest     TEXT
    )""",
)


def host_of(url: str) -> str:
    """The lower-cased host of a URL, ``""`` when it has none (the frontier's per-host key).

    >>> host_of("https://Example.COM:8443/a?b")
    'example.com'
    """
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _v2_url_hosts(conn: sqlite3.Connection) -> None:
    """v2: ``urls.host``, so status and a shared frontier (host leases) can group by host."""
    conn.execute("ALTER TABLE urls ADD COLUMN host TEXT NOT NULL DEFAULT ''")
    rows = conn.execute("SELECT id, url FROM urls").fetchall()
    conn.executemany("UPDATE urls SET host = ? WHERE id = ?", [(host_of(url), i) for i, url in rows])
    conn.execute("CREATE INDEX urls_by_host ON urls(host)")


def _v3_citation_digests(conn: sqlite3.Connection) -> None:
    """v3: ``documents.citations_digest``, so a document whose citations did not change is not rewritten.

    NULL for every document until its citations are next recorded (they are then rewritten once).
    """
    conn.execute("ALTER TABLE documents ADD COLUMN citations_digest TEXT")


def _script(statements: Sequence[str]) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in statements:
            conn.execute(statement)
    return apply


#: MIGRATIONS[i] takes the schema from version i to i + 1
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_script(_V1), _v2_url_hosts, _v3_citation_digests)
LATEST = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def known_version(conn: sqlite3.Connection, *, path: str) -> int:
    """The schema version, or :class:`StateError` when it is newer than this code knows."""
    version = schema_version(conn)
    _refuse_newer(version, path)
    return version


def migrate(conn: sqlite3.Connection, *, path: str, target: int = LATEST) -> int:
    """Bring the schema up to ``target`` (default: the latest); returns the version before.

    ``conn`` must be in autocommit mode (``isolation_level=None``): this takes
    the write lock itself, so two processes opening one new store do not both
    create it.
    """
    before = known_version(conn, path=path)
    if before >= target:
        return before
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)  # another process may have upgraded while we waited
        _refuse_newer(current, path)
        for version in range(current, target):
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return before


def _refuse_newer(version: int, path: str) -> None:
    if version > LATEST:
        raise StateError(
            f"{path}: state store schema version {version} is newer than this citecrawl knows "
            f"({LATEST}); upgrade citecrawl or use another collection folder"
        )
