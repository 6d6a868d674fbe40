"""citecrawl's crawler: everything until bytes are on disk.

Corpus scanning, URLs, robots.txt, politeness, fetching, the state store, run
orchestration and the ``citecrawl`` command line live here. What happens to
stored bytes (WARC records, indexes, replay, extraction, comparison, reports)
lives in the sibling package :mod:`archive`, which never imports this one.
"""

import os
import sys

__version__ = "0.1.0"

__all__ = ["__version__", "child_command"]

#: the folder holding this ``crawler`` package
_TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child_command(code: str, *args: str) -> list[str]:
    """The command of a child process (a judging process, a run's scan) that runs ``code`` with this
    same ``crawler`` package, its folder first on ``sys.path``; ``args`` are its ``sys.argv[1:]``."""
    return [sys.executable, "-c", f"import sys; sys.path.insert(0, {_TOP!r}); {code}", *args]
