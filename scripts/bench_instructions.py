#!/usr/bin/env python3
"""Two checkouts of citecrawl: instructions a page of the crawling process, counted by valgrind.

    python scripts/bench_instructions.py --before /tmp/old [--small 200] [--large 1000]
                                         [--json FILE] [-- --capture-only]

Wall and CPU time on a shared machine vary by 10-20 % from one minute to the next, so a change
worth 3 % cannot be seen in them even with alternated runs (``scripts/bench_ab.py``). Instructions
can: each checkout archives the same corpus twice under ``valgrind --tool=callgrind`` (``--small``
and ``--large`` URLs from the loopback nginx origin of ``scripts/bench``, or its Python origin),
and the difference of the two counts over the difference of the URLs is the work of one more
page, start-up and the end of the run left out. Repeated runs agree within ~0.2 %.

What it counts: the user-space instructions of the crawling process only (judging processes are
not traced: run with ``-- --capture-only`` to measure the crawl alone; without it, the counts are
the crawling process's share of a full archive). Not counted: time spent waiting, in the
kernel, or on other cores. So it answers "did this change make a page cheaper?", not "is the run
faster?": for that, ``scripts/bench_ab.py``. A run takes ~50x longer under valgrind (1,000 URLs:
about 2.5 minutes).

Needs ``valgrind`` (``apt-get install valgrind``). Arguments after ``--`` go to ``citecrawl archive``.
"""

from __future__ import annotations

import argparse
import json
import re
import runpy
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import bench_origin  # noqa: E402

BENCH = runpy.run_path(str(REPO / "scripts" / "bench"), run_name="bench_instructions")

_COLLECTED = re.compile(r"Collected : (\d+)")


def per_page(small: tuple[int, int], large: tuple[int, int]) -> tuple[float, float]:
    """``(instructions a page, fixed instructions)`` from ``(urls, instructions)`` of two runs.

    >>> per_page((200, 4_000_000_000), (1000, 10_400_000_000))
    (8000000.0, 2400000000.0)
    """
    (n1, i1), (n2, i2) = small, large
    if n2 <= n1:
        raise ValueError("the large run must have more URLs than the small one")
    page = (i2 - i1) / (n2 - n1)
    return page, i1 - n1 * page


def counted(command: list[str], *, cwd: Path, env: dict[str, str], out: Path) -> int:
    """Run ``command`` under callgrind; the instructions it collected."""
    proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
                          cwd=cwd, env=env, capture_output=True, text=True)
    m = _COLLECTED.search(proc.stderr)
    if proc.returncode != 0 or m is None:
        raise SystemExit(f"{' '.join(command)} in {cwd}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return int(m.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, type=Path, help="the other checkout (the 'before' code)")
    parser.add_argument("--small", type=int, default=200, help="URLs of the small run (default 200)")
    parser.add_argument("--large", type=int, default=1000, help="URLs of the large run (default 1000)")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("extra", nargs="*", help="after --: more arguments for citecrawl archive")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed (apt-get install valgrind)")
    if not 0 < args.small < args.large:
        parser.error("--small must be above 0 and below --large")
    trees, envs = BENCH["checkouts"](parser, args.before)
    counts: dict[str, dict[int, int]] = {"before": {}, "after": {}}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="citecrawl-ir-")))
        origin = stack.enter_context(bench_origin.nginx_origin(work) if shutil.which("nginx")
                                     else bench_origin.python_origin())
        for n in (args.small, args.large):
            corpus = work / f"corpus-{n}"
            BENCH["write_corpus"](corpus, [origin.url(i) for i in range(n)])
            for name in ("before", "after"):
                out = work / "out"
                shutil.rmtree(out, ignore_errors=True)
                cfg = BENCH["write_config"](work / "c.toml", out, delay=0.0, per_host=4, concurrency=64)
                command = [sys.executable, "-m", "crawler", "archive", str(corpus), "--config", str(cfg),
                           "--quiet", *args.extra]
                counts[name][n] = counted(command, cwd=trees[name], env=envs[name], out=work / "callgrind.out")
                print(f"{name:<6} {n:>6} URLs: {counts[name][n]:>15,} instructions", flush=True)
    result: dict[str, Any] = {"small": args.small, "large": args.large, "extra": args.extra, "counts": counts}
    for name in ("before", "after"):
        page, fixed = per_page((args.small, counts[name][args.small]), (args.large, counts[name][args.large]))
        result[name] = {"per_page": page, "fixed": fixed}
        print(f"{name:<6} {page / 1e6:8.3f} M instructions a page, {fixed / 1e9:6.3f} G fixed")
    ratio = result["after"]["per_page"] / result["before"]["per_page"]
    result["ratio_per_page"] = round(ratio, 4)
    print(f"after/before, a page: x{ratio:.4f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
