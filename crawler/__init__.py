"""citecrawl's crawler: everything until bytes are on disk.

Corpus scanning, URLs, robots.txt, politeness, fetching, the state store, run
orchestration and the ``citecrawl`` command line live here. What happens to
stored bytes (WARC records, indexes, replay, extraction, comparison, reports)
lives in the sibling package :mod:`archive`, which never imports this one.
"""

import os
import sys
import types
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "child_command"]

#: the folder holding this ``crawler`` package
_TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child_command(code: str, *args: str) -> list[str]:
    """The command of a child process (a judging process, a run's scan) that runs ``code`` with this
    same ``crawler`` package, its folder first on ``sys.path``; ``args`` are its ``sys.argv[1:]``."""
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {_TOP!r}); {code}", *args]


def _without_httpx_cli() -> None:
    """Keep ``import httpx`` from importing httpx's command-line client, which citecrawl never runs.

    httpx imports ``httpx._main`` whenever click is installed (often: FastWARC, one of our test
    tools, needs it), and with it click, pygments and rich's console, progress, syntax and table
    modules: ~50 ms of every run's start, in the process whose start-up delays the first request.
    A stand-in takes the module's name before httpx is imported; its ``main`` loads the real
    client, should anything call ``httpx.main``. (Without click, httpx's own import of it fails
    at once and leaves the same ``main`` telling how to install the CLI.)
    """
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    stand_in = types.ModuleType("httpx._main", "citecrawl's stand-in: httpx's CLI, loaded when called")

    def main(*args: Any, **kwargs: Any) -> Any:
        if sys.modules.get("httpx._main") is stand_in:
            del sys.modules["httpx._main"]
        from httpx._main import main as real

        return real(*args, **kwargs)

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stand_in


_without_httpx_cli()
