"""Where a latency-bound crawl loses time: every host's gaps between requests, from the origin's log.

Runs ``citecrawl archive`` over N URLs on scripts/bench's delaying Python origin (20 hosts,
``--latency`` seconds before each response, one connection per host, no gap) and reads the
origin's access log: the server time per request, the gap between a host's consecutive
requests (median, p90, the long ones with when they started), and requests per 0.5 s over
the run. A healthy run has every host busy: gaps of a few milliseconds, a flat rate near
hosts / latency.

    /work/venv/bin/python scripts/bench_host_gaps.py 2000 --capture-only

Extra arguments go to ``citecrawl archive``.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import bench_origin  # noqa: E402

BENCH = runpy.run_path(str(REPO / "scripts" / "bench"), run_name="bench_host_gaps")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", type=int, nargs="?", default=2000, help="URLs to crawl (default 2000)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before each response (default 0.05)")
    args, extra = parser.parse_known_args()
    work = Path(tempfile.mkdtemp(prefix="citecrawl-gaps-"))
    try:
        with bench_origin.python_origin(delay=args.latency) as origin:
            urls = [origin.url(i) for i in range(args.urls)]
            BENCH["write_corpus"](work / "corpus", urls)
            cfg = BENCH["write_config"](work / "c.toml", work / "out", delay=0.0, per_host=1,
                                        concurrency=len(bench_origin.HOSTS))
            origin.read_log()
            started = time.perf_counter()
            rc = subprocess.run([sys.executable, "-m", "crawler", "archive", str(work / "corpus"), "--config",
                                 str(cfg), "--quiet", *extra], cwd=REPO, stdout=subprocess.DEVNULL).returncode
            wall = time.perf_counter() - started
            log = origin.read_log()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"citecrawl archive: exit {rc}, {wall:.1f} s, {len(log)} requests "
          f"(bound {len(bench_origin.HOSTS) / args.latency:.0f} pages/s)")
    report(log)
    return rc


def report(log: list[tuple[str, float, float, str]]) -> None:
    by_host: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
    for host, start, end, _path in log:
        by_host[host].append((start, end))
    if not log:
        return
    t0 = min(start for _, start, _, _ in log)
    gaps: list[tuple[float, float, str]] = []
    for host, spans in by_host.items():
        spans.sort()
        gaps += [(s2 - e1, e1 - t0, host) for (_, e1), (s2, _) in itertools.pairwise(spans)]
    durations = sorted(end - start for _, start, end, _ in log)
    sizes = sorted(g for g, _, _ in gaps)

    def q(xs: list[float], p: float) -> float:
        return xs[int(p * (len(xs) - 1))] * 1000 if xs else 0.0

    print(f"server time per request: median {q(durations, .5):.1f} ms, p90 {q(durations, .9):.1f} ms")
    print(f"gap between a host's requests: median {q(sizes, .5):.1f} ms, p90 {q(sizes, .9):.1f} ms")
    long = sorted((at, gap, host) for gap, at, host in gaps if gap > 0.1)
    print(f"gaps over 100 ms: {len(long)}, {sum(g for _, g, _ in long):.1f} s of idle host time in all")
    for at, gap, host in long[:20]:
        print(f"  at {at:6.2f} s  {host:<12} idle {gap:.2f} s")
    buckets = collections.Counter(int((start - t0) / 0.5) for _, start, _, _ in log)
    print("requests per 0.5 s:", [buckets[i] for i in range(max(buckets) + 1)])


if __name__ == "__main__":
    raise SystemExit(main())
