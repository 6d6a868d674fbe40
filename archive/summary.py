"""The counts at the top of every report: per verdict, for URLs and documents, and what needs a person."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archive.verdicts import DocumentVerdict, UrlVerdict, Verdict, needs_attention

__all__ = ["Summary", "run_record", "summarize"]


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts for the top of the reports and the terminal."""

    generated: datetime
    partial: bool
    url_verdicts: Mapping[str, int]
    document_verdicts: Mapping[str, int]
    urls: int
    documents: int
    attention: int


def _ordered_counts(values: Iterable[str]) -> dict[str, int]:
    """Counts in the order verdicts are declared (the order a person reads them in)."""
    counts = Counter(values)
    return {str(v): counts[v] for v in Verdict if counts[v]}


def summarize(urls: Sequence[UrlVerdict], documents: Sequence[DocumentVerdict], *, generated: datetime,
              partial: bool = False, previous: Mapping[str, Verdict] | None = None) -> Summary:
    prev = previous or {}
    return Summary(
        generated=generated,
        partial=partial,
        url_verdicts=_ordered_counts(v.verdict for v in urls),
        document_verdicts=_ordered_counts(d.verdict for d in documents),
        urls=len(urls),
        documents=len(documents),
        attention=sum(needs_attention(v.verdict, prev.get(v.url)) for v in urls),
    )


def run_record(summary: Summary) -> dict[str, Any]:
    """The first line of ``report.jsonl`` (fields in :mod:`archive.report`)."""
    return {
        "record": "run",
        "generated": summary.generated.isoformat(),
        "partial": summary.partial,
        "urls": summary.urls,
        "documents": summary.documents,
        "url_verdicts": dict(summary.url_verdicts),
        "document_verdicts": dict(summary.document_verdicts),
        "attention": summary.attention,
    }
