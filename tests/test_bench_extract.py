"""scripts/bench_extract.py stays runnable and scores as documented, on two hand-written pages."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TEXT = ("The council voted on Tuesday to approve the new budget, which raises spending on schools, "
        "roads and public transport by a combined four percent over last year.")


def _folder(tmp_path: Path) -> Path:
    """A scrapinghub-layout folder: one page whose truth matches, one whose truth does not."""
    (tmp_path / "html").mkdir()
    truth = {"a": {"articleBody": TEXT, "url": "https://x.example/a"},
             "b": {"articleBody": "Completely different words that the page never says at all.", "url": None}}
    for key in truth:
        html = f"<html><body><article><p>{TEXT}</p><p>{TEXT} Again.</p></article></body></html>"
        (tmp_path / "html" / f"{key}.html.gz").write_bytes(gzip.compress(html.encode()))
    (tmp_path / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    return tmp_path


def test_bench_extract_scores_and_compares(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_extract.py"), str(_folder(tmp_path)),
                           "--compare", "trafilatura", "--worst", "1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert ": 2 pages" in proc.stdout
    line = next(x for x in proc.stdout.splitlines() if x.startswith("citecrawl"))
    # page a: all truth found plus one extra copy (recall 1); page b: nothing right
    assert "recall=0.5000" in line
    assert "  b " in proc.stdout  # the worst page is listed
    if "trafilatura  not installed" not in proc.stdout:
        assert "speed ratio:" in proc.stdout
