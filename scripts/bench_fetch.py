#!/usr/bin/env python3
"""Benchmark the crawler against a loopback origin on 20 hosts (127.0.0.2 … 127.0.0.21, one port).

    python scripts/bench_fetch.py                       # 2,000 pages, politeness off and on
    python scripts/bench_fetch.py --pages 4000 --delay 0.2 --json out.json
    python scripts/bench_fetch.py --modes off,shared     # also one shared httpx client (pool-cost check)

The origin (scripts/bench_origin.py, the Python one) runs in its own process
(a raw trio HTTP/1.1 server, keep-alive, 60–120 KB pages sent gzip-encoded,
robots.txt 404) and logs the arrival time of every request per host; each crawl runs in its own process too, so CPU time and peak RSS are the
crawler's alone. Reported per mode: pages/s, CPU s/page, peak RSS, outcomes,
and from the SERVER's log the highest per-host request rate (1 / the shortest
interval between two requests on one host) and the most requests on one host
within any window of ``delay`` seconds; with politeness on, the first must
not exceed 1/delay and the second must be 1.

Modes: ``off`` (delay 0, per_host 4, concurrency 80), ``on`` (delay --delay,
jitter 0.5 added on top, per_host 1, concurrency 20), ``shared`` (like off but
every host through one shared httpx client with a 100-connection pool).
The machine is shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))

from bench_origin import HOSTS, python_origin  # noqa: E402  (the one origin of the benchmark scripts)

# -- one crawl (a separate process) ---------------------------------------------------------------------


def crawl(mode: str, port: int, pages: int, delay: float) -> dict[str, Any]:
    import httpx
    import trio

    from crawler.config import Config
    from crawler.crawl import Crawler
    from crawler.outcomes import FetchResult

    politeness: dict[str, Any] = {"robots": True, "max_attempts": 1}
    if mode == "on":
        politeness.update(delay=delay, jitter=0.5, per_host=1, concurrency=20)
    else:
        politeness.update(delay=0.0, jitter=0.0, per_host=4, concurrency=80)
    config = Config().with_overrides(politeness=politeness, network={"allow_networks": ["127.0.0.0/8"]})

    crawler_cls: type[Crawler] = Crawler
    if mode == "shared":
        class SharedClientCrawler(Crawler):
            """Every host through one client (the pool-cost comparison of the notes)."""

            shared: httpx.AsyncClient | None = None

            def _client(self, host: str) -> httpx.AsyncClient:
                if self.shared is None:
                    self.shared = self._factory.new_client(connections=100)
                    self._clients["*"] = self.shared
                return self.shared

            async def _close_if_idle(self, host: str) -> None:
                return None

        crawler_cls = SharedClientCrawler

    urls = [f"http://{HOSTS[i % len(HOSTS)]}:{port}/page/{i}.html" for i in range(pages)]
    outcomes: dict[str, int] = defaultdict(int)
    body_bytes = 0

    async def main() -> None:
        nonlocal body_bytes
        crawler = crawler_cls(config)
        send, recv = trio.open_memory_channel[FetchResult](256)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(crawler.run, urls, send)
            async with recv:
                async for r in recv:
                    if r.kind == "page":
                        outcomes[str(r.outcome)] += 1
                        body_bytes += r.body_bytes
                    r.close()

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    trio.run(main)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {
        "mode": mode, "pages": pages, "hosts": len(HOSTS), "seconds": round(wall, 3),
        "pages_per_s": round(pages / wall, 1), "cpu_ms_per_page": round(cpu / pages * 1000, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "body_mb": round(body_bytes / 1e6, 2), "outcomes": dict(outcomes),
        "delay": delay if mode == "on" else 0.0,
    }


def rates(log: list[tuple[str, float, float, str]], delay: float) -> dict[str, Any]:
    per_host: dict[str, list[float]] = defaultdict(list)
    for host, start, _end, _path in log:
        per_host[host].append(start)
    shortest = min((b - a for ts in per_host.values() for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)),
                   default=float("inf"))
    most_in_window = 0
    if delay > 0:
        for ts in per_host.values():
            ts.sort()
            j = 0
            for i, t in enumerate(ts):
                while ts[j] <= t - delay:
                    j += 1
                most_in_window = max(most_in_window, i - j + 1)
    return {
        "server_requests": len(log),
        "max_host_rate_per_s": round(1 / shortest, 2) if shortest > 0 else None,
        "shortest_interval_s": round(shortest, 4),
        "most_requests_in_one_delay_window": most_in_window if delay > 0 else None,
        "configured_rate_per_s": round(1 / delay, 2) if delay > 0 else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--delay", type=float, default=0.2, help="politeness delay for mode 'on' (seconds)")
    ap.add_argument("--modes", default="off,on", help="comma-separated: off, on, shared")
    ap.add_argument("--json", metavar="FILE", help="also write the figures here")
    ap.add_argument("--crawl", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.crawl:
        print(json.dumps(crawl(args.crawl, args.port, args.pages, args.delay)))
        return 0

    env = {**os.environ, "PYTHONPATH": str(SCRIPTS.parent)}
    rows = []
    with python_origin() as origin:
        for mode in args.modes.split(","):
            out = subprocess.run([sys.executable, __file__, "--crawl", mode, "--port", str(origin.port),
                                  "--pages", str(args.pages), "--delay", str(args.delay)],
                                 env=env, capture_output=True, text=True, check=True)
            row = json.loads(out.stdout)
            row.update(rates(origin.read_log(), row["delay"]))
            if mode == "on":
                row["rate_respected"] = (row["max_host_rate_per_s"] is not None
                                         and row["max_host_rate_per_s"] <= row["configured_rate_per_s"]
                                         and row["most_requests_in_one_delay_window"] == 1)
            rows.append(row)

    cols = ["mode", "pages", "seconds", "pages_per_s", "cpu_ms_per_page", "peak_rss_mb", "max_host_rate_per_s",
            "configured_rate_per_s", "most_requests_in_one_delay_window"]
    print("  ".join(f"{c:>14}" for c in cols))
    for row in rows:
        print("  ".join(f"{row.get(c)!s:>14}" for c in cols))
    for row in rows:
        print(f"{row['mode']}: outcomes {row['outcomes']}, server saw {row['server_requests']} requests"
              + (f", rate respected: {row['rate_respected']}" if "rate_respected" in row else ""))
    text = json.dumps({"hosts": len(HOSTS), "cpu_count": os.cpu_count(), "results": rows}, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0 if all(r.get("rate_respected", True) for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
