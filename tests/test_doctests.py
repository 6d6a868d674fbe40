"""The doctests of the comparison and report modules are examples people read: keep them true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["archive.textnorm", "archive.align", "archive.dates", "archive.compare", "archive.images",
           "archive.redirects", "archive.verdicts", "archive.report", "archive.report_html", "archive.report_terminal",
           "crawler.errors", "crawler.addresses"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0, f"{name} has no doctests"
