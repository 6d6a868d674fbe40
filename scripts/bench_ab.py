"""Two checkouts of citecrawl, whole ``archive`` runs alternated: did a change make a run cheaper?

    python scripts/bench_ab.py --before /tmp/old [--urls 2000] [--runs 6] [--latency 0.05]
                               [--json FILE] [-- --capture-only]

``--before DIR`` is another checkout (``git worktree add /tmp/old HEAD~3``, or ``git archive
HEAD~3 | tar -x -C /tmp/old``); this checkout is "after". Both crawl the same corpus from the
same loopback origin as ``scripts/bench`` (nginx for throughput, or the delaying Python origin
with ``--latency``), in the order A B B A A B ...: on a shared machine, load drifts from one
minute to the next, and a later run of the same code is also a little faster (warm page
cache), so alternating is what makes the medians comparable. Arguments after ``--`` go to
``citecrawl archive`` (e.g. ``--capture-only``). Both checkouts run with bytecode compiled, as
installed copies do. Prints per-run rows, then medians of wall time, CPU (the run and its
judging processes, from ``wait4``) and peak RSS, with the after/before ratios.
"""

from __future__ import annotations

import argparse
import json
import runpy
import shutil
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import bench_origin  # noqa: E402

BENCH = runpy.run_path(str(REPO / "scripts" / "bench"), run_name="bench_ab")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, type=Path, help="the other checkout (the 'before' code)")
    parser.add_argument("--urls", type=int, default=2000, help="URLs per run (default 2000)")
    parser.add_argument("--runs", type=int, default=6, help="runs of each checkout (default 6)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds the Python origin waits before each response, one connection per host "
                             "(default 0: nginx, or the Python origin without it, four connections per host)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("extra", nargs="*", help="after --: more arguments for citecrawl archive")
    args = parser.parse_args()
    trees, envs = BENCH["checkouts"](parser, args.before)
    rows: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="citecrawl-ab-")))
        if args.latency:
            origin = stack.enter_context(bench_origin.python_origin(delay=args.latency))
            per_host, concurrency = 1, len(bench_origin.HOSTS)
        else:
            origin = stack.enter_context(bench_origin.nginx_origin(work) if shutil.which("nginx")
                                         else bench_origin.python_origin())
            per_host, concurrency = 4, 64
        BENCH["write_corpus"](work / "corpus", [origin.url(i) for i in range(args.urls)])
        for n in range(args.runs):
            for name in (("before", "after") if n % 2 == 0 else ("after", "before")):
                out = work / "out"
                shutil.rmtree(out, ignore_errors=True)
                cfg = BENCH["write_config"](work / "c.toml", out, delay=0.0, per_host=per_host,
                                            concurrency=concurrency)
                row = BENCH["measured"]([sys.executable, "-m", "crawler", "archive", str(work / "corpus"),
                                         "--config", str(cfg), "--quiet", *args.extra],
                                        cwd=trees[name], log=work / "log.txt", env=envs[name])
                if row["rc"] != 0:
                    print((work / "log.txt").read_text(errors="replace")[-2000:], file=sys.stderr)
                    raise SystemExit(f"{name} run {n + 1} failed with exit {row['rc']}")
                rows[name].append(row)
                print(f"{name:<6} run {n + 1}: {row['seconds']:7.2f} s wall, {row['cpu_s']:6.2f} s CPU, "
                      f"{row['peak_rss_mb']:6.1f} MB", flush=True)
    summary = {name: {"wall_s": statistics.median(r["seconds"] for r in runs),
                      "cpu_s": statistics.median(r["cpu_s"] for r in runs),
                      "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs)} for name, runs in rows.items()}
    for name, s in summary.items():
        print(f"{name:<6} median: {s['wall_s']:.2f} s wall ({args.urls / s['wall_s']:.0f} pages/s), "
              f"{s['cpu_s']:.2f} s CPU ({1000 * s['cpu_s'] / args.urls:.2f} ms/page), {s['peak_rss_mb']:.1f} MB")
    ratios = {k: round(summary["after"][k] / summary["before"][k], 3) for k in ("wall_s", "cpu_s", "peak_rss_mb")}
    print("after/before: " + ", ".join(f"{k} x{v}" for k, v in ratios.items()))
    if args.json:
        args.json.write_text(json.dumps({"urls": args.urls, "latency_s": args.latency, "extra": args.extra,
                                         "runs": rows, "median": summary, "ratio": ratios}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
