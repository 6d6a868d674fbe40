"""citecrawl's crawler: everything until bytes are on disk.

Corpus scanning, URLs, robots.txt, politeness, fetching, the state store, run
orchestration and the ``citecrawl`` command line live here. What happens to
stored bytes (WARC records, indexes, replay, extraction, comparison, reports)
lives in the sibling package :mod:`archive`, which never imports this one.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
