#!/usr/bin/env python3
"""Where a crawl's event loop spends its time: steps per task, queue depths, a request's stages.

    python scripts/bench_loop.py [URLS] [--latency 0.05] [-- --capture-only]

Runs ``citecrawl archive`` in a child process over URLS (default 2,000) from the delaying Python
origin of ``scripts/bench`` (20 hosts, one connection per host, no gap), with probes installed:

* a trio ``Instrument`` timing every task step: per kind of task, how many steps, their total,
  median, p90 and longest. A request waits for the rest of the scheduler's round at each of its
  awaits, so long steps of any task slow every host down;
* the crawler's queues every 5 ms: hosts with a request in flight, results waiting for the
  consumer, free backlog slots (all hosts busy and an empty results channel is the healthy state);
* each request's stages on the client: a host's previous response to the next job's task, the
  task to ``fetch_hop``, ``fetch_hop`` to the request's first byte on the socket.

These are the probes that found session 6's consumer and round-length problems (issue #8). The
probes cost time themselves: compare runs of this script with each other, not with ``scripts/bench``.
Arguments after ``--`` go to ``citecrawl archive``.
"""

from __future__ import annotations

import argparse
import json
import runpy
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import bench_origin  # noqa: E402

BENCH = runpy.run_path(str(REPO / "scripts" / "bench"), run_name="bench_loop")

#: the probed run, in the child: installs the probes, runs the command, prints one JSON object
_PROBED = r'''
import collections, functools, json, statistics, sys, time
import trio, trio._highlevel_socket as sockets
import crawler.crawl as crawl
from crawler.cli import main

steps = collections.defaultdict(list)
started = {}

class Steps(trio.abc.Instrument):
    def before_task_step(self, task):
        started[task] = time.perf_counter()

    def after_task_step(self, task):
        t = started.pop(task, None)
        if t is not None:
            steps[task.name.rsplit(".", 1)[-1]].append(time.perf_counter() - t)

real_run = trio.run
def run(*args, **kwargs):
    kwargs["instruments"] = [*kwargs.get("instruments", ()), Steps()]
    return real_run(*args, **kwargs)
trio.run = run

queues = []
real_crawl = crawl.Crawler.run
@functools.wraps(real_crawl)
async def crawler_run(self, requests, results):
    async def sample():
        while True:
            stats = self._core.statistics(trio.current_time())
            queues.append((stats.in_flight, results.statistics().current_buffer_used, self._backlog.value))
            await trio.sleep(0.005)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(sample)
        await real_crawl(self, requests, results)
        nursery.cancel_scope.cancel()
crawl.Crawler.run = crawler_run

stages = []
current = {}
last_response = {}
real_job = crawl.Crawler._run_job
@functools.wraps(real_job)
async def run_job(self, job):
    current.setdefault(trio.lowlevel.current_task(), {})["task"] = time.perf_counter()
    return await real_job(self, job)
crawl.Crawler._run_job = run_job
real_fetch = crawl.fetch_hop
async def fetch_hop(client, request, **kwargs):
    task = trio.lowlevel.current_task()
    d = current.setdefault(task, {})
    d["fetch"], d["previous"] = time.perf_counter(), last_response.get(request.url.host)
    try:
        return await real_fetch(client, request, **kwargs)
    finally:
        last_response[request.url.host] = time.perf_counter()
        current.pop(task, None)
        if "sent" in d and "task" in d and d["previous"] is not None:
            stages.append((d["task"] - d["previous"], d["fetch"] - d["task"], d["sent"] - d["fetch"]))
crawl.fetch_hop = fetch_hop
real_send = sockets.SocketStream.send_all
async def send_all(self, data):
    d = current.get(trio.lowlevel.current_task())
    if d is not None and "sent" not in d:
        d["sent"] = time.perf_counter()
    return await real_send(self, data)
sockets.SocketStream.send_all = send_all

t = time.perf_counter()
code = main(sys.argv[1:])
wall = time.perf_counter() - t

def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else 0.0

ms = lambda x: round(x * 1000, 3)
middle = queues[len(queues) // 10: len(queues) * 9 // 10] or queues
out = {
    "exit": code, "wall_s": round(wall, 3),
    "steps": {name: {"steps": len(xs), "total_s": round(sum(xs), 3), "p50_ms": ms(q(xs, .5)),
                     "p90_ms": ms(q(xs, .9)), "max_ms": ms(max(xs))}
              for name, xs in sorted(steps.items(), key=lambda kv: -sum(kv[1]))[:8]},
    "queues": {name: round(statistics.mean(row[i] for row in middle), 1) if middle else None
               for i, name in enumerate(("hosts_in_flight", "results_waiting", "backlog_free"))},
    "stages_ms": {name: {"p50": ms(q([s[i] for s in stages], .5)), "p90": ms(q([s[i] for s in stages], .9))}
                  for i, name in enumerate(("previous_response_to_task", "task_to_fetch_hop",
                                            "fetch_hop_to_first_byte_sent"))},
    "requests_traced": len(stages),
}
print(json.dumps(out), file=sys.stderr)
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", type=int, nargs="?", default=2000, help="URLs to crawl (default 2000)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds before each response (default 0.05)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args, extra = parser.parse_known_args()     # the rest (after --) goes to citecrawl archive
    extra = [a for a in extra if a != "--"]
    with tempfile.TemporaryDirectory(prefix="citecrawl-loop-") as tmp, \
            bench_origin.python_origin(delay=args.latency) as origin:
        work = Path(tmp)
        BENCH["write_corpus"](work / "corpus", [origin.url(i) for i in range(args.urls)])
        shutil.rmtree(work / "out", ignore_errors=True)
        cfg = BENCH["write_config"](work / "c.toml", work / "out", delay=0.0, per_host=1,
                                    concurrency=len(bench_origin.HOSTS))
        proc = subprocess.run([sys.executable, "-c", _PROBED, "archive", str(work / "corpus"), "--config", str(cfg),
                               "--quiet", *extra], cwd=REPO, env=BENCH["installed_env"](REPO),
                              capture_output=True, text=True)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        print(proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"the probed run failed (exit {proc.returncode})")
    figures = json.loads(lines[-1])
    if figures["exit"] != 0:
        raise SystemExit(f"citecrawl archive exited {figures['exit']}")
    print(f"citecrawl archive: {args.urls} URLs, {args.latency * 1000:g} ms origin, {figures['wall_s']} s (with probes)")
    print(f"{'task':<24} {'steps':>7} {'total s':>8} {'p50 ms':>7} {'p90 ms':>7} {'max ms':>8}")
    for name, s in figures["steps"].items():
        print(f"{name:<24} {s['steps']:>7} {s['total_s']:>8} {s['p50_ms']:>7} {s['p90_ms']:>7} {s['max_ms']:>8}")
    print("queues (mean of the middle 80 %): " + ", ".join(f"{k} {v}" for k, v in figures["queues"].items()))
    print(f"a request's stages ({figures['requests_traced']} traced): " + "; ".join(
        f"{k} p50 {v['p50']} ms, p90 {v['p90']} ms" for k, v in figures["stages_ms"].items()))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
