"""``citecrawl scan``: tables, JSON lines, exit codes and help."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from crawler import exitcodes
from crawler.cli import build_parser, main

REPO = Path(__file__).resolve().parent.parent
SEEDS = next((p for p in (REPO.parent / "shared" / "seeds", REPO.parent.parent / "shared" / "seeds") if p.is_dir()),
             REPO.parent / "shared" / "seeds")

DOC = """\
---
title: "[bold]Night ferry[/bold] returns"
originalUrl: "https://news.example.org/ferry"
images:
  - url: "https://img.example.org/ferry.jpg"
    width: 800
    height: 600
---
"""


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "a.txt").write_text(DOC, encoding="utf-8")
    (root / "b.txt").write_text("Lonely note\nmentions example.org only", encoding="utf-8")
    (root / "c.txt").write_bytes(b"\x00\x01binary")
    return root


def run_jsonl(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["scan", "--jsonl", *args]) == exitcodes.OK
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_jsonl_records_and_stable_field_names(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    records = run_jsonl(capsys, str(corpus))
    assert [r["type"] for r in records] == ["document", "document", "url", "url", "problem", "problem"]
    doc = records[0]
    assert list(doc) == ["type", "id", "path", "shape", "title", "excerpt", "published", "content_hash", "encoding",
                         "size", "urls", "snapshot_url", "snapshot_via"]
    assert (doc["id"], doc["shape"], doc["snapshot_via"]) == ("a.txt", "front-matter", "originalUrl")
    image = records[3]
    assert image == {
        "type": "url", "url": "https://img.example.org/ferry.jpg", "roles": ["images[0].url"], "documents": ["a.txt"],
        "citations": [{"document": "a.txt", "role": "images[0].url", "title": None, "excerpt": None,
                       "published": None, "width": 800, "height": 600}],
    }
    assert [(r["path"], r["kind"]) for r in records if r["type"] == "problem"] == [("c.txt", "binary"),
                                                                                    ("b.txt", "no-cited-url")]
    assert all(set(r) == {"type", "path", "kind", "message"} for r in records if r["type"] == "problem")


def test_url_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    records = run_jsonl(capsys, "https://Example.org/page", "javascript:alert(1)")
    assert records[0]["url"] == "https://example.org/page"
    assert records[0]["documents"] == ["<command line>"] and records[0]["roles"] == ["argument"]
    assert records[1]["kind"] == "skipped-url"


def test_tables(corpus: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["scan", str(corpus)]) == exitcodes.OK
    out = capsys.readouterr().out
    assert "[bold]Night ferry[/bold] returns" in out  # data is never read as rich markup
    assert "https://img.example.org/ferry.jpg" in out and "images[0].url" in out
    assert "binary" in out and "no-cited-url" in out
    assert "2 documents, 2 distinct URLs, 2 citations, 0 linked by title, 2 problems" in out


def test_tables_stop_at_a_row_limit_unless_all(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    for i in range(103):
        (tmp_path / f"d{i:03}.txt").write_text(f"Title {i}\nhttps://example.org/{i}", encoding="utf-8")
    main(["scan", str(tmp_path)])
    out = capsys.readouterr().out
    assert "… 3 more rows" in out and "d102.txt" not in out
    main(["scan", "--all", str(tmp_path)])
    out = capsys.readouterr().out
    assert "more rows" not in out and "d102.txt" in out


def test_missing_path_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "nope")]) == exitcodes.USAGE
    assert "no such file or folder" in capsys.readouterr().err


def test_paths_from_the_configuration(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[corpus]\npaths = ["corpus"]\n', encoding="utf-8")
    records = run_jsonl(capsys, "--config", str(config))
    assert [r["id"] for r in records if r["type"] == "document"] == ["a.txt", "b.txt"]
    config.write_text("[corpus]\npaths = []\n", encoding="utf-8")
    assert main(["scan", "--config", str(config)]) == exitcodes.USAGE
    assert "[corpus] paths is empty" in capsys.readouterr().err


def test_default_configuration_scans_the_example_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    records = run_jsonl(capsys)
    assert sum(r["type"] == "document" for r in records) >= 5


def test_help_teaches_with_examples() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    text = sub.choices["scan"].format_help()  # type: ignore[attr-defined]
    assert "examples:" in text and "citecrawl scan config/example-corpus" in text and "--jsonl" in text


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside this checkout")
def test_seeds_yield_exactly_twelve_urls(capsys: pytest.CaptureFixture[str]) -> None:
    records = run_jsonl(capsys, str(SEEDS))
    urls = [r for r in records if r["type"] == "url"]
    assert len(urls) == len({r["url"] for r in urls}) == 12
    assert sum(r["documents"] == [d] for r in urls for d in ("000_84d5f626eac1d92b.txt",)) == 6
    linked = next(r for r in records if r["type"] == "document" and r["id"].startswith("001"))
    assert (linked["snapshot_url"], linked["snapshot_via"]) == ("https://www.globaltimes.cn/page/202201/1246734.shtml",
                                                                "title")
    missing = sorted(r["path"][:3] for r in records if r["type"] == "problem" and r["kind"] == "no-cited-url")
    assert missing == ["002", "004"]
