"""How long does judging a re-fetched page against what a snapshot says take?

``texts``: :func:`archive.compare.compare_texts` on ~50 KB texts (English and
Chinese) in the cases a run meets: identical, lightly edited, half rewritten,
reordered and a different page; plus 500-paragraph pages. Texts are built from
the real article bodies in ``../shared/data/pages/scrapinghub`` when present
(never copied into the repo), else from a fixed pseudo-random vocabulary.

``excerpt`` and ``title``: :func:`archive.compare.excerpt_contained` and
:func:`archive.compare.compare_title` on the throughput benchmark's own pages
(``scripts/bench_origin.page_pool``: 60–120 KB of HTML, extracted by
:func:`archive.extract.extract_article` and joined as ``archive.verdicts`` joins them),
as plain ASCII, with typographic quotes and dashes (what real English pages have), and as
Chinese; excerpts as ``scripts/bench``'s corpus cites them (short, not on the page) and
as real citations are (~200 characters: verbatim, one word edited, from another page).

Usage: ``python scripts/bench_compare.py [--repeat 5] [--parts texts,excerpt,title]``.
Prints the median CPU ms per call (``time.process_time``). To compare with another checkout's package, run this
script with ``PYTHONPATH`` set to that checkout. The machine is shared: treat the
figures as noisy.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from archive.compare import compare_texts, compare_title, excerpt_contained

REPO = Path(__file__).resolve().parent.parent
# ../shared beside a checkout; a worktree under wt/ has it one level further up
SHARED = next((p / "shared" / "data" / "pages" / "scrapinghub" for p in (REPO.parent, REPO.parent.parent)
               if (p / "shared" / "data" / "pages" / "scrapinghub").is_dir()), REPO / "no-shared-data")


def english_paragraphs(rng: random.Random) -> list[str]:
    truth = SHARED / "ground-truth.json"
    if truth.is_file():
        bodies = [v["articleBody"] for v in json.loads(truth.read_text(encoding="utf-8")).values()]
        rng.shuffle(bodies)
        return [p.strip() for b in bodies for p in b.split("\n") if len(p.strip()) > 40]
    vocab = [f"w{i}" for i in range(5000)] + ["the", "of", "and", "to", "in", "a"] * 200
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(20, 90))) + "." for _ in range(3000)]


def chinese_paragraphs(rng: random.Random) -> list[str]:
    chars = [chr(c) for c in range(0x4E00, 0x4E00 + 3500)]
    return ["".join(rng.choice(chars) for _ in range(rng.randint(40, 160))) + "。" for _ in range(2000)]


def take(paragraphs: list[str], rng: random.Random, size: int) -> list[str]:
    out: list[str] = []
    start = rng.randrange(len(paragraphs))
    while sum(len(p.encode()) for p in out) < size:
        out.append(paragraphs[(start + len(out)) % len(paragraphs)])
    return out


def _edit(paragraph: str) -> str:
    """Replace every fifth word (or character, for Chinese) of a paragraph."""
    if " " in paragraph:
        return " ".join("edited" if i % 5 == 0 else w for i, w in enumerate(paragraph.split(" ")))
    return "".join("改" if i % 5 == 0 else c for i, c in enumerate(paragraph))


def cases(paras: list[str], rng: random.Random, size: int) -> dict[str, tuple[list[str], list[str]]]:
    stored = take(paras, rng, size)
    edited = [_edit(p) if i % 10 == 0 else p for i, p in enumerate(stored)]
    half = stored[: len(stored) // 2] + take(paras, rng, size // 2)
    reordered = stored[len(stored) // 3:] + stored[: len(stored) // 3]
    return {
        "identical": (stored, list(stored)),
        "10% paragraphs edited": (stored, edited),
        "half rewritten": (stored, half),
        "reordered": (stored, reordered),
        "different page": (stored, take(paras, rng, size)),
    }


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median CPU seconds of this process per run: on a shared machine wall time mostly measures
    the other processes (process_time still varies with their cache pressure: noisy, not useless)."""
    runs = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        runs.append(time.process_time() - start)
    return statistics.median(runs)


def extractor_agreement() -> None:
    """The same unchanged page, stored by one extractor and re-extracted by another: which verdict?

    Uses the scrapinghub ground truth as the "stored" text and each extractor's
    output in ``output/*.json`` as the "found" text; prints the recall quantiles
    and the share of pages per recall band of the default thresholds.
    """
    truth_file = SHARED / "ground-truth.json"
    if not truth_file.is_file():
        print("(no ../shared/data: extractor agreement skipped)")
        return
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    for out in sorted((SHARED / "output").glob("*.json")):
        found = json.loads(out.read_text(encoding="utf-8"))
        found = found.get("output", found)          # readability.json wraps its pages
        recalls = [compare_texts(v["articleBody"], found[k].get("articleBody") or "").recall
                   for k, v in truth.items() if isinstance(found.get(k), dict)]
        if len(recalls) < 2:
            print(f"found={out.stem}: not in the ground truth's format, skipped")
            continue
        q = statistics.quantiles(recalls, n=10)
        bands = [sum(r >= 0.97 for r in recalls), sum(0.85 <= r < 0.97 for r in recalls),
                 sum(0.40 <= r < 0.85 for r in recalls), sum(r < 0.40 for r in recalls)]
        share = " / ".join(f"{b / len(recalls):.0%}" for b in bands)
        print(f"stored=truth found={out.stem:<12} pages {len(recalls)}  recall p10 {q[0]:.3f} median "
              f"{statistics.median(recalls):.3f}  unchanged/minor/major/different {share}")


