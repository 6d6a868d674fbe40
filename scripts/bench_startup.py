"""CPU seconds one ``citecrawl`` invocation costs before it does any work: ``--help``, ``status``.

    python scripts/bench_startup.py [--repeat 15] [--before DIR] [--json FILE]

Builds a tiny collection first (the five-document test corpus of tests/scenario.py, fetched
once from a loopback origin), then runs each command ``--repeat`` times in a fresh
``python -m crawler`` process from this checkout and reads the child's user + system CPU
from ``wait4``. ``--before DIR`` names another checkout (``git worktree add /tmp/old HEAD~1``)
to run interleaved with this one, so both see the same machine load. The bytecode cache is
on (``PYTHONDONTWRITEBYTECODE`` is dropped from the children's environment), as in an
installed copy. Medians and minima are printed as a table and, with ``--json``, written out.
On a shared machine the figures move by about 10 %: compare medians of the same invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.origin import serve_origin  # noqa: E402
from tests.scenario import HOSTS, build_corpus, build_origin  # noqa: E402

CONFIG = """
[politeness]
delay = 0.0
jitter = 0.0
max_attempts = 1
[network]
fetch_deadline = 0.6
read_timeout = 0.5
allow_networks = ["127.0.0.0/8"]
"""


def build_collection(root: Path) -> tuple[Path, Path, Path]:
    """The corpus, the configuration and a collection fetched once from a loopback origin."""
    config = root / "bench.toml"
    config.write_text(CONFIG, encoding="utf-8")
    corpus = build_corpus(root / "corpus")
    out = root / "collection"
    with serve_origin() as origin:
        build_origin(origin)
        for f in corpus.iterdir():
            text = f.read_text(encoding="utf-8")
            for h in HOSTS:
                text = text.replace(f"http://{h}/", f"http://{h}:{origin.port}/")
            f.write_text(text, encoding="utf-8")
        subprocess.run([sys.executable, "-m", "crawler", "archive", str(corpus), "--config", str(config),
                        "--out", str(out), "--quiet", *(f"--resolve={h}:{origin.port}:127.0.0.1" for h in HOSTS)],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return corpus, config, out


def commands(corpus: Path, config: Path, out: Path, replayed: Path) -> dict[str, list[str]]:
    return {
        "--help": ["--help"],
        "--version": ["--version"],
        "status": ["status", "--config", str(config), "--out", str(out)],
        "archive --help": ["archive", "--help"],
        "archive --replay": ["archive", str(corpus), "--config", str(config), "--out", str(replayed),
                             "--quiet", "--json", "--replay", str(out / "warcs")],
    }


def cpu_seconds(checkout: Path, argv: list[str], replayed: Path) -> float:
    """User + system CPU of one ``python -m crawler ARGV`` run from *checkout*."""
    shutil.rmtree(replayed, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    child = subprocess.Popen([sys.executable, "-m", "crawler", *argv], cwd=checkout, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {checkout} (exit {os.waitstatus_to_exitcode(status)})")
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=15, help="runs per command and checkout (default 15)")
    ap.add_argument("--before", metavar="DIR", type=Path, help="another checkout to measure interleaved")
    ap.add_argument("--json", metavar="FILE", type=Path, help="also write the figures here")
    args = ap.parse_args()
    checkouts = {"this": REPO} | ({"before": args.before.resolve()} if args.before else {})
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        root = Path(tmp)
        corpus, config, out = build_collection(root)
        replayed = root / "replayed"
        figures: dict[str, dict[str, dict[str, float]]] = {}
        for name, argv in commands(corpus, config, out, replayed).items():
            runs: dict[str, list[float]] = {label: [] for label in checkouts}
            for checkout in checkouts.values():
                cpu_seconds(checkout, argv, replayed)  # warm: page cache, bytecode cache
            for _ in range(args.repeat):
                for label, checkout in checkouts.items():
                    runs[label].append(cpu_seconds(checkout, argv, replayed))
            figures[name] = {label: {"median_ms": round(statistics.median(v) * 1000, 1),
                                     "min_ms": round(min(v) * 1000, 1)} for label, v in runs.items()}
    labels = list(checkouts)
    print(f"{'command':<18}" + "".join(f"{label + ' median/min ms':>26}" for label in labels)
          + f"   (CPU per invocation, {args.repeat} runs)")
    for name, by in figures.items():
        print(f"{name:<18}" + "".join(f"{by[label]['median_ms']:>17.0f} / {by[label]['min_ms']:<6.0f}"
                                      for label in labels))
    if args.json:
        args.json.write_text(json.dumps({"repeat": args.repeat, "checkouts": {k: str(v) for k, v in checkouts.items()},
                                         "figures": figures}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
