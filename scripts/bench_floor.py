#!/usr/bin/env python3
"""The floor of citecrawl's stack: trio + httpx fetching a URL list and keeping nothing.

    python scripts/bench_floor.py URLS_FILE [--per-host 4] [--concurrency 64]

``scripts/bench`` runs this beside ``citecrawl archive`` and wget, on the same URLs and origin,
in the same rounds. It is the least any crawler built on trio and httpx can do for a page: one
``httpx.AsyncClient`` per host (one shared pool costs more: httpcore scans every connection of a
pool for each request), all sharing one TLS context, ``--per-host`` connections each, at most
``--concurrency`` requests in flight, ``Accept-Encoding: gzip``, the body read as received
(``aiter_raw``) and dropped. No WARC, no state, no politeness, no decoding, no error handling
beyond counting failures. What citecrawl spends above this row's CPU a page is its own work;
what this row spends is the price of the stack the project chose, which no change inside
citecrawl can lower. Its pages/s in the latency part is not such a floor: its fetches finish in
lockstep under trio's round robin (see crawler/idle.py), which citecrawl's ordering avoids.

Prints one JSON line: ``{"fetched": N, "failed": N, "bytes": N}``.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
from urllib.parse import urlsplit

import httpx
import trio


async def fetch_all(urls: list[str], *, per_host: int, concurrency: int) -> dict[str, int]:
    by_host: dict[str, list[str]] = {}
    for url in urls:
        by_host.setdefault(urlsplit(url).netloc, []).append(url)
    for queue in by_host.values():
        queue.reverse()                     # pop() from the end takes them in the given order
    limits = httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host)
    tls = ssl.create_default_context()      # one for all clients: each would load the CA store (~50 ms)
    clients = {host: httpx.AsyncClient(limits=limits, verify=tls, headers={"Accept-Encoding": "gzip"})
               for host in by_host}
    cap = trio.Semaphore(concurrency)
    counts = {"fetched": 0, "failed": 0, "bytes": 0}

    async def worker(client: httpx.AsyncClient, queue: list[str]) -> None:
        while queue:
            url = queue.pop()
            async with cap:
                try:
                    async with client.stream("GET", url) as response:
                        async for chunk in response.aiter_raw():
                            counts["bytes"] += len(chunk)
                except httpx.HTTPError:
                    counts["failed"] += 1
                    continue
            counts["fetched"] += 1

    try:
        async with trio.open_nursery() as nursery:
            for host, queue in by_host.items():
                for _ in range(per_host):
                    nursery.start_soon(worker, clients[host], queue)
    finally:
        for client in clients.values():
            await client.aclose()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", help="a file with one URL a line")
    parser.add_argument("--per-host", type=int, default=4, help="connections per host (default 4)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at most (default 64)")
    args = parser.parse_args()
    with open(args.urls, encoding="utf-8") as f:
        urls = [line.strip() for line in f if line.strip()]
    counts = trio.run(lambda: fetch_all(urls, per_host=args.per_host, concurrency=args.concurrency))
    print(json.dumps(counts), flush=True)
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
