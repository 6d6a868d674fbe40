"""The few lines a person sees when a run ends: counts per verdict and where the full report is.

On a terminal, a rich table; otherwise (cron mail, a pipe, a log file) plain
lines that grep and read well::

    citecrawl: 12 URLs in 4 documents; 2 need a person
    citecrawl: urls: unchanged 5, minor_changes 2, gone 1, ...
    citecrawl: documents: unchanged 3, no_source 1
    citecrawl: report: collection/report.html (collection/report.jsonl)
"""

from __future__ import annotations

import sys
from typing import TextIO

from rich import box
from rich.console import Console
from rich.style import Style
from rich.table import Table
from rich.text import Text

from archive.report import ReportPaths
from archive.summary import Summary

__all__ = ["plain_summary", "print_summary"]

_STYLE = {"unchanged": "green", "image_ok": "green", "fetched": "green", "minor_changes": "yellow",
          "major_changes": "red", "different_page": "red", "moved": "red", "gone": "red",
          "image_changed": "red", "not_an_image": "red"}


def plain_summary(summary: Summary, paths: ReportPaths | None = None) -> list[str]:
    """The summary as plain lines (no colour, no table).

    >>> from datetime import datetime, timezone
    >>> s = Summary(datetime(2022, 1, 1, tzinfo=timezone.utc), True, {"unchanged": 2, "gone": 1}, {"unchanged": 1}, 3, 1, 1)
    >>> print("\\n".join(plain_summary(s)))
    citecrawl: PARTIAL report (interrupted): 3 URLs in 1 documents; 1 need a person
    citecrawl: urls: unchanged 2, gone 1
    citecrawl: documents: unchanged 1
    """
    head = "PARTIAL report (interrupted): " if summary.partial else ""
    lines = [f"citecrawl: {head}{summary.urls} URLs in {summary.documents} documents; "
             f"{summary.attention} need a person",
             "citecrawl: urls: " + (", ".join(f"{v} {n}" for v, n in summary.url_verdicts.items()) or "none"),
             "citecrawl: documents: " + (", ".join(f"{v} {n}" for v, n in summary.document_verdicts.items())
                                         or "none")]
    if paths is not None:
        lines.append(f"citecrawl: report: {paths.html} ({paths.jsonl})")
    return lines


def print_summary(summary: Summary, paths: ReportPaths | None = None, *, file: TextIO | None = None,
                  console: Console | None = None) -> None:
    """Print the summary: a rich table on a terminal, :func:`plain_summary` lines otherwise."""
    out = file if file is not None else sys.stdout
    con = console if console is not None else Console(file=out, highlight=False)
    if not con.is_terminal:
        for line in plain_summary(summary, paths):
            print(line, file=con.file)
        return
    title = "citecrawl" + (" — PARTIAL (interrupted)" if summary.partial else "")
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_footer=True)
    table.add_column("verdict", footer="total")
    table.add_column("URLs", justify="right", footer=str(summary.urls))
    table.add_column("documents", justify="right", footer=str(summary.documents))
    for verdict in dict.fromkeys([*summary.url_verdicts, *summary.document_verdicts]):
        style = _STYLE.get(verdict, "")
        table.add_row(verdict.replace("_", " "), str(summary.url_verdicts.get(verdict, "")),
                      str(summary.document_verdicts.get(verdict, "")), style=style)
    con.print(table)
    need = "[bold red]" if summary.attention else "[green]"
    con.print(f"{need}{summary.attention}[/] need a person.")
    if paths is not None:
        con.print(Text.assemble("Report: ", (str(paths.html), Style(link=paths.html.resolve().as_uri())),
                                f"  (data: {paths.jsonl})"))
