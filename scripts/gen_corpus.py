#!/usr/bin/env python3
"""Generate a synthetic corpus of N snapshot documents in the three shapes, reproducibly (seeded).

The mix follows the seeds: YAML front matter only (with originalUrl/webUrl, images, related
articles), plain text (some titled like a related article elsewhere so title linking has work
to do, some with full URLs in the text, some with bare domains), and front matter + HTML body
(head image, body images, links, scripts, styles, comments). Related articles and images are
drawn from shared pools, so the same URL is cited by many documents as in a real corpus. A small
share of files is bad on purpose (binary, broken YAML, empty, GBK-encoded).

Files go into two levels of folders (``00/17/doc-0001734.txt``) so no folder holds more than a
few hundred entries. Nothing here is imported by the packages.

    python scripts/gen_corpus.py /tmp/corpus-100k -n 100000 --seed 1
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

_WORDS_TEXT = ("harbour data centre computing power grid river city council budget research model chip "
                "factory port bridge climate school hospital railway market energy solar wind water farm "
                "network satellite museum archive library election court policy trade export festival "
                "storm flood drought museum university startup robot vaccine clinic tunnel airport")
WORDS = tuple(_WORDS_TEXT.split())
HANZI = "临港新片区计算中心人工智能上海发展企业服务城市科技创新数据平台建设运营研究产业经济交通医疗能源"
HOSTS = ("news.example.org", "daily.example.net", "www.example.com", "wire.example.info", "finance.example.cn")
IMG_HOSTS = ("img.example.org", "cdn.example.net", "n.example.cn")


def sentence(rng: random.Random, lo: int = 8, hi: int = 20) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    return " ".join(words).capitalize() + "."


def title(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 9))).capitalize()


def hanzi(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(HANZI) for _ in range(n))


class Pools:
    """Articles and images cited by more than one document."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.articles = [(title(rng), f"https://{rng.choice(HOSTS)}/a/{i:07d}/{rng.randrange(10**6)}.html")
                         for i in range(size)]
        self.images = [f"https://{rng.choice(IMG_HOSTS)}/i/{i:07d}.jpg" for i in range(size)]


def front_matter(rng: random.Random, i: int, pools: Pools, *, with_related: bool = True) -> list[str]:
    url = f"https://{rng.choice(HOSTS)}/news/{i:07d}/story.html"
    lines = ["---", "category: news", f'title: "{title(rng)}"', f'excerpt: "{sentence(rng)}"',
             f"publishedDateTime: 20{rng.randint(10, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00Z",
             f'originalUrl: "{url}"', f'webUrl: "{url}"', "provider:", "  name: Example", "  domain: example.org",
             "images:"]
    for _ in range(rng.randint(1, 2)):
        lines += [f'  - url: "{rng.choice(pools.images)}"', "    width: 1280", "    height: 720"]
    if with_related:
        lines.append("related:")
        for _ in range(rng.randint(1, 3)):
            rel_title, rel_url = rng.choice(pools.articles)
            lines += [f'  - title: "{rel_title}"', f'    excerpt: "{sentence(rng)}"', f'    webUrl: "{rel_url}"',
                      "    images:", f'      - url: "{rng.choice(pools.images)}"', "        width: 800",
                      "        height: 600"]
    lines += [f'secured: "{rng.randbytes(48).hex()}"', "---", ""]
    return lines


def text_doc(rng: random.Random, pools: Pools) -> str:
    head = rng.choice(pools.articles)[0] if rng.random() < 0.5 else title(rng)
    paras = [" ".join(sentence(rng) for _ in range(rng.randint(2, 5))) for _ in range(rng.randint(4, 10))]
    if rng.random() < 0.3:
        paras.append(f"Source: {rng.choice(pools.articles)[1]}, see also {rng.choice(HOSTS)}.")
    return head + "\n\n" + "\n\n".join(paras) + "\n"


def html_doc(rng: random.Random, i: int, pools: Pools) -> str:
    fm = front_matter(rng, i, pools, with_related=False)
    img = rng.choice(pools.images)
    fm = [line for line in fm if not line.startswith(("originalUrl", "webUrl"))]
    fm.insert(3, f"headimg: '{img}'")
    body = ["<div>"]
    for k in range(rng.randint(3, 8)):
        body.append(f"<p>　　{hanzi(rng, rng.randint(30, 90))}<a href=\"https://{rng.choice(HOSTS)}/q/{k}\">"
                    f"{hanzi(rng, 4)}</a>。</p>")
        if rng.random() < 0.6:
            body.append(f'<div class="img_wrapper"><img src="{rng.choice(pools.images)}" alt></div>')
    body += ["<!-- 模板 -->", "<script>var t = 1;</script>", "<style>.a{color:red}</style>", "</div>"]
    return "\n".join(fm) + "\n".join(body) + "\n"


def bad_doc(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return b"\x89PNG\r\n\x1a\n\x00\x00" + rng.randbytes(200)
    if kind == 1:
        return b"---\ntitle: [never closed\n---\n"
    if kind == 2:
        return b""
    return (hanzi(rng, 20) + "\n" + hanzi(rng, 200)).encode("gbk")


def generate(out: Path, n: int, *, seed: int, bad_share: float = 0.005) -> None:
    rng = random.Random(seed)
    pools = Pools(rng, max(10, n // 4))
    for i in range(n):
        folder = out / f"{i // 10000:02d}" / f"{i // 100 % 100:02d}"
        if i % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        roll = rng.random()
        path = folder / f"doc-{i:07d}.txt"
        if roll < bad_share:
            path.write_bytes(bad_doc(rng))
        elif roll < 0.40:
            path.write_text("\n".join(front_matter(rng, i, pools)), encoding="utf-8")
        elif roll < 0.75:
            path.write_text(text_doc(rng, pools), encoding="utf-8")
        else:
            path.write_text(("\n" if rng.random() < 0.3 else "") + html_doc(rng, i, pools), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="folder to write into (created; must be empty or absent)")
    parser.add_argument("-n", type=int, default=1000, help="number of documents (default 1000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"{args.out} is not empty; refusing to mix corpora", file=sys.stderr)
        return 2
    started = time.perf_counter()
    generate(args.out, args.n, seed=args.seed)
    print(f"wrote {args.n} documents to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
