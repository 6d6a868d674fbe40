"""One URL judged: its snapshot read again from the corpus, the final body examined, the verdict.

Pure but for reading the corpus file of a snapshot. A run judges in processes of its own
(:mod:`crawler.judge_pool`) that run :func:`serve` from here, not from :mod:`crawler.pipeline`:
a judging process imports this module and what judging needs, never trio, httpx or the WARC
writer (about 0.3 s of CPU less for each process).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from archive.verdicts import UrlVerdict, judge_url
from crawler.config import Config
from crawler.corpus import CitedUrl, load_document
from crawler.evaluate import BodyFindings, examine_body, kind_of, snapshot_of, url_input
from crawler.frames import encode_frame, read_frame
from crawler.outcomes import FetchResult, Outcome
from crawler.scanned import Document

__all__ = ["judge_one", "preload", "serve"]


def _load_body(root: str | None, doc: Document) -> str | None:
    parsed = load_document(Path(root) / doc.id if root else doc.path, root=root)
    return parsed.document.body if parsed.document else None


def _no_body(doc: Document) -> None:
    return None


def judge_one(config: Config, root: str | None, cited: CitedUrl, docs: Sequence[Document],
              result: FetchResult | None, *, examine: bool = True) -> UrlVerdict:
    """One URL's verdict: its snapshot (read again from the corpus), the body examined, compared.

    ``examine=False`` (a capture-only run): the body is not read and no snapshot text is
    loaded; the verdict comes from the fetch outcome alone.
    """
    has_body = examine and result is not None and bool(result.hops) and result.outcome == Outcome.OK
    # the stored text is read from disk only when there is a page to compare it with
    snapshot = snapshot_of(docs, (lambda doc: _load_body(root, doc)) if has_body else _no_body) if docs else None
    findings: BodyFindings | None = None
    if result is not None and has_body:
        kind = kind_of(cited, snapshot is not None)
        findings = examine_body(result.hops[-1], kind=kind, max_decompressed=config.extract.max_decompressed_bytes)
    return judge_url(url_input(cited, result, findings, snapshot, examined=examine), config.compare,
                     min_article_chars=config.extract.min_article_chars)


# -- a judging process ------------------------------------------------------------------------------

def preload() -> None:
    """Import what reading pages needs: extraction, comparison, the snapshot parser.

    :mod:`crawler.evaluate`, :mod:`archive.verdicts` and :mod:`crawler.corpus` import them where
    they are used, so a run's crawling process, which hands pages to judging processes (or only
    captures), never loads them (~0.15 s of its start). A judging process loads them before its
    first job, while the run starts.
    """
    import archive.compare
    import archive.extract  # noqa: F401
    import crawler.documents  # noqa: F401


def serve() -> None:
    """A judging process: frames in on stdin, frames out on stdout, until stdin ends.

    The first frame is ``(config, root)``; each next one a job ``(id, cited, docs, result)``,
    answered by ``(id, True, verdict)``, or ``(id, False, traceback)`` when judging raised.
    Anything printed goes to stderr: stdout carries frames only. (SIGINT is ignored by the
    boot code, before any import: :mod:`crawler.judge_pool`.)
    """
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    preload()
    inp = sys.stdin.buffer
    config, root = read_frame(inp)
    while True:
        try:
            job, cited, docs, result = read_frame(inp)
        except EOFError:
            return
        reply: tuple[int, bool, UrlVerdict | str]
        try:
            reply = (job, True, judge_one(config, root, cited, docs, result))
        except Exception:
            reply = (job, False, traceback.format_exc())
        out.write(encode_frame(reply))
        out.flush()
