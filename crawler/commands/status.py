"""``citecrawl status``: what the state store says: what is due, the last runs, verdicts.

Read-only: it opens the store read-only and never takes the run lock, so it is
safe to call while a run is going (from monitoring, every minute if you like).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler import exitcodes
from crawler.commands.options import config_from_args

if TYPE_CHECKING:
    from crawler.schedule import RecrawlPolicy
    from crawler.state import StateStore

# The state store is imported in run() and gather(): building the parser (every `citecrawl`
# invocation) need not pay for it. `status` itself never imports the pipeline (trio, httpx,
# selectolax, warcio, rich): it is what monitoring calls every minute (tests/test_startup.py).

__all__ = ["DESCRIPTION", "EPILOG", "HELP", "NAME", "add_arguments", "gather", "render", "run"]

NAME = "status"
HELP = "show what is due, the last runs and counts per verdict (from the state store)"
DESCRIPTION = """\
Show, from the collection's state store (state.sqlite): whether a run is going,
how many cited URLs are due now and why (new, retry, recheck, interrupted) with
the first few, the last runs (start, duration, counts, exit status) and how many
URLs have each verdict. It only reads: safe to call while a run is going.
"""
EPILOG = """\
examples:
  citecrawl status                                  the collection of the default configuration
  citecrawl status --config /etc/citecrawl.toml --out /srv/collection
  citecrawl status --json | jq .due.total           for monitoring

exit codes: 0 shown; 2 no state store in the collection (nothing was recorded
there yet, or --out/--config point at the wrong folder) or a bad configuration;
1 the state store cannot be read (corrupt, or written by a newer citecrawl).
"""

#: due URLs listed by name; the rest are counted
FIRST_DUE = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: config/citecrawl.toml of the checkout)")
    parser.add_argument("--out", metavar="DIR", help="collection folder (default: collection.out of the configuration)")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout, for monitoring")
    parser.add_argument("--runs", metavar="N", type=int, default=5, help="how many recent runs to show (default 5)")


def run(args: argparse.Namespace) -> int:
    from crawler.schedule import RecrawlPolicy
    from crawler.state import STATE_FILENAME, open_state_store

    config = config_from_args(args)
    collection = Path(config.collection.out)
    if not (collection / STATE_FILENAME).is_file():
        print(f"citecrawl: no state store in {collection} (no run has recorded anything there yet; "
              "check --out or --config)", file=sys.stderr)
        return exitcodes.USAGE
    store = open_state_store(collection, readonly=True)
    try:
        report = gather(store, collection=collection, policy=RecrawlPolicy.from_config(config.recrawl),
                        now=time.time(), runs=max(args.runs, 0))
    finally:
        store.close()
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(render(report))
    return exitcodes.OK


def gather(store: StateStore, *, collection: Path, policy: RecrawlPolicy, now: float,
           runs: int = 5, first: int = FIRST_DUE) -> dict[str, Any]:
    """The status as plain data (the ``--json`` output)."""
    from dataclasses import asdict

    from crawler.lock import read_lock_holder

    by_reason: dict[str, int] = {}
    due_first = []
    total = 0
    for d in store.iter_due_urls(now, policy):      # one at a time: a collection may have 100,000 due
        by_reason[d.reason] = by_reason.get(d.reason, 0) + 1
        if total < first:
            due_first.append({"url": d.url, "reason": d.reason, "due_since": _iso(d.due_at)})
        total += 1
    holder = read_lock_holder(collection)
    return {
        "collection": str(collection),
        "now": _iso(now),
        "running": asdict(holder) if holder else None,
        "totals": asdict(store.statistics()),
        "due": {
            "total": total,
            "by_reason": dict(sorted(by_reason.items())),
            "first": due_first,
        },
        "runs": [
            {"id": r.id, "started": _iso(r.started), "finished": _iso(r.finished), "duration": r.duration,
             "exit_status": r.exit_status, "counts": dict(r.counts), "pid": r.pid, "host": r.host}
            for r in store.last_runs(runs)
        ],
        "verdicts": store.verdict_counts(),
    }


def render(report: dict[str, Any]) -> str:
    """The status for a person."""
    t = report["totals"]
    lines = [f"collection {report['collection']} (state schema {t['schema_version']})",
             f"documents {t['documents']}, cited URLs {t['cited_urls']}, captures {t['captures']}, runs {t['runs']}"]
    if report["running"]:
        r = report["running"]
        lines.append(f"a run is going: pid {r['pid']} on {r['host']}, started {r['started']}")
    due = report["due"]
    reasons = ", ".join(f"{k} {v}" for k, v in due["by_reason"].items())
    lines.append(f"due now: {due['total']}" + (f" ({reasons})" if reasons else ""))
    for d in due["first"]:
        lines.append(f"  {d['reason']:<11} {d['url']}")
    if due["total"] > len(due["first"]):
        lines.append(f"  … and {due['total'] - len(due['first'])} more")
    lines.append("last runs:" if report["runs"] else "last runs: none")
    for r in report["runs"]:
        if r["finished"] is None:
            how = "did not finish (still going, or killed)"
        else:
            how = f"{_duration(r['duration'])}, exit {r['exit_status']}"
        counts = " ".join(f"{k}={v}" for k, v in sorted(r["counts"].items()))
        lines.append(f"  #{r['id']:<4} {r['started']}  {how}" + (f"  {counts}" if counts else ""))
    verdicts = ", ".join(f"{k} {v}" for k, v in report["verdicts"].items())
    lines.append(f"verdicts: {verdicts or 'none yet'}")
    return "\n".join(lines)


def _iso(t: float | None) -> str | None:
    if t is None or not math.isfinite(t):
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = round(seconds)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s"
