"""Reports written as a run goes: each URL's records are spooled to disk when it is judged.

A run over 100,000 URLs must not hold 100,000 verdicts (with their evidence and
paragraph alignments) until the end. As each URL is judged,
:meth:`ReportSpool.add_url` appends its ``report.jsonl`` line, its ``report.html``
row and, for a changed article, its diff section to one spool file in a folder of
its own under ``<collection>/.report-tmp/``; in memory it keeps only the URL's
place in the corpus, its verdict (one byte), a few counts
(:class:`~archive.summary.Tally`) and where the bytes are (20 bytes a URL). Documents are rolled up at the end and spooled in order the same
way. :meth:`ReportSpool.finish` then writes both reports, each to a temporary file
renamed into place (a failure half-way leaves the old report), reading the spool
back in corpus order: the summary at the top needs only the counts, known by then.
The spool folder is removed whatever happens (:meth:`ReportSpool.close`).

The spool is made with the report's URLs in corpus order, so a report lists them
in that order whatever order they were judged in, and the diff anchors
(``#diff-N``) are the same as those of :func:`archive.report_html.iter_html`.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, runtime_checkable

from archive.report import HTML_NAME, JSONL_NAME, ReportPaths, document_record, url_record
from archive.report_html import (
    CHANGED_HEADING,
    NO_CHANGE,
    diff_section,
    doc_row,
    html_documents_head,
    html_head,
    html_tail,
    url_row,
)
from archive.summary import Summary, Tally, run_record
from archive.verdicts import DocumentVerdict, UrlVerdict, Verdict, needs_attention

__all__ = [
    "SPOOL_DIR",
    "ListedUrls",
    "ReportSpool",
    "SpoolStatistics",
    "SpooledVerdicts",
    "UrlIndex",
    "remove_stale_spools",
    "write_atomic",
]

#: the folder, inside the collection, that holds the spools of runs in progress
SPOOL_DIR = ".report-tmp"


def remove_stale_spools(folder: str | os.PathLike[str]) -> int:
    """Delete the spools a killed run left in ``folder`` (call it only while holding the collection's lock).

    Returns how many were removed. A spool is scratch: the reports it was for were never
    written, and the run's WARC records and state are complete without it.
    """
    root = Path(folder) / SPOOL_DIR
    if not root.is_dir():
        return 0
    removed = 0
    for d in root.glob("run-*"):
        shutil.rmtree(d, ignore_errors=True)
        removed += 1
    try:
        root.rmdir()
    except OSError:
        pass
    return removed
_CHUNK = 1 << 16


_VERDICTS = tuple(Verdict)
_CODE = {v: n for n, v in enumerate(_VERDICTS)}


@runtime_checkable
class UrlIndex(Protocol):
    """A report's URLs in report order: how many, each one's place, and all of them in order."""

    def __len__(self) -> int: ...
    def position(self, url: str) -> int | None: ...
    def positions(self, urls: Iterable[str]) -> dict[str, int]: ...
    def __iter__(self) -> Iterator[str]: ...


class ListedUrls:
    """A :class:`UrlIndex` over URLs given as a list (a dict from URL to place, in memory)."""

    def __init__(self, urls: Iterable[str]) -> None:
        self._position: dict[str, int] = {}
        for url in urls:
            if url in self._position:
                raise ValueError(f"{url}: listed twice in one report")
            self._position[url] = len(self._position)

    def __len__(self) -> int:
        return len(self._position)

    def position(self, url: str) -> int | None:
        return self._position.get(url)

    def positions(self, urls: Iterable[str]) -> dict[str, int]:
        return {url: self._position[url] for url in urls if url in self._position}

    def __iter__(self) -> Iterator[str]:
        return iter(self._position)


class SpooledVerdicts(Mapping[str, Verdict]):
    """URL -> verdict of the URLs spooled so far, in report order: a byte a URL beside the URL's place.

    ``urls`` is the report's URLs, a plain iterable (kept as a :class:`ListedUrls`) or a
    :class:`UrlIndex` that looks places up elsewhere (a run's URLs live in the scan's database,
    so the run holds no URL strings for them).
    """

    def __init__(self, urls: Iterable[str] | UrlIndex) -> None:
        self._index: UrlIndex = urls if isinstance(urls, UrlIndex) else ListedUrls(urls)
        #: how many URLs the report has (``len()`` is how many are spooled)
        self.size = len(self._index)
        self._codes = array("b", [-1]) * self.size
        self._count = 0

    def position(self, url: str) -> int | None:
        """``url``'s place in the report, ``None`` when it is not one of the report's URLs."""
        return self._index.position(url)

    def of(self, urls: Iterable[str]) -> dict[str, Verdict]:
        """The verdicts of those of ``urls`` spooled so far, their places looked up together
        (a document's roll-up asks for a dozen URLs: one query for a batch of documents)."""
        codes = self._codes
        return {url: _VERDICTS[codes[n]] for url, n in self._index.positions(urls).items() if codes[n] >= 0}

    def missing(self) -> Iterator[str]:
        """The report's URLs not spooled yet, in report order (adding them while iterating is fine)."""
        codes = self._codes
        return (url for n, url in enumerate(self._index) if codes[n] < 0)

    def _set(self, position: int, verdict: Verdict) -> None:
        self._codes[position] = _CODE[verdict]
        self._count += 1

    def __getitem__(self, url: str) -> Verdict:
        n = self._index.position(url)
        if n is None or self._codes[n] < 0:
            raise KeyError(url)
        return _VERDICTS[self._codes[n]]

    def __iter__(self) -> Iterator[str]:
        codes = self._codes
        return (url for n, url in enumerate(self._index) if codes[n] >= 0)

    def __len__(self) -> int:
        return self._count


@dataclass(frozen=True, slots=True)
class SpoolStatistics:
    urls: int               # URL records spooled so far
    expected: int           # URL records the report will have
    documents: int
    spooled_bytes: int      # on disk, URLs and documents together


def write_atomic(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to a temporary file beside ``path``, fsync, then rename it into place."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.writelines(chunks)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)                         # mkstemp makes 0600; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _spool_dir(root: Path) -> Path:
    """A new folder of this run's own in ``root`` (which another run finishing may remove meanwhile)."""
    for _ in range(3):
        root.mkdir(exist_ok=True)
        try:
            return Path(tempfile.mkdtemp(dir=root, prefix="run-"))
        except FileNotFoundError:
            continue
    return Path(tempfile.mkdtemp(dir=root, prefix="run-"))


#: one encoder for every record (``json.dumps`` with options builds a new one per call: a quarter of its time)
_JSON = json.JSONEncoder(ensure_ascii=False)


def _dumps(record: Mapping[str, object]) -> bytes:
    return (_JSON.encode(record) + "\n").encode("utf-8")


class ReportSpool:
    """Spool for one report in ``folder`` of ``urls`` (in report order); use as a context manager.

    ``previous`` maps URLs to last run's verdicts, so ``needs_attention`` flags only news.
    """

    def __init__(self, folder: str | os.PathLike[str], urls: Iterable[str] | UrlIndex, *,
                 previous: Mapping[str, Verdict] | None = None) -> None:
        #: URL -> verdict, for every URL spooled (all a run keeps of them)
        self.verdicts = SpooledVerdicts(urls)
        size = self.verdicts.size
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._dir = _spool_dir(self.folder / SPOOL_DIR)
        self._previous = previous or {}
        self._size = size
        self._files: list[BinaryIO] = []
        try:
            self._urls, self._docs_jsonl, self._docs_html = (
                self._open(name) for name in ("urls.spool", "documents.jsonl", "documents.html"))
        except BaseException:
            self.close()
            raise
        self._end = 0
        self._offsets = array("q", [-1]) * size        # where URL ``index``'s records start, -1: none yet
        self._lengths = array("I", [0]) * (3 * size)   # jsonl line, HTML row, diff section
        self._tally = Tally()
        self._documents = 0

    def __enter__(self) -> ReportSpool:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def expects(self, url: str) -> bool:
        """True when ``url`` is one of the report's URLs and not spooled yet."""
        index = self.verdicts.position(url)
        return index is not None and self.expects_at(index)

    def add_if_expected(self, verdict: UrlVerdict) -> bool:
        """Spool ``verdict`` if its URL is one of the report's and not spooled yet; whether it was."""
        return self.add_at_if_expected(self.verdicts.position(verdict.url), verdict)

    def add_at_if_expected(self, index: int | None, verdict: UrlVerdict) -> bool:
        """:meth:`add_if_expected` when the caller knows the URL's place (``None``: not one of the
        report's URLs), looked up with what else it needed of the URL."""
        if index is None or not self.expects_at(index):
            return False
        self._add(index, verdict)
        return True

    def expects_at(self, index: int) -> bool:
        """True when the report's URL at place ``index`` is not spooled yet."""
        return self._offsets[index] < 0

    def add_at(self, index: int, verdict: UrlVerdict) -> None:
        """Spool the records of the report's URL at place ``index``, which the caller knows (it is
        iterating the report's URLs in order): no lookup of the URL's place. Each URL once."""
        if not self.expects_at(index):
            raise ValueError(f"{verdict.url}: already in the report")
        self._add(index, verdict)

    def add_url(self, verdict: UrlVerdict) -> None:
        """Spool the records of one of the report's URLs; each URL once."""
        index = self.verdicts.position(verdict.url)
        if index is None:
            raise KeyError(f"{verdict.url}: not one of the report's URLs")
        self.add_at(index, verdict)

    def _add(self, index: int, verdict: UrlVerdict) -> None:
        attention = needs_attention(verdict.verdict, self._previous.get(verdict.url))
        parts = (_dumps(url_record(verdict, self._previous.get(verdict.url))),
                 url_row(index, verdict, attention=attention).encode("utf-8"),
                 diff_section(index, verdict).encode("utf-8"))
        self._urls.write(b"".join(parts))
        self._offsets[index] = self._end
        for i, part in enumerate(parts):
            self._lengths[3 * index + i] = len(part)
            self._end += len(part)
        self._tally.add_url(verdict.verdict, attention=attention)
        self.verdicts._set(index, verdict.verdict)

    def add_document(self, document: DocumentVerdict) -> None:
        """Spool a document's records; documents are reported in the order they are added."""
        self._docs_jsonl.write(_dumps(document_record(document)))
        self._docs_html.write(doc_row(document).encode("utf-8"))
        self._tally.add_document(document.verdict)
        self._documents += 1

    def statistics(self) -> SpoolStatistics:
        return SpoolStatistics(urls=len(self.verdicts), expected=self._size, documents=self._documents,
                               spooled_bytes=self._end + self._docs_jsonl.tell() + self._docs_html.tell())

    def finish(self, *, generated: datetime, partial: bool = False) -> tuple[ReportPaths, Summary]:
        """Write ``report.jsonl`` and ``report.html``, each atomically; every URL must be spooled."""
        missing = self._size - len(self.verdicts)
        if missing:
            raise ValueError(f"{missing} of {self._size} URLs have no record in the report")
        for f in (self._urls, self._docs_jsonl, self._docs_html):
            f.flush()
        summary = self._tally.summary(generated=generated, partial=partial)
        paths = ReportPaths(self.folder / JSONL_NAME, self.folder / HTML_NAME)
        write_atomic(paths.jsonl, self._jsonl(summary))
        write_atomic(paths.html, self._html(summary))
        return paths, summary

    def close(self) -> None:
        """Close and remove the spool (and ``.report-tmp`` when no other run uses it).

        Never raises: the spool is scratch, and failing to flush it (a full disk) must
        not hide the error that ended the run.
        """
        for f in self._files:
            try:
                f.close()
            except OSError:
                pass
        shutil.rmtree(self._dir, ignore_errors=True)
        try:
            (self.folder / SPOOL_DIR).rmdir()
        except OSError:
            pass                                     # another run's spool is in it

    def _open(self, name: str) -> BinaryIO:
        f = open(self._dir / name, "w+b")  # noqa: SIM115 (closed by close())
        self._files.append(f)
        return f

    def _parts(self, part: int) -> Iterator[bytes]:
        """Part ``part`` (0 jsonl, 1 HTML row, 2 diff) of every URL's records, in corpus order."""
        fd = self._urls.fileno()
        offsets, lengths = self._offsets, self._lengths
        for index in range(self._size):
            length = lengths[3 * index + part]
            if length:
                start = offsets[index] + sum(lengths[3 * index + p] for p in range(part))
                yield os.pread(fd, length, start)

    def _copy(self, f: BinaryIO) -> Iterator[bytes]:
        f.seek(0)
        while chunk := f.read(_CHUNK):
            yield chunk

    def _jsonl(self, summary: Summary) -> Iterator[bytes]:
        yield _dumps(run_record(summary))
        yield from self._parts(0)
        yield from self._copy(self._docs_jsonl)

    def _html(self, summary: Summary) -> Iterator[bytes]:
        yield html_head(summary).encode("utf-8")
        yield from self._parts(1)
        yield html_documents_head(summary).encode("utf-8")
        yield from self._copy(self._docs_html)
        yield CHANGED_HEADING.encode("utf-8")
        any_diff = False
        for section in self._parts(2):
            any_diff = True
            yield section
        if not any_diff:
            yield NO_CHANGE.encode("utf-8")
        yield html_tail(summary).encode("utf-8")
