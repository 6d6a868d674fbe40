"""pywb indexes and replays our output (optional: needs a Python with pywb, see scripts/check_pywb.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYWB_PYTHON = Path(os.environ.get("CITECRAWL_PYWB_PYTHON", "/work/venv-warc/bin/python"))


def _has_pywb() -> bool:
    if not PYWB_PYTHON.exists():
        return False
    return subprocess.run([str(PYWB_PYTHON), "-c", "import pywb, cdxj_indexer, surt"], capture_output=True).returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _has_pywb(), reason="no Python with pywb (set CITECRAWL_PYWB_PYTHON)")
def test_pywb_indexes_and_replays_our_warc() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "check_pywb.py"), "--pywb-python", str(PYWB_PYTHON)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ok   pywb replays http://example.com/gzip" in proc.stdout
