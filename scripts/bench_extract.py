#!/usr/bin/env python3
"""Score article extraction on pages with ground truth: F1, precision, recall, pages/s.

The metric is the scrapinghub article-extraction benchmark's, with CJK split
(as ``../shared/data/README.md`` states it): tokens are ``\\w+`` matches,
lower-cased, every CJK character its own token; 4-token shingles counted with
multiplicity; per page TP/FP/FN normalised to sum 1; precision is the mean over
pages that predicted something, recall the mean over pages whose truth is not
empty (as the original ``evaluate.py`` does); F1 is the harmonic mean of the two
means.

Layouts understood (give the folder):

* scrapinghub: ``ground-truth.json`` ``{key: {articleBody, url}}`` + ``html/<key>.html.gz``;
* wcxb: ``ground-truth/NNNN.json`` (``ground_truth.main_content``, ``url``) +
  ``html/NNNN.html.gz`` (also accepts the folder above ``dev/``).

Examples::

    python scripts/bench_extract.py ../shared/data/pages/scrapinghub
    python scripts/bench_extract.py ../shared/data/pages/wcxb-dev --worst 10
    /work/venv-extract/bin/python scripts/bench_extract.py ../shared/data/pages/scrapinghub \\
        --compare trafilatura readability

Speed is wall time of the extraction calls only (bytes in, text out; reading
and un-gzipping the files is not counted), one process, pages in sorted order.
With ``--compare`` the extractors run page by page in turn (each call timed on
its own), so that the load of a shared machine hits them alike and the printed
speed ratio is fair.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

__all__ = ["Page", "Score", "load_pages", "score", "shingle_counts", "tokens", "tp_fp_fn"]

_CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])\w)+")


def tokens(text: str) -> list[str]:
    """``\\w+`` runs, lower-cased, each CJK character a token of its own.

    >>> tokens("Hello, World! 中文abc 2019")
    ['hello', 'world', '中', '文', 'abc', '2019']
    """
    return _TOKEN.findall(text.lower())


def shingle_counts(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    """n-token shingles with multiplicity; a text shorter than n is one shingle (as the original).

    >>> sorted(shingle_counts("a b c d e").items())
    [(('a', 'b', 'c', 'd'), 1), (('b', 'c', 'd', 'e'), 1)]
    >>> shingle_counts("a b")
    Counter({('a', 'b'): 1})
    """
    toks = tokens(text)
    return Counter(t for t in (tuple(toks[i:i + n]) for i in range(max(1, len(toks) - n + 1))) if t)


def tp_fp_fn(truth: str, pred: str) -> tuple[float, float, float]:
    """Shingle TP/FP/FN of one page, normalised to sum 1 (all zero when both are empty)."""
    t, p = shingle_counts(truth), shingle_counts(pred)
    tp = fp = fn = 0
    for key in t.keys() | p.keys():
        a, b = t.get(key, 0), p.get(key, 0)
        tp += min(a, b)
        fp += max(0, b - a)
        fn += max(0, a - b)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Score:
    f1: float
    precision: float
    recall: float


def _precision(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else 0.0 if tp == fn == 0 else tp / (tp + fn)


def score(per_page: list[tuple[float, float, float]]) -> Score:
    """Mean precision (pages with a prediction), mean recall (pages with truth), F1 of the means.

    >>> score([tp_fp_fn("one two three four five", "one two three four five")])
    Score(f1=1.0, precision=1.0, recall=1.0)
    """
    ps = [_precision(*x) for x in per_page if x[0] + x[1] > 0]
    rs = [_recall(*x) for x in per_page if x[0] + x[2] > 0]
    p = statistics.mean(ps) if ps else 0.0
    r = statistics.mean(rs) if rs else 0.0
    return Score(2 * p * r / (p + r) if p + r else 0.0, p, r)


@dataclass(frozen=True)
class Page:
    key: str
    url: str | None
    html: bytes
    truth: str


def load_pages(folder: Path) -> list[Page]:
    """Pages of a scrapinghub or wcxb folder, sorted by key."""
    if (folder / "ground-truth.json").is_file():
        truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
        return [Page(k, v.get("url"), gzip.decompress((folder / "html" / f"{k}.html.gz").read_bytes()),
                     v.get("articleBody") or "") for k, v in sorted(truth.items())]
    if (folder / "dev").is_dir() and not (folder / "ground-truth").is_dir():
        folder = folder / "dev"
    if (folder / "ground-truth").is_dir():
        pages = []
        for f in sorted((folder / "ground-truth").glob("*.json")):
            data = json.loads(f.read_text(encoding="utf-8"))
            html = folder / "html" / f"{f.stem}.html.gz"
            if html.is_file():
                pages.append(Page(f.stem, data.get("url"), gzip.decompress(html.read_bytes()),
                                  (data.get("ground_truth") or {}).get("main_content") or ""))
        return pages
    raise SystemExit(f"{folder}: neither a scrapinghub (ground-truth.json) nor a wcxb (ground-truth/) folder")


Extractor = Callable[[Page], str]


def citecrawl_extractor() -> Extractor:
    from archive.extract import extract_article

    return lambda page: extract_article(page.html, url=page.url).text


def trafilatura_extractor() -> Extractor:
    import trafilatura

    return lambda page: trafilatura.extract(page.html, url=page.url) or ""


def readability_extractor() -> Extractor:
    import lxml.html
    from readability import Document

    def run(page: Page) -> str:
        summary = Document(page.html, url=page.url).summary(html_partial=True)
        return "\n".join(t.strip() for t in lxml.html.fromstring(summary).itertext() if t.strip())

    return run


EXTRACTORS: dict[str, Callable[[], Extractor]] = {
    "citecrawl": citecrawl_extractor,
    "trafilatura": trafilatura_extractor,
    "readability": readability_extractor,
}


Result = tuple[Score, float, list[tuple[float, float, float]], list[str]]


def run(name: str, pages: list[Page]) -> Result:
    return run_interleaved([name], pages)[name]


def run_interleaved(names: list[str], pages: list[Page]) -> dict[str, Result]:
    """Run the extractors page by page, each timed on its own calls.

    Interleaving matters on a shared machine: the load changes by the second, and
    running one extractor over all pages and then the next would give each a
    different machine. Page by page, a load spike hits all of them alike, so the
    ratio of their rates is fair even when the rates themselves are noisy.
    """
    extractors = {name: EXTRACTORS[name]() for name in names}
    outputs: dict[str, list[str]] = {name: [] for name in names}
    elapsed = dict.fromkeys(names, 0.0)
    for page in pages:
        for name, extract in extractors.items():
            started = time.perf_counter()
            outputs[name].append(extract(page))
            elapsed[name] += time.perf_counter() - started
    results = {}
    for name in names:
        per_page = [tp_fp_fn(p.truth, out) for p, out in zip(pages, outputs[name], strict=True)]
        results[name] = (score(per_page), len(pages) / max(elapsed[name], 1e-9), per_page, outputs[name])
    return results


def _worst(pages: list[Page], per_page: list[tuple[float, float, float]], n: int) -> Iterator[str]:
    ranked = sorted(range(len(pages)), key=lambda i: per_page[i][0])
    for i in ranked[:n]:
        tp, fp, fn = per_page[i]
        yield f"  {pages[i].key:<20} tp={tp:.2f} fp={fp:.2f} fn={fn:.2f}  {pages[i].url}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="a scrapinghub or wcxb folder")
    parser.add_argument("--compare", nargs="*", default=[], choices=sorted(set(EXTRACTORS) - {"citecrawl"}),
                        help="also run these extractors on the same pages (if installed)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages")
    parser.add_argument("--worst", type=int, default=0, help="list the N pages with the lowest true-positive share")
    parser.add_argument("--dump", type=Path, help="write citecrawl's text per page into this folder")
    args = parser.parse_args(argv)

    pages = load_pages(args.folder)
    if args.limit:
        pages = pages[: args.limit]
    print(f"{args.folder}: {len(pages)} pages")
    names = ["citecrawl"]
    for name in args.compare:
        try:
            EXTRACTORS[name]()
        except ImportError as exc:
            print(f"{name:<12} not installed ({exc.name})")
        else:
            names.append(name)
    results = run_interleaved(names, pages)
    for name in names:
        result, rate, per_page, outputs = results[name]
        print(f"{name:<12} F1={result.f1:.4f}  precision={result.precision:.4f}  "
              f"recall={result.recall:.4f}  {rate:7.1f} pages/s")
        if name == "citecrawl":
            for line in _worst(pages, per_page, args.worst):
                print(line)
            if args.dump:
                args.dump.mkdir(parents=True, exist_ok=True)
                for page, out in zip(pages, outputs, strict=True):
                    (args.dump / f"{page.key}.txt").write_text(out, encoding="utf-8")
                    (args.dump / f"{page.key}.truth.txt").write_text(page.truth, encoding="utf-8")
    if len(names) > 1:
        base = results["citecrawl"][1]
        print("speed ratio: " + ", ".join(f"{base / results[n][1]:.1f}x {n}" for n in names[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
