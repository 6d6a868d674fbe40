"""SIGKILL ``citecrawl run`` at seeded random moments, restart it, and check nothing was lost.

Usage::

    python scripts/kill_loop.py [--kills 50] [--urls 60] [--seed 1] [--keep DIR]

A corpus citing ``--urls`` pages on a loopback origin (tests/origin.py, in this process, so
its access log survives every kill; some pages answer slowly so kills land mid-fetch, on
four virtual hosts so fetches overlap) is crawled by ``python -m crawler run`` in a child
process, killed with SIGKILL after a random delay, and restarted, ``--kills`` times; then
one last run goes to the end. After every kill, as the next run would, ``.open`` WARCs are
recovered, and then:

* every WARC passes ``warcio check`` and FastWARC's digest verification;
* no complete record was lost: the response records of earlier rounds are all still there;
* the state agrees with the WARCs: every capture points at a record with its record ID;
* nothing is fetched twice: a URL whose capture was recorded is never requested again
  (URLs killed in flight, before their capture was recorded, are fetched again — that is
  the documented resume, not a duplicate of a recorded capture).

Exit status 0 when every round passed, 1 otherwise (the reasons on stderr).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from archive.warcfile import recover  # noqa: E402
from tests.collection_checks import (  # noqa: E402
    check_state_matches_warcs,
    check_warcs_valid,
    records_by_url,
)
from tests.origin import Origin, Route, serve_origin  # noqa: E402

HOSTS = ("a.kill.test", "b.kill.test", "c.kill.test", "d.kill.test")


def build(root: Path, origin: Origin, n: int, rng: random.Random) -> tuple[Path, Path, list[str]]:
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    urls = []
    for i in range(n):
        host = HOSTS[i % len(HOSTS)]
        path = f"/story/{i}.html"
        body = (f"<html><head><title>Story {i}</title></head><body><article>"
                + f"<p>Paragraph {i} of a story that is long enough to be an article about the harbour.</p>" * 8
                + "</article></body></html>").encode()
        origin.add(host, path, Route(body=body, headers=[("Content-Type", "text/html; charset=utf-8")],
                                     delay=rng.choice([0.0, 0.0, 0.05, 0.2])))
        url = f"http://{host}:{origin.port}{path}"
        urls.append(url)
        (corpus / f"{i:04d}.txt").write_text(f"---\ntitle: \"Story {i}\"\noriginalUrl: \"{url}\"\n---\n",
                                             encoding="utf-8")
    resolve = ", ".join(f'"{h}:{origin.port}:127.0.0.1"' for h in HOSTS)
    cfg = root / "kill.toml"
    cfg.write_text(f"""
[politeness]
delay = 0.0
jitter = 0.0
robots = false
max_attempts = 1
concurrency = 8
[network]
fetch_deadline = 5.0
allow_networks = ["127.0.0.0/8"]
resolve = [{resolve}]
[warc]
rollover_bytes = 1000000
""", encoding="utf-8")
    return corpus, cfg, urls


def captured(out: Path) -> set[str]:
    db = out / "state.sqlite"
    if not db.exists():
        return set()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {u for (u,) in con.execute("SELECT u.url FROM captures c JOIN urls u ON u.id = c.url_id")}
    except sqlite3.OperationalError:      # killed before the schema was created
        return set()
    finally:
        con.close()


def run_command(cfg: Path, corpus: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "crawler", "run", "--config", str(cfg), "--corpus", str(corpus),
            "--out", str(out), "--json"]


def check_round(out: Path, before: dict[str, set[str]], recorded: set[str], hits: list[tuple[str, str]],
                label: str) -> list[str]:
    recover(out / "warcs", index_dir=out / "indexes")
    problems = [f"{label}: {p}" for p in check_warcs_valid(out) + check_state_matches_warcs(out)]
    now = {u: {r.record_id for r in rs if r.record_type == "response"} for u, rs in records_by_url(out).items()}
    for url, ids in before.items():
        lost = ids - now.get(url, set())
        if lost:
            problems.append(f"{label}: {url}: response records lost: {sorted(lost)}")
    again = sorted({u for _, u in hits} & recorded)
    if again:
        problems.append(f"{label}: fetched again after their capture was recorded: {again[:5]}")
    before.clear()
    before.update(now)
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--urls", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-delay", type=float, default=1.5, help="kill within this many seconds of the start")
    ap.add_argument("--keep", type=Path, help="work in this folder (kept) instead of a temporary one")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    problems: list[str] = []
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory(prefix="citecrawl-kill-") as tmp, serve_origin() as origin:
        root = args.keep or Path(tmp)
        corpus, cfg, urls = build(root, origin, args.urls, rng)
        out = root / "collection"
        before: dict[str, set[str]] = {}
        seen = 0
        kills = finished = 0
        for i in range(args.kills + 1):
            last = i == args.kills
            recorded = captured(out)
            proc = subprocess.Popen(run_command(cfg, corpus, out), cwd=REPO, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if last:
                _, stderr = proc.communicate(timeout=300)
                if proc.returncode not in (0, 3):
                    problems.append(f"final run exited {proc.returncode}: {stderr.decode()[-2000:]}")
            else:
                try:
                    proc.wait(timeout=rng.uniform(0.05, args.max_delay))
                    finished += 1
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                proc.communicate()
            with origin._lock:
                hits = [(x.host, f"http://{x.host}:{origin.port}{x.path}") for x in origin.log[seen:]]
                seen = len(origin.log)
            problems += check_round(out, before, recorded, hits, f"round {i + 1}{' (final)' if last else ''}")
            if problems:
                break
        missing = [u for u in urls if u not in captured(out)] if not problems else []
        if missing:
            problems.append(f"after the final run, {len(missing)} URLs have no capture: {missing[:5]}")
        total = sum(1 for _ in origin.log)
        print(f"{kills} kills, {finished} runs ended before their kill, {len(urls)} URLs, {total} requests "
              f"(each URL at most once after its capture was recorded); "
              f"{'OK' if not problems else f'{len(problems)} problem(s)'}")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"{time.monotonic() - started:.1f} s", file=sys.stderr)
    sys.exit(code)
