"""A run's scan in a child process (crawler.scan_process): the same result as a scan here, or one made here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from crawler import scan_process
from crawler.corpus import ScanResult, scan
from crawler.errors import UsageError
from crawler.scan_process import SCAN_DIR, remove_stale, start_scan

needs_two_cores = pytest.mark.skipif(os.name != "posix" or (os.cpu_count() or 1) < 2,
                                     reason="the child is started only with a second core, on POSIX")


def write_corpus(root: Path, docs: int = 40) -> Path:
    root.mkdir(parents=True)
    for n in range(docs):
        related = "".join(f'  - title: "Follow-up {n}.{k}"\n    webUrl: "https://other.example/{n}/{k}"\n'
                          for k in range(2))
        (root / f"doc-{n:03d}.md").write_text(
            f'---\ntitle: "Story {n}"\noriginalUrl: "https://news.example/{n}"\nrelated:\n{related}---\nText {n}.\n',
            encoding="utf-8")
    (root / "orphan.md").write_text('---\ntitle: "Follow-up 3.1"\n---\nNo URL of its own.\n', encoding="utf-8")
    (root / "binary.txt").write_bytes(b"\x00\x01\x02")
    return root


def summary(result: ScanResult) -> dict[str, Any]:
    return {"root": result.root, "documents": list(result.documents), "urls": list(result.urls),
            "problems": list(result.problems), "statistics": result.statistics(),
            "snapshots": result.snapshots("https://other.example/3/1")}


@needs_two_cores
def test_the_child_scans_what_a_scan_here_finds(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    collection = tmp_path / "collection"
    with start_scan([str(corpus), "https://cli.example/x"], collection) as pending:
        assert pending.process is not None            # a folder and two cores: the child scans
        found = pending.result()
        assert pending.by_child
    with found, scan([str(corpus), "https://cli.example/x"]) as here:
        assert summary(found) == summary(here)
        assert [d.id for d in found.snapshots("https://other.example/3/1")] == ["orphan.md"]  # linked by title
    assert not (collection / SCAN_DIR).exists()       # the store's file went when it was opened


def test_files_and_urls_alone_are_scanned_here(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", docs=2)
    args = [str(corpus / "doc-000.md"), "https://cli.example/x"]
    with start_scan(args, tmp_path / "collection") as pending:
        assert pending.process is None
        with pending.result() as found, scan(args) as here:
            assert summary(found) == summary(here)


def test_a_missing_path_is_a_usage_error_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no-such: no such file or folder"):
        start_scan([str(tmp_path / "no-such")], tmp_path / "collection")
    assert not (tmp_path / "collection").exists()


@needs_two_cores
def test_a_failed_child_means_a_scan_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_process, "_BOOT", "import sys; sys.exit(3)")
    corpus = write_corpus(tmp_path / "corpus", docs=3)
    with start_scan([str(corpus)], tmp_path / "collection") as pending:
        assert pending.process is not None
        with pending.result() as found, scan([str(corpus)]) as here:
            assert not pending.by_child and summary(found) == summary(here)
    assert not (tmp_path / "collection" / SCAN_DIR).exists()


@needs_two_cores
def test_leaving_early_stops_the_child_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan_process, "_BOOT", "import time; time.sleep(60)")
    corpus = write_corpus(tmp_path / "corpus", docs=1)
    with pytest.raises(KeyboardInterrupt), start_scan([str(corpus)], tmp_path / "collection") as pending:
        process = pending.process
        assert process is not None
        raise KeyboardInterrupt
    assert process.returncode is not None             # killed and reaped, not left running
    assert not (tmp_path / "collection" / SCAN_DIR).exists()


def test_a_killed_runs_file_is_removed_by_the_next(tmp_path: Path) -> None:
    left = tmp_path / SCAN_DIR / "scan-abc.sqlite"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"half a database")
    remove_stale(tmp_path)
    assert not left.parent.exists()
    remove_stale(tmp_path)                             # nothing there: no error
