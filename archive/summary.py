"""The counts at the top of every report: per verdict, for URLs and documents, and what needs a person."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archive.verdicts import DocumentVerdict, UrlVerdict, Verdict, needs_attention

__all__ = ["Summary", "Tally", "run_record", "summarize"]


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


def _ordered(counts: Counter[str]) -> dict[str, int]:
    """Counts in the order verdicts are declared (the order a person reads them in)."""
    return {str(v): counts[v] for v in Verdict if counts[v]}


class Tally:
    """The counts of a report written as it goes: verdicts are added one at a time and forgotten.

    A run of 100,000 URLs keeps these few numbers, not the verdicts, until the
    summary is written at the top of the report.
    """

    def __init__(self) -> None:
        self._urls: Counter[str] = Counter()
        self._documents: Counter[str] = Counter()
        self._attention = 0

    def add_url(self, verdict: Verdict, *, attention: bool) -> None:
        self._urls[verdict] += 1
        self._attention += attention

    def add_document(self, verdict: Verdict) -> None:
        self._documents[verdict] += 1

    def summary(self, *, generated: datetime, partial: bool = False) -> Summary:
        return Summary(generated=generated, partial=partial, url_verdicts=_ordered(self._urls),
                       document_verdicts=_ordered(self._documents), urls=self._urls.total(),
                       documents=self._documents.total(), attention=self._attention)


def summarize(urls: Sequence[UrlVerdict], documents: Sequence[DocumentVerdict], *, generated: datetime,
              partial: bool = False, previous: Mapping[str, Verdict] | None = None) -> Summary:
    prev = previous or {}
    tally = Tally()
    for v in urls:
        tally.add_url(v.verdict, attention=needs_attention(v.verdict, prev.get(v.url)))
    for d in documents:
        tally.add_document(d.verdict)
    return tally.summary(generated=generated, partial=partial)


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
