"""Reports in the collection folder: ``report.jsonl`` for scripts, ``report.html`` for people.

Both are written whole to a temporary file and renamed into place, so a reader
(or a Ctrl-C) never sees half a report. A *partial* report (the run was
interrupted) is marked as such in both files; URLs not fetched yet have the
verdict ``pending``. A run writes its records as it judges each URL
(:mod:`archive.report_spool`) and assembles both files at the end: URLs are
listed in corpus order, whatever order they were fetched in.

``report.jsonl``: one JSON object per line, UTF-8. The field names are stable:
new fields may be added, none renamed or removed. Every field is always present
(``null`` when it does not apply). Scores are rounded to 4 decimals.

The first line, ``"record": "run"``:

- ``record``: ``"run"``; ``generated``: ISO 8601 time the report was written;
  ``partial``: true when the run was interrupted;
- ``urls``, ``documents``: how many of each follow;
- ``url_verdicts``, ``document_verdicts``: ``{verdict: count}``;
- ``attention``: URLs whose verdict needs a person (see ``needs_attention``).

Then one line per cited URL, ``"record": "url"``:

- ``url``, ``verdict``, ``kind`` (``article``, ``image``, ``link``), ``needs_attention`` (bool);
- ``citations``: ``[{"document", "role"}]``; ``documents``: the citing documents;
  ``snapshot``: the stored document whose text was compared (null if none);
- ``outcome``, ``status``, ``final_url``, ``redirects`` (list), ``content_type``, ``detail``;
- ``basis`` (``text``, ``excerpt``, ``title`` or null), ``recall``, ``precision``,
  ``similarity``, ``title_similarity``, ``excerpt_score``;
- ``published_cited``, ``published_found``, ``published_same_day``;
- ``image_type``, ``image_width``, ``image_height``, ``cited_sizes`` (``[[w, h]]``);
- ``content_verdict``: for ``moved``, what the content at the new place got;
- ``paragraphs``: ``{"kept", "changed", "removed", "added", "moved"}`` counts or null;
- ``notes``: short remarks (``"title changed"``, ``"published date differs"`` …).

Then one line per document, ``"record": "document"``:

- ``document``, ``title``, ``verdict``, ``needs_attention``, ``source_url``,
  ``url_verdicts`` (``{verdict: count}`` over its other cited URLs), ``detail``.

>>> from archive.verdicts import Evidence, UrlVerdict, Verdict
>>> v = UrlVerdict("https://example.com/a", Verdict.GONE, "link", (), Evidence(outcome="http_error", status=404))
>>> r = url_record(v)
>>> r["verdict"], r["status"], r["needs_attention"], r["recall"]
('gone', 404, True, None)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from archive.summary import Summary, run_record, summarize
from archive.verdicts import DocumentVerdict, UrlVerdict, Verdict, needs_attention

__all__ = [
    "HTML_NAME",
    "JSONL_NAME",
    "ReportPaths",
    "Summary",
    "document_record",
    "run_record",
    "summarize",
    "url_record",
    "write_reports",
]

JSONL_NAME = "report.jsonl"
HTML_NAME = "report.html"


@dataclass(frozen=True, slots=True)
class ReportPaths:
    jsonl: Path
    html: Path


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def url_record(v: UrlVerdict, previous: Verdict | None = None) -> dict[str, Any]:
    e = v.evidence
    pub, img = e.published, e.image
    return {
        "record": "url",
        "url": v.url,
        "verdict": str(v.verdict),
        "kind": v.kind,
        "needs_attention": needs_attention(v.verdict, previous),
        "citations": [{"document": c.document, "role": c.role} for c in v.citations],
        "documents": list(v.documents),
        "snapshot": v.snapshot,
        "outcome": e.outcome,
        "status": e.status,
        "final_url": e.final_url,
        "redirects": list(e.redirects),
        "content_type": e.content_type,
        "detail": e.detail,
        "basis": e.basis,
        "recall": _round(e.recall),
        "precision": _round(e.precision),
        "similarity": _round(e.similarity),
        "title_similarity": _round(e.title_similarity),
        "excerpt_score": _round(e.excerpt_score),
        "published_cited": pub.cited if pub else None,
        "published_found": pub.found if pub else None,
        "published_same_day": pub.same_day if pub else None,
        "image_type": img.content_type if img else None,
        "image_width": img.width if img else None,
        "image_height": img.height if img else None,
        "cited_sizes": [list(s) for s in e.cited_sizes],
        "content_verdict": str(e.content_verdict) if e.content_verdict else None,
        "paragraphs": v.comparison.counts() if v.comparison is not None else None,
        "notes": list(e.notes),
    }


def document_record(d: DocumentVerdict) -> dict[str, Any]:
    return {
        "record": "document",
        "document": d.document,
        "title": d.title,
        "verdict": str(d.verdict),
        "needs_attention": needs_attention(d.verdict),
        "source_url": d.source_url,
        "url_verdicts": dict(d.url_counts),
        "detail": d.detail,
    }


def write_reports(folder: str | os.PathLike[str], urls: Sequence[UrlVerdict], documents: Sequence[DocumentVerdict],
                  *, generated: datetime, partial: bool = False,
                  previous: Mapping[str, Verdict] | None = None) -> tuple[ReportPaths, Summary]:
    """Write ``report.jsonl`` and ``report.html`` into ``folder`` (created if needed), each atomically.

    ``previous`` maps URLs to last run's verdicts, so ``needs_attention`` flags only news.
    For verdicts in memory (tests, small reports); a run uses :class:`archive.report_spool.ReportSpool`
    directly, adding each URL as it is judged.
    """
    from archive.report_spool import ReportSpool  # the spool module imports this one

    with ReportSpool(folder, (v.url for v in urls), previous=previous) as spool:
        for v in urls:
            spool.add_url(v)
        for d in documents:
            spool.add_document(d)
        return spool.finish(generated=generated, partial=partial)