def page_texts(pages: int) -> dict[str, list[tuple[str, str]]]:
    """(title, text) of the benchmark origin's pages: ASCII, typographic and Chinese variants."""
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_origin

    from archive.extract import extract_article

    ascii_pages = []
    for html in bench_origin.page_pool()[:pages]:
        article = extract_article(html)
        ascii_pages.append((article.title or "", "\n".join(article.paragraphs)))
    typo = str.maketrans({"'": "’", ",": ",\u00a0"})
    typographic = [(t, "“" + x.translate(typo).replace(". ", " — ", 3) + "”") for t, x in ascii_pages]
    rng = random.Random(9)
    zh_paras = chinese_paragraphs(rng)
    chinese = [("".join(rng.choice(zh_paras)[:12]), "\n".join(take(zh_paras, rng, len(x.encode()))))
               for _, x in ascii_pages]
    return {"ascii": ascii_pages, "typographic": typographic, "zh": chinese}


def excerpt_cases(texts: list[tuple[str, str]], rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """(excerpt, page text) pairs per kind of excerpt, one per page."""
    out: dict[str, list[tuple[str, str]]] = {"bench corpus (short, absent)": [], "200 ch verbatim": [],
                                              "200 ch one word edited": [], "200 ch other page": []}
    for n, (title, text) in enumerate(texts):
        other = texts[(n + 1) % len(texts)][1]
        start = rng.randrange(len(text) // 2)
        piece = text[start:start + 200]
        out["bench corpus (short, absent)"].append((f"{title or other[:40]} and more.", text))
        out["200 ch verbatim"].append((piece + "…", text))
        out["200 ch one word edited"].append((piece[:100] + "edited" + piece[106:] + "…", text))
        out["200 ch other page"].append((other[start:start + 200] + "…", text))
    return out


def bench_pages(repeat: int, pages: int, parts: set[str]) -> None:
    rng = random.Random(5)
    for variant, texts in page_texts(pages).items():
        size = sum(len(t.encode()) for _, t in texts) // len(texts) // 1000
        if "excerpt" in parts:
            for name, pairs in excerpt_cases(texts, rng).items():
                t = timed(lambda pairs=pairs: [excerpt_contained(e, x) for e, x in pairs], repeat) / len(pairs)
                scores = [excerpt_contained(e, x) for e, x in pairs]
                print(f"excerpt {variant:<11} {name:<29} {t * 1000:7.2f} ms  score median "
                      f"{statistics.median(scores):.3f}  (page text {size} KB)")
        if "title" in parts:
            pairs = [(title, f"{title} | Bench News") for title, _ in texts]
            pairs += [(title, f"{texts[(n + 1) % len(texts)][0]} - Bench News") for n, (title, _) in enumerate(texts)]
            t = timed(lambda pairs=pairs: [compare_title(a, b) for a, b in pairs], repeat) / len(pairs)
            print(f"title   {variant:<11} {'own and other page titles':<29} {t * 1000:7.3f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--parts", default="texts,excerpt,title", help="comma-separated: texts, excerpt, title")
    ap.add_argument("--pages", type=int, default=20, help="benchmark-origin pages for excerpt and title")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if parts & {"excerpt", "title"}:
        bench_pages(args.repeat, args.pages, parts)
    if "texts" not in parts:
        return
    rng = random.Random(6)
    source = "scrapinghub bodies" if SHARED.is_dir() else "synthetic words"
    for lang, paras in (("en", english_paragraphs(rng)), ("zh", chinese_paragraphs(rng))):
        for name, (a, b) in cases(paras, rng, 50_000).items():
            sa, sb = "\n".join(a), "\n".join(b)
            t = timed(lambda sa=sa, sb=sb: compare_texts(sa, sb), args.repeat)
            c = compare_texts(sa, sb)
            print(f"{lang} 50 KB {name:<22} {t * 1000:7.1f} ms  recall {c.recall:.3f}  "
                  f"paragraphs {len(a)}/{len(b)}  ({source if lang == 'en' else 'synthetic Han'})")
    rng = random.Random(7)
    paras = english_paragraphs(rng)
    stored = [paras[i % len(paras)] for i in range(500)]
    other = [paras[(i + 1000) % len(paras)] for i in range(500)]
    edited = [p[: len(p) // 2] + " changed." if i % 5 == 0 else p for i, p in enumerate(stored)]
    for name, b in (("500 paragraphs, 20% edited", edited), ("500 vs 500 unrelated", other)):
        t = timed(lambda b=b: compare_texts(stored, b), args.repeat)
        size = sum(len(p.encode()) for p in stored) // 1000
        print(f"en {name:<30} {t * 1000:7.1f} ms  ({size} KB stored)")
    extractor_agreement()


if __name__ == "__main__":
    main()
