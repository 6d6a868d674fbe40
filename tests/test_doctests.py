"""Every doctest in the packages runs: they are examples people read, so they must stay true.

Modules are found, not listed, so a new module's examples are tested without anyone
remembering to add it here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import archive
import crawler

MODULES = sorted(
    info.name
    for package in (crawler, archive)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}.")
    if ">>> " in Path(importlib.util.find_spec(info.name).origin or "").read_text(encoding="utf-8")  # type: ignore[union-attr]
)


def test_modules_with_examples_are_found() -> None:
    assert {"archive.content", "archive.charset", "crawler.config", "crawler.urls"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no doctests"
