"""scripts/bench_state.py stays runnable: a tiny run of it (the real figures use 100,000 URLs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_bench_state_small() -> None:
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "bench_state.py"), "--urls", "300"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "record: 300 captures, one transaction each" in proc.stdout
    assert "due_urls no-op (an hour later): 0 due" in proc.stdout
    assert "due_urls a week later: 90 due" in proc.stdout  # the 3 article roles of 10; links wait 30 days, images forever
