"""Benchmark the state store: the cost of a no-op nightly run and of recording captures.

    python scripts/bench_state.py [--urls 100000] [--per-doc 10] [--dir DIR]

1. scan: upsert N/per-doc documents and replace their citations (one bulk call each);
2. record N captures, one transaction each, then the same again in batches of
   ``crawler.pipeline.RECORD_BATCH`` a transaction (what a run does);
3. in a fresh process (so its peak RSS is the run's, not this setup's): open the store
   and ask ``due_urls`` an hour later, when every capture is fresh: the no-op run;
4. the same a week later, when the article pages are due again.

Figures are wall-clock on a shared machine: repeat and take the best.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.pipeline import RECORD_BATCH
from crawler.schedule import RecrawlPolicy
from crawler.state import Capture, Citation, DocumentSeen, DueUrl, WarcRef, open_state_store

T0 = 1_700_000_000.0
ROLES = ("originalUrl", "webUrl", "related[0].webUrl", "images[0].url", "images[1].url", "images[2].url",
         "related[0].images[0].url", "headimg", "body.a", "body.a")


def peak_rss_mib() -> float:
    """Peak RSS of this process. VmHWM, because ru_maxrss keeps the parent's peak across fork + exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB; macOS: bytes


def setup(directory: Path, urls: int, per_doc: int) -> dict[str, float]:
    store = open_state_store(directory)
    docs = urls // per_doc
    t = time.perf_counter()
    store.upsert_documents([DocumentSeen(f"doc{d:07d}.txt", f"hash{d}") for d in range(docs)], now=T0)
    store.replace_citations({
        f"doc{d:07d}.txt": [Citation(f"https://host{(d * per_doc + i) % 997}.example/{d}/{i}", ROLES[i % len(ROLES)])
                            for i in range(per_doc)]
        for d in range(docs)
    }, now=T0)
    scan = time.perf_counter() - t
    policy = RecrawlPolicy()
    due = store.due_urls(T0, policy)
    run = store.start_run(now=T0, pid=1, host="bench")
    evidence = {"verdict": "unchanged", "basis": "text", "recall": 0.98, "precision": 0.97, "similarity": 0.97,
                "notes": []}     # what a judged page carries (JSON-encoded into the capture)

    def capture(n: int, d: DueUrl, fetched_at: float) -> Capture:
        return Capture(
            url=d.url, fetched_at=fetched_at, outcome="ok", status=200, final_url=d.url,
            payload_digest=f"sha1:{n:032d}", etag=f'"{n}"', last_modified="Tue, 14 Nov 2023 22:13:20 GMT",
            warc=WarcRef(f"citecrawl-{n // 50000:05d}.warc.gz", n * 4096, 4000, f"<urn:uuid:{n:032x}>", "response",
                         "2023-11-14T22:13:20.000000Z", d.url), verdict="unchanged", evidence=evidence)

    t = time.perf_counter()
    for n, d in enumerate(due):
        store.record_capture(capture(n, d, T0 + n * 0.01), run_id=run, policy=policy)
    record = time.perf_counter() - t
    # the same URLs again, as a run records them: RECORD_BATCH captures a transaction
    t = time.perf_counter()
    for start in range(0, len(due), RECORD_BATCH):
        store.record_captures([capture(n, due[n], T0 + 60 + n * 0.01)
                               for n in range(start, min(start + RECORD_BATCH, len(due)))],
                              run_id=run, policy=policy)
    batched = time.perf_counter() - t
    store.finish_run(run, now=T0 + 3600, counts={"fetched": len(due)}, exit_status=0)
    t = time.perf_counter()  # the nightly rescan when no document changed: one bulk upsert, no citations
    delta = store.upsert_documents([DocumentSeen(f"doc{d:07d}.txt", f"hash{d}") for d in range(docs)], now=T0 + 86400)
    rescan = time.perf_counter() - t
    assert not delta.new and not delta.changed
    store.close()
    return {"scan_seconds": scan, "record_seconds": record, "batched_seconds": batched, "recorded": len(due),
            "rescan_seconds": rescan}


def measure_due(directory: Path, now: float) -> dict[str, float]:
    """Run in a fresh process: open the store and compute what is due."""
    base = peak_rss_mib()
    t = time.perf_counter()
    store = open_state_store(directory)
    opened = time.perf_counter() - t
    due = len(store.due_urls(now, RecrawlPolicy()))
    first = time.perf_counter() - t - opened
    t = time.perf_counter()
    store.due_urls(now, RecrawlPolicy())
    again = time.perf_counter() - t
    store.close()
    return {"due": due, "open": opened, "first": first, "again": again,
            "peak_rss_mib": peak_rss_mib(), "rss_before_mib": base}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--urls", type=int, default=100_000)
    p.add_argument("--per-doc", type=int, default=10)
    p.add_argument("--dir", type=Path, help="keep the store here (default: a temporary folder)")
    p.add_argument("--due-at", type=float, help=argparse.SUPPRESS)  # the child process
    args = p.parse_args()
    if args.due_at is not None:
        print(json.dumps(measure_due(args.dir, args.due_at)))
        return
    if args.dir and args.dir.exists() and any(args.dir.iterdir()):
        p.error(f"--dir {args.dir} is not empty; the benchmark builds its own store")
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.dir or Path(tmp)
        built = setup(directory, args.urls, args.per_doc)
        print(f"scan: {args.urls // args.per_doc} documents, {args.urls} citations: {built['scan_seconds']:.2f} s")
        print(f"record: {built['recorded']:.0f} captures, one transaction each: {built['record_seconds']:.2f} s "
              f"({built['record_seconds'] / built['recorded'] * 1e6:.0f} µs per capture)")
        print(f"record: the same again, {RECORD_BATCH} a transaction (a run's batches): {built['batched_seconds']:.2f} s "
              f"({built['batched_seconds'] / built['recorded'] * 1e6:.0f} µs per capture)")
        print(f"rescan, nothing changed: upsert_documents of {args.urls // args.per_doc} documents: "
              f"{built['rescan_seconds']:.2f} s")
        size = sum(f.stat().st_size for f in directory.iterdir())
        print(f"store on disk: {size / 2**20:.1f} MiB")
        for label, now in (("no-op (an hour later)", T0 + 7200), ("a week later", T0 + 7 * 86400 + 7200)):
            out = subprocess.run([sys.executable, __file__, "--dir", str(directory), "--due-at", str(now)],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out)
            print(f"due_urls {label}: {r['due']:.0f} due; open {r['open']:.3f} s, first call {r['first']:.2f} s, "
                  f"second call {r['again']:.2f} s; peak RSS {r['peak_rss_mib']:.0f} MiB "
                  f"(process after imports: {r['rss_before_mib']:.0f} MiB)")


if __name__ == "__main__":
    main()
