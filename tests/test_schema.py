"""Schema versions: create at v1, migrate to the latest with data kept; a future version is refused."""

from __future__ import annotations

import doctest
import sqlite3
from pathlib import Path

import pytest

from crawler import schema
from crawler.errors import StateError
from crawler.schedule import RecrawlPolicy
from crawler.state import STATE_FILENAME, open_state_store
from crawler.state_sqlite import SqliteStateStore


def test_doctests() -> None:
    assert doctest.testmod(schema).failed == 0


def v1_store(path: Path) -> None:
    """A store as the first release wrote it, with a document citing two URLs."""
    conn = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(conn, path=str(path), target=1) == 0
    assert schema.schema_version(conn) == 1
    conn.execute("INSERT INTO documents (path, content_hash, first_seen, last_scanned, last_changed) "
                 "VALUES ('d', 'h', 1, 1, 1)")
    conn.execute("INSERT INTO urls (url, first_seen) VALUES ('https://Example.COM:8443/a', 1), ('mailto:x@y', 2)")
    conn.execute("INSERT INTO citations SELECT 1, id, 'webUrl' FROM urls")
    conn.close()


def test_migrate_v1_to_latest_keeps_data_and_backfills_hosts(tmp_path: Path) -> None:
    path = tmp_path / STATE_FILENAME
    v1_store(path)
    with SqliteStateStore(path) as s:
        assert s.statistics().schema_version == schema.LATEST == 3
        hosts = dict(s._conn.execute("SELECT url, host FROM urls").fetchall())
        assert hosts == {"https://Example.COM:8443/a": "example.com", "mailto:x@y": ""}
        due = s.due_urls(10.0, RecrawlPolicy())
        assert [(d.url, d.reason, d.host) for d in due] == [("https://Example.COM:8443/a", "new", "example.com"),
                                                            ("mailto:x@y", "new", "")]
        assert "urls_by_host" in {r[0] for r in s._conn.execute("SELECT name FROM sqlite_master")}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / STATE_FILENAME
    SqliteStateStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema.LATEST + 1}")
    conn.close()
    for readonly in (False, True):
        with pytest.raises(StateError, match=r"schema version 4 is newer than this citecrawl knows \(3\)"):
            open_state_store(tmp_path, readonly=readonly)


def test_readonly_refuses_an_older_schema_without_touching_it(tmp_path: Path) -> None:
    v1_store(tmp_path / STATE_FILENAME)
    with pytest.raises(StateError, match="schema 1 is older than 3; the next `citecrawl run` upgrades it"):
        open_state_store(tmp_path, readonly=True)
    conn = sqlite3.connect(tmp_path / STATE_FILENAME)
    assert schema.schema_version(conn) == 1
    conn.close()


def test_empty_file_is_not_a_store_when_read_only(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / STATE_FILENAME).close()
    (tmp_path / STATE_FILENAME).touch()
    with pytest.raises(StateError, match="not a citecrawl state store"):
        open_state_store(tmp_path, readonly=True)


def test_a_failing_migration_leaves_the_previous_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / STATE_FILENAME
    SqliteStateStore(path).close()

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        conn.execute("UPDATE urls SET host = 'changed'")
        raise RuntimeError("migration bug")

    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, broken))
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(RuntimeError, match="migration bug"):
        schema.migrate(conn, path=str(path), target=schema.LATEST + 1)
    assert schema.schema_version(conn) == schema.LATEST
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'").fetchone()[0] == 0
    conn.close()
