"""The cost of a no-op nightly ``citecrawl run`` over a large corpus: everything fetched, nothing due.

    python scripts/bench_noop_run.py [--urls 100000] [--per-doc 10] [--dir DIR]

1. writes a corpus of ``urls / per-doc`` front-matter documents, each citing ``per-doc``
   distinct URLs (an article and its images and related articles);
2. fills the collection's state store as if a run had fetched every URL an hour ago
   (``record_scan`` and one ``record_capture`` per URL, through the store's own API);
3. times the real command, ``python -m crawler run --json``, in a fresh process: it takes
   the lock, rescans the corpus, asks what is due (nothing), writes the report for every
   URL and records the run. Wall time and the child's peak RSS are printed as a table and JSON
   (measured as ``scripts/bench`` measures: started by a small launcher, so the peak is the
   run's own and not this script's, which has just scanned the corpus and filled the store).

Figures are wall-clock on a shared machine: repeat and take the best.
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from crawler.commands.archive import record_scan  # noqa: E402
from crawler.corpus import scan  # noqa: E402
from crawler.schedule import RecrawlPolicy  # noqa: E402
from crawler.state import Capture, open_state_store  # noqa: E402


def write_corpus(root: Path, urls: int, per_doc: int) -> int:
    docs = urls // per_doc
    for d in range(docs):
        folder = root / f"{d // 1000:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        host = f"site{d % 500}.example"
        images = "".join(f'  - url: "https://img.{host}/{d}/{i}.jpg"\n    width: 800\n    height: 600\n'
                         for i in range(per_doc // 2))
        related = "".join(f'  - title: "Related {d}-{i}"\n    webUrl: "https://{host}/r/{d}/{i}.html"\n'
                          for i in range(per_doc - 1 - per_doc // 2))
        (folder / f"doc-{d:07d}.txt").write_text(
            f'---\ntitle: "Story {d}"\nexcerpt: "A story numbered {d}."\n'
            f'originalUrl: "https://{host}/news/{d}.html"\nimages:\n{images}related:\n{related}---\n',
            encoding="utf-8")
    return docs


def fill_state(corpus: Path, out: Path, fetched_at: float) -> int:
    result = scan([corpus])
    store = open_state_store(out)
    try:
        record_scan(store, result, fetched_at)
        policy = RecrawlPolicy()
        run_id = store.start_run(now=fetched_at, pid=0, host="bench")
        for u in result.urls:
            image = any("images[" in c.role for c in u.citations)
            store.record_capture(Capture(url=u.url, fetched_at=fetched_at, outcome="ok", status=200, final_url=u.url,
                                         verdict="image_ok" if image else "unchanged"),
                                 run_id=run_id, policy=policy)
        store.finish_run(run_id, now=fetched_at + 1, counts={"fetched": len(result.urls)}, exit_status=0)
    finally:
        store.close()
    return len(result.urls)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--per-doc", type=int, default=10)
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="citecrawl-noop-"))
    corpus, out = work / "corpus", work / "collection"
    t = time.monotonic()
    docs = write_corpus(corpus, args.urls, args.per_doc)
    gen_s = time.monotonic() - t
    t = time.monotonic()
    n_urls = fill_state(corpus, out, time.time() - 3600)
    fill_s = time.monotonic() - t
    cfg = work / "bench.toml"
    cfg.write_text(f'[corpus]\npaths = ["{corpus}"]\n[collection]\nout = "{out}"\n', encoding="utf-8")
    measured = runpy.run_path(str(REPO / "scripts" / "bench"), run_name="bench_noop_run")["measured"]
    log = work / "run.log"
    row = measured([sys.executable, "-m", "crawler", "run", "--config", str(cfg), "--json"], cwd=REPO, log=log)
    output = log.read_text(errors="replace")
    if row["rc"] != 0:
        print(output, file=sys.stderr)
        return 1
    summary = json.loads(next(line for line in reversed(output.splitlines()) if line.startswith("{")))
    figures = {
        "documents": docs, "urls": n_urls, "due": summary["due"], "fetched": summary["fetched"],
        "run_wall_s": round(row["seconds"], 2), "run_cpu_s": round(row["cpu_s"], 2),
        "run_peak_rss_mb": row["peak_rss_mb"],
        "setup_generate_s": round(gen_s, 1), "setup_fill_state_s": round(fill_s, 1),
    }
    width = max(map(len, figures))
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
