"""Shared fixtures. Tests never touch the internet: loopback, respx, MockTransport or recorded WARCs."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# ../shared/data beside a checkout; worktrees sit deeper (wt/NAME), so the nearest ancestor's counts
SHARED_DATA = next((p / "shared" / "data" for p in REPO.parents if (p / "shared" / "data").is_dir()),
                   REPO.parent / "shared" / "data")


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` when present; the test is skipped otherwise (fresh clones need not have it)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA
