"""``citecrawl verify``: check WARC files (framing, digests) and their CDXJ indexes; non-zero on any fault."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crawler import exitcodes
from crawler.errors import UsageError

if TYPE_CHECKING:
    from archive.cdxj import CdxjEntry

# the archive modules (warcio, FastWARC) are imported in the functions that use them: building
# the parser (every `citecrawl` invocation) must not import them.

__all__ = ["DESCRIPTION", "EPILOG", "HELP", "NAME", "add_arguments", "run"]

NAME = "verify"
HELP = "check WARC framing, block and payload digests and index consistency"
DESCRIPTION = """\
Read every record of the given WARC files strictly: each must be complete and
correctly framed (one gzip member per record in .warc.gz), and every declared
WARC-Block-Digest and WARC-Payload-Digest must match. Each file is then held
against its CDXJ index (indexes/NAME.cdxj beside the warcs/ folder, or the
--index files): every line must point at a record with the same URL and digest,
and every indexable record must have a line. Files a killed run left as
*.open are faults too.
"""
EPILOG = """\
examples:
  citecrawl verify collection/                 every WARC of a collection, with its indexes
  citecrawl verify a.warc.gz --index all.cdxj  one file against a merged index

exit codes: 0 everything checked out, 4 at least one fault (listed per file), 2 bad arguments.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="WARC|DIR", help="WARC files or folders (searched recursively)")
    parser.add_argument("--index", metavar="FILE", action="append", default=[],
                        help="CDXJ file(s) to check against instead of indexes/NAME.cdxj (repeatable)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only files with faults")


def _open_files(paths: list[str]) -> list[Path]:
    from archive.warcfile import OPEN_SUFFIX

    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(f for f in p.rglob(f"*{OPEN_SUFFIX}") if ".warc" in f.name)
    return out


def run(args: argparse.Namespace) -> int:
    from archive.cdxj import read_cdxj
    from archive.reader import find_warc_files
    from archive.verify import verify_file
    from archive.warcfile import index_path_for

    try:
        files = find_warc_files(args.paths) + _open_files(args.paths)
        merged: list[CdxjEntry] | None = None
        if args.index:
            merged = [e for f in args.index for e in read_cdxj(f)]
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if not files:
        raise UsageError(f"no WARC files in {' '.join(args.paths)}")
    bad = skipped = 0
    for path in files:
        if path.name.lower().endswith((".arc", ".arc.gz")):
            skipped += 1
            if not args.quiet:
                print(f"SKIP {path} (ARC files carry no digests to verify; `citecrawl index` reads them)")
            continue
        index = merged
        if index is None:
            candidate = index_path_for(path, path.parent.parent / "indexes")
            if candidate.is_file():
                try:
                    index = list(read_cdxj(candidate))
                except (OSError, ValueError) as exc:
                    print(f"FAIL {path}\n  index {candidate} is unreadable: {exc}")
                    bad += 1
                    continue
        verdict = verify_file(path, index=index)
        what = (f"{verdict.records} records, {verdict.digests_checked} digests"
                + (f", {verdict.index_lines_checked} index lines" if verdict.indexed else ", no index"))
        if verdict.ok:
            if not args.quiet:
                print(f"OK   {path} ({what})")
            continue
        bad += 1
        print(f"FAIL {path} ({what})")
        for fault in verdict.faults[:50]:
            print(f"  {fault}")
        if len(verdict.faults) > 50:
            print(f"  … {len(verdict.faults) - 50} more")
    checked = len(files) - skipped
    print(f"citecrawl verify: {checked - bad} of {checked} WARC files passed"
          f"{f' ({skipped} ARC files skipped)' if skipped else ''}", file=sys.stderr)
    return exitcodes.VERIFY_FAILED if bad else exitcodes.OK
