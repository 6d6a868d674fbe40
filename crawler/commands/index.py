"""``citecrawl index``: (re)build CDXJ indexes for any WARC or ARC files, ours or foreign."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crawler import exitcodes
from crawler.errors import UsageError

if TYPE_CHECKING:
    from archive.cdxj import CdxjEntry
    from archive.reader import ReadFault

# archive.cdxj and archive.reader (warcio) are imported in run(): building the parser (every
# `citecrawl` invocation) must not import them.

__all__ = ["DESCRIPTION", "EPILOG", "HELP", "NAME", "add_arguments", "run"]

NAME = "index"
HELP = "build a sorted CDXJ index (pywb format) of WARC/ARC files"
DESCRIPTION = """\
Read every record of the given WARC/ARC files (folders are searched recursively
for *.warc, *.warc.gz, *.arc, *.arc.gz) and write one CDXJ line per response,
revisit, resource and metadata record, sorted as pywb expects (LC_ALL=C order).

Broken files (clipped gzip, wrong lengths, not a WARC) are reported on stderr,
one line each; their readable records are still indexed.
"""
EPILOG = """\
examples:
  citecrawl index collection/warcs -o all.cdxj        one merged index
  citecrawl index collection/warcs --per-file collection/indexes
                                                     rebuild indexes/NAME.cdxj per WARC
  citecrawl index old.warc.gz | grep '"status": "404"' the index on stdout

exit codes: 0 every file read cleanly, 3 done but some files are broken (listed
on stderr), 2 bad arguments.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="WARC|DIR", help="WARC/ARC files or folders")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("-o", "--output", metavar="FILE", help="write the merged index here (default: stdout)")
    out.add_argument("--per-file", metavar="DIR", help="write one NAME.cdxj per WARC file into DIR")
    parser.add_argument("-v", "--verbose", action="store_true", help="also list non-fatal warnings per record")


def run(args: argparse.Namespace) -> int:
    from archive.cdxj import index_files, write_cdxj
    from archive.reader import find_warc_files
    from archive.warcfile import index_path_for

    quiet_warcio()
    try:
        files = find_warc_files(args.paths)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    if not files:
        raise UsageError(f"no WARC or ARC files in {' '.join(args.paths)}")
    skipped = skipped_files(args.paths, files)
    if skipped:
        print(f"citecrawl index: skipped {len(skipped)} files not named *.warc[.gz]/*.arc[.gz] "
              f"(e.g. {skipped[0]}); name a file to index it anyway", file=sys.stderr)
    broken = 0
    entries: list[CdxjEntry] = []
    records = lines = 0
    for path in files:
        report = index_files([path])
        records += report.records
        lines += len(report.entries)
        fatal = [f for f in report.faults if f.fatal]
        if fatal:
            broken += 1
            more = f"; {len(fatal) - 1} more faults" if len(fatal) > 1 else ""
            print(f"citecrawl index: BROKEN {_describe(fatal[0], report.records)}{more}", file=sys.stderr)
        if args.verbose:
            for fault in report.faults:
                if not fault.fatal:
                    print(f"citecrawl index: warning {fault}", file=sys.stderr)
        if args.per_file:
            write_cdxj(report.entries, index_path_for(path, Path(args.per_file)))
        else:
            entries.extend(report.entries)
    if args.output:
        write_cdxj(entries, args.output)
    elif not args.per_file:
        out = sys.stdout
        for line in sorted(e.line().encode("utf-8") for e in entries):
            out.write(line.decode("utf-8") + "\n")
        out.flush()
    print(f"citecrawl index: {lines} index lines from {records} records in {len(files)} files"
          f"{f'; {broken} broken' if broken else ''}", file=sys.stderr)
    return exitcodes.ATTENTION if broken else exitcodes.OK


def quiet_warcio() -> None:
    """warcio logs each odd Target-URI it repairs; we report per file instead."""
    import logging

    logging.getLogger("warcio").setLevel(logging.ERROR)


def skipped_files(paths: list[str], taken: list[Path]) -> list[Path]:
    """Files under the named folders that a folder scan did not take (.open, .wacz, .lz4 …)."""
    chosen = set(taken)
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f not in chosen
                          and not f.name.lower().endswith((".txt", ".md", ".cdxj")))
    return out


def _describe(fault: ReadFault, records: int) -> str:
    return f"{fault.path}: at offset {fault.offset}: {fault.message} ({records} records readable)"
