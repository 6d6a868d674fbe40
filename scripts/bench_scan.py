#!/usr/bin/env python3
"""Time and peak memory of scanning a corpus: ``scan()`` (whole result in RAM, bodies dropped)
and ``iter_documents()`` (streaming, bodies included, nothing kept).

Each mode runs in a fresh child process so its peak RSS (``ru_maxrss``) is its own. Prints a
table and one JSON line. The machine is shared: run it more than once and read the figures as
rough.

    python scripts/gen_corpus.py /tmp/corpus-100k -n 100000
    python scripts/bench_scan.py /tmp/corpus-100k
    python scripts/bench_scan.py --generate 20000          # into a temporary folder, removed after
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure(mode: str, folder: str) -> dict[str, object]:
    """Run one mode in this process and return its figures."""
    from crawler.corpus import iter_documents, scan

    baseline = _rss_mb()
    started = time.perf_counter()
    if mode == "scan":
        result = scan([folder])
        s = result.statistics()
        counts: dict[str, object] = {"documents": s.documents, "urls": s.urls, "citations": s.citations,
                                     "linked_by_title": s.linked_by_title, "problems": len(result.problems)}
    else:
        documents = body_chars = problems = 0
        for parsed in iter_documents([folder]):
            problems += len(parsed.problems)
            if parsed.document is not None:
                documents += 1
                body_chars += len(parsed.document.body or "")
        counts = {"documents": documents, "body_chars": body_chars, "problems": problems}
    seconds = time.perf_counter() - started
    return {"mode": mode, "seconds": round(seconds, 2), "docs_per_second": round(int(counts["documents"]) / seconds)  # type: ignore[call-overload]
            if seconds else None, "baseline_rss_mb": round(baseline, 1), "peak_rss_mb": round(_rss_mb(), 1), **counts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", help="corpus folder to scan")
    parser.add_argument("--generate", type=int, metavar="N", help="generate N documents into a temporary folder first")
    parser.add_argument("--modes", default="scan,iter", help="comma-separated: scan, iter (default both)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.folder)))
        return 0
    tmp: str | None = None
    folder = args.folder
    if args.generate:
        tmp = tempfile.mkdtemp(prefix="citecrawl-bench-")
        folder = os.path.join(tmp, "corpus")
        subprocess.run([sys.executable, str(HERE / "gen_corpus.py"), folder, "-n", str(args.generate)], check=True)
    if not folder:
        parser.error("give a corpus folder or --generate N")
    try:
        rows = []
        for mode in args.modes.split(","):
            out = subprocess.run([sys.executable, __file__, folder, "--child", mode], check=True,
                                 capture_output=True, text=True).stdout
            rows.append(json.loads(out))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'mode':<6} {'docs':>8} {'seconds':>8} {'docs/s':>8} {'base MB':>8} {'peak MB':>8}  counts")
    for r in rows:
        extra = {k: v for k, v in r.items() if k not in
                 ("mode", "documents", "seconds", "docs_per_second", "baseline_rss_mb", "peak_rss_mb")}
        print(f"{r['mode']:<6} {r['documents']:>8} {r['seconds']:>8} {r['docs_per_second']:>8} "
              f"{r['baseline_rss_mb']:>8} {r['peak_rss_mb']:>8}  {extra}")
    print(json.dumps({"folder": folder, "cpus": os.cpu_count(), "results": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
