"""``citecrawl scan``: what a corpus cites, without fetching anything.

Reads folders, files and URLs (see :mod:`crawler.corpus`) and prints the documents, the cited
URLs with their roles and citing documents, and the problems found, as tables for people or,
with ``--jsonl``, one JSON object per line for scripts. Problems are data: the exit status is 0
whenever the scan completed, and 2 when a PATH does not exist.

JSON lines (field names are stable; new fields may be added, never renamed), in this order:

``{"type": "document", ...}``, one per document:
    ``id`` (path relative to the corpus root, ``/``-separated), ``path`` (absolute), ``shape``
    (``front-matter``, ``front-matter+html``, ``front-matter+text``, ``text``, ``html``),
    ``title``, ``excerpt``, ``published`` (ISO 8601 with offset, or null), ``content_hash``
    (sha256 hex of the file's bytes), ``encoding``, ``size`` (bytes), ``urls`` (canonical URLs
    it cites), ``snapshot_url`` and ``snapshot_via`` (``originalUrl``, ``webUrl``, ``title`` or
    null).
``{"type": "url", ...}``, one per distinct canonical URL:
    ``url``, ``roles`` (distinct, first-cited order), ``documents`` (distinct citing document
    ids; ``<command line>`` for a URL argument), ``citations``: a list of ``{"document",
    "role", "title", "excerpt", "published", "width", "height"}``.
``{"type": "problem", ...}``, one per problem or notice:
    ``path`` (document id or ``<command line>``), ``kind`` (``binary``, ``bad-yaml``,
    ``empty``, ``unreadable``, ``too-large``, ``not-utf8-decoded``, ``bad-date``,
    ``skipped-url``, ``no-cited-url``), ``message``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from crawler import exitcodes
from crawler.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from crawler.corpus import CitedUrl, Document, Problem, ScanResult

# crawler.corpus and rich are imported where they are used: building the parser (every
# `citecrawl` invocation) must not import them.

__all__ = ["DESCRIPTION", "EPILOG", "HELP", "NAME", "add_arguments", "json_records", "run"]

NAME = "scan"
HELP = "list the documents of a corpus and the URLs they cite (nothing is fetched)"
DESCRIPTION = """\
Read a corpus (folders, files, or URLs given directly) and show what it cites:
every document with its shape, title and snapshot URL; every distinct URL with
the roles it is cited in (originalUrl, images[0].url, body.img ...) and the
documents citing it; and every problem (binary files, broken YAML, empty files,
documents that cite nothing). Nothing is fetched. Problems do not change the
exit status: it is 0 when the scan completed, 2 when a PATH does not exist.
"""
EPILOG = """\
examples:
  citecrawl scan config/example-corpus
        tables of documents, cited URLs and problems
  citecrawl scan corpus/ --jsonl | jq -r 'select(.type == "url") | .url'
        every distinct URL, one per line, for scripts
  citecrawl scan corpus/2024/ one-more-file.txt https://example.org/page
        several paths at once; a URL becomes a cited URL of role "argument"
  citecrawl scan --config /etc/citecrawl.toml
        scan the paths listed in the configuration's [corpus] paths

JSON lines: {"type": "document"|"url"|"problem", ...}; the fields are listed in
the documentation of crawler/commands/scan.py and never renamed.
"""

#: rows shown per table unless --all
DEFAULT_ROWS = 100


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="corpus folder, document file or URL (default: [corpus] paths of the configuration)")
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: config/citecrawl.toml of the checkout)")
    parser.add_argument("--root", metavar="DIR", help="make document ids relative to DIR (default: the folder given)")
    parser.add_argument("--jsonl", action="store_true", help="one JSON object per line instead of tables")
    parser.add_argument("--all", action="store_true", help=f"show every row (tables stop at {DEFAULT_ROWS} rows)")


def run(args: argparse.Namespace) -> int:
    from crawler.config import load_config
    from crawler.corpus import scan

    config = load_config(args.config)
    paths = list(args.paths) or list(config.corpus.paths)
    if not paths:
        raise UsageError(f"no PATH given and [corpus] paths is empty in {config.source}")
    result = scan(paths, root=args.root, max_document_bytes=config.corpus.max_document_bytes)
    if args.jsonl:
        out = sys.stdout
        for record in json_records(result):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
    else:
        _print_tables(result, rows=None if args.all else DEFAULT_ROWS)
    return exitcodes.OK


def json_records(result: ScanResult) -> Iterator[dict[str, Any]]:
    """The ``--jsonl`` records: documents, then URLs, then problems."""
    for doc in result.documents:
        yield _document_record(doc)
    for cited in result.urls:
        yield _url_record(cited)
    for problem in result.problems:
        yield {"type": "problem", "path": problem.path, "kind": problem.kind, "message": problem.message}


def _document_record(doc: Document) -> dict[str, Any]:
    return {
        "type": "document", "id": doc.id, "path": doc.path, "shape": doc.shape, "title": doc.title,
        "excerpt": doc.excerpt, "published": doc.published.isoformat() if doc.published else None,
        "content_hash": doc.content_hash, "encoding": doc.encoding, "size": doc.size, "urls": list(doc.urls),
        "snapshot_url": doc.snapshot_url, "snapshot_via": doc.snapshot_via,
    }


def _url_record(cited: CitedUrl) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "type": "url", "url": cited.url, "roles": list(cited.roles), "documents": list(cited.documents),
        "citations": [asdict(c) for c in cited.citations],
    }


def _print_tables(result: ScanResult, *, rows: int | None) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    docs = Table(title="Documents", show_lines=False)
    for col in ("id", "shape", "title", "URLs", "snapshot of"):
        docs.add_column(col, overflow="fold")
    for doc in result.documents[:rows]:
        via = f"{doc.snapshot_url} ({doc.snapshot_via})" if doc.snapshot_url else "-"
        docs.add_row(Text(doc.id), doc.shape, Text(_cut(doc.title or "-", 60)), str(len(doc.urls)), Text(via))
    console.print(docs)
    _more(console, len(result.documents), rows)

    urls = Table(title="Cited URLs")
    urls.add_column("url", overflow="fold")
    urls.add_column("roles", overflow="fold")
    urls.add_column("#docs", justify="right")
    for cited in result.urls[:rows]:
        urls.add_row(Text(cited.url), Text(", ".join(cited.roles)), str(len(cited.documents)))
    console.print(urls)
    _more(console, len(result.urls), rows)

    if result.problems:
        problems = Table(title="Problems")
        for col in ("path", "kind", "message"):
            problems.add_column(col, overflow="fold")
        for p in result.problems[:rows]:
            problems.add_row(Text(p.path), _kind(p), Text(p.message))
        console.print(problems)
        _more(console, len(result.problems), rows)
    s = result.statistics()
    console.print(Text(f"{s.documents} documents, {s.urls} distinct URLs, {s.citations} citations, "
                  f"{s.linked_by_title} linked by title, {len(result.problems)} problems"))


def _kind(p: Problem) -> Text:
    """Notices plain, problems that cost a document in red."""
    from rich.text import Text

    return Text(p.kind, style="" if p.is_notice else "bold red")


def _more(console: Console, total: int, rows: int | None) -> None:
    if rows is not None and total > rows:
        from rich.text import Text

        console.print(Text(f"… {total - rows} more rows (use --all, or --jsonl for scripts)"))


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
