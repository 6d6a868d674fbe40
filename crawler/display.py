"""What a person sees while a run works: a progress bar on a terminal, log lines otherwise.

Both read the crawler's :meth:`~crawler.crawl.Crawler.statistics` (a frozen
snapshot) on a timer; neither touches the crawl. Output goes to stderr so that
stdout stays clean for ``--json``.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from archive.verdicts import UrlVerdict
    from crawler.crawl import CrawlStatistics

# rich (~40 ms to import) is imported by RichDisplay alone: a quiet run (cron, --quiet, a pipe)
# never draws a bar

__all__ = ["LogDisplay", "QuietDisplay", "RichDisplay", "choose_display"]


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} B"


class RichDisplay:
    """A live progress bar: URLs done of total, queued, hosts waiting, bytes."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.console = Console(file=stream)
        self.progress = Progress(
            TextColumn("[bold]archiving"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), console=self.console, transient=True,
        )
        self.task = self.progress.add_task("urls", total=0, detail="")

    def start(self, total: int) -> None:
        self.progress.update(self.task, total=total)
        self.progress.start()

    def tick(self, stats: CrawlStatistics, done: int) -> None:
        detail = (f"in flight {stats.in_flight} · queued {sum(stats.queued.values())} · hosts waiting {stats.hosts_waiting}"
                  f" · {_size(stats.bytes)}")
        self.progress.update(self.task, completed=done, detail=detail)

    def url_done(self, verdict: UrlVerdict) -> None:
        self.progress.advance(self.task)

    def note(self, message: str) -> None:
        self.progress.console.print(f"[yellow]{message}")

    def stop(self) -> None:
        self.progress.stop()


class LogDisplay:
    """Plain lines for logs and pipes: one per finished URL and a heartbeat every 30 s."""

    def __init__(self, stream: TextIO, *, per_url: bool = True) -> None:
        self.stream, self.per_url = stream, per_url
        self.total = 0
        self._last = 0.0

    def _line(self, text: str) -> None:
        print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {text}", file=self.stream, flush=True)

    def start(self, total: int) -> None:
        self.total = total
        self._last = time.monotonic()
        self._line(f"fetching {total} URLs")

    def tick(self, stats: CrawlStatistics, done: int) -> None:
        if time.monotonic() - self._last >= 30:
            self._last = time.monotonic()
            self._line(f"progress {done}/{self.total} in flight {stats.in_flight} queued {sum(stats.queued.values())} "
                       f"bytes {stats.bytes}")

    def url_done(self, verdict: UrlVerdict) -> None:
        if self.per_url:
            ev = verdict.evidence
            extra = f" {ev.status}" if ev.status else (f" {ev.outcome}" if ev.outcome and ev.outcome != "ok" else "")
            self._line(f"{verdict.verdict}{extra} {verdict.url}")

    def note(self, message: str) -> None:
        self._line(message)

    def stop(self) -> None:
        pass


class QuietDisplay(LogDisplay):
    """Cron: nothing per URL, only notes (stopping, errors)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream, per_url=False)

    def start(self, total: int) -> None:
        self.total = total

    def tick(self, stats: CrawlStatistics, done: int) -> None:
        pass


def choose_display(*, quiet: bool = False, stream: TextIO | None = None) -> RichDisplay | LogDisplay:
    stream = stream or sys.stderr
    if quiet:
        return QuietDisplay(stream)
    if stream.isatty():
        return RichDisplay(stream)
    return LogDisplay(stream)
