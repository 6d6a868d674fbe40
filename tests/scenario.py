"""The end-to-end scenario: a corpus in all three shapes and an origin that serves what it cites.

Every case the archive command must tell apart is here once: an unchanged article,
a changed one, a moved one, a gone one, one too slow for the deadline, one that
robots.txt forbids, an image of the cited size and one resized, and a Chinese page
in GBK with no charset in its HTTP headers. The texts are written for these tests.
"""

from __future__ import annotations

from pathlib import Path

from tests.origin import Origin, Route, png_bytes

__all__ = ["EXPECTED_URL_VERDICTS", "HOSTS", "build_corpus", "build_origin", "url"]

HOSTS = ("news.example.test", "img.example.test", "blog.example.test", "other.example.test",
         "slow.example.test", "cn.example.test")

TIDAL = [
    "The harbour city switched on its first tidal energy park on Monday, ending a decade of planning.",
    "Twelve turbines anchored below the old pier will turn with each tide and feed the municipal grid.",
    "Engineers expect the park to cover the electricity needs of about nine thousand homes each year.",
    "Fishing crews were consulted on the layout so that the channels to the inner harbour stay open.",
]
FERRY = [
    "The council approved a new ferry timetable after three months of public consultation.",
    "From the first of May, boats to the islands will leave every forty minutes instead of every hour.",
    "Night crossings return on Fridays and Saturdays, a change that shop owners had asked for.",
    "The operator said ticket prices would stay the same until at least the end of the year.",
]
#: a small correction, as papers make them: one detail of one paragraph changed
FERRY_NOW = [FERRY[0], FERRY[1].replace("every forty minutes", "every forty-five minutes"), *FERRY[2:]]
MUSEUM = [
    "The maritime museum reopened its doors after a two-year renovation of the east wing.",
    "Visitors can now walk through a restored cargo hold and listen to recorded sailors' songs.",
    "Admission is free for residents on the first Sunday of every month, the director said.",
]
CN = [
    "临港新区的潮汐能发电站于周一正式投入使用，标志着该市清洁能源建设迈出新的一步。",
    "十二台水下涡轮机安装在旧码头下方，随着潮水涨落持续发电，并接入城市电网。",
    "工程师表示，该电站每年可满足约九千户家庭的用电需求。",
]


def url(host: str, path: str) -> str:
    return f"http://{host}{path}"


def _page(title: str, paragraphs: list[str], *, lang: str = "en", charset: str | None = None,
          published: str = "2024-04-02T09:00:00Z") -> str:
    meta = f'<meta charset="{charset}">' if charset else '<meta charset="utf-8">'
    paras = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!doctype html><html lang="{lang}"><head>{meta}<title>{title} | Harbour Times</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}"></head>
<body><nav><a href="/">Home</a> <a href="/city">City</a> <a href="/sport">Sport</a></nav>
<article><h1>{title}</h1>{paras}</article>
<footer>Copyright Harbour Times. All rights reserved. <a href="/privacy">Privacy</a></footer></body></html>"""


def build_origin(origin: Origin) -> Origin:
    news, img, blog, other, slow, cn = HOSTS
    origin.html(news, "/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    origin.html(news, "/tidal.html", _page("Harbour city opens tidal energy park", TIDAL), gzip=True)
    origin.html(news, "/ferry.html", _page("Council approves new ferry timetable", FERRY_NOW))
    origin.html(news, "/private/notes.html", _page("Private notes", TIDAL))
    # /bridge.html is not routed: the origin answers 404
    origin.add(img, "/tidal.png", Route(body=png_bytes(128, 72), headers=[("Content-Type", "image/png")]))
    origin.add(img, "/ferry.png", Route(body=png_bytes(60, 36), headers=[("Content-Type", "image/png")]))
    origin.redirect(blog, "/museum", f"http://{other}:{origin.port}/culture/museum-reopens")
    origin.html(other, "/culture/museum-reopens", _page("Museum reopens after renovation", MUSEUM))
    origin.html(slow, "/market.html", _page("Market hall to close for winter", TIDAL), delay=3.0)
    gbk = _page("临港潮汐能电站投入使用", CN, lang="zh", charset="gbk").encode("gbk")
    origin.add(cn, "/news/1.html", Route(body=gbk, headers=[("Content-Type", "text/html")]))
    origin.add(cn, "/img/head.png", Route(body=png_bytes(55, 36), headers=[("Content-Type", "image/png")]))
    return origin


def build_corpus(root: Path) -> Path:
    news, img, blog, _, slow, cn = HOSTS
    root.mkdir(parents=True, exist_ok=True)
    (root / "000_hub.txt").write_text(f"""---
title: "Harbour city opens tidal energy park"
excerpt: "The harbour city switched on its first tidal energy park on Monday"
publishedDateTime: 2024-04-02T09:00:00Z
originalUrl: "{url(news, '/tidal.html')}"
webUrl: "{url(news, '/tidal.html')}"
images:
  - url: "{url(img, '/tidal.png')}"
    width: 128
    height: 72
related:
  - title: "Council approves new ferry timetable"
    webUrl: "{url(news, '/ferry.html')}"
    images:
      - url: "{url(img, '/ferry.png')}"
        width: 120
        height: 72
  - title: "Museum reopens after renovation"
    webUrl: "{url(blog, '/museum')}"
  - title: "Bridge repairs finish early"
    webUrl: "{url(news, '/bridge.html')}"
  - title: "Market hall to close for winter"
    webUrl: "{url(slow, '/market.html')}"
  - title: "Private notes"
    webUrl: "{url(news, '/private/notes.html')}"
---
""", encoding="utf-8")
    (root / "001_ferry.txt").write_text("Council approves new ferry timetable\n\n" + "\n\n".join(FERRY) + "\n",
                                        encoding="utf-8")
    (root / "002_museum.txt").write_text("Museum reopens after renovation\n\n" + "\n\n".join(MUSEUM) + "\n",
                                         encoding="utf-8")
    body = "\n".join(f"<p>{p}</p>" for p in CN)
    (root / "003_cn.txt").write_text(f"""
---
title: '临港潮汐能电站投入使用'
originalUrl: '{url(cn, '/news/1.html')}'
headimg: '{url(cn, '/img/head.png')}'
date: Tue, 02 Apr 2024 09:00:00 GMT
---

<div>{body}<div class="img_wrapper"><img src="{url(cn, '/img/head.png')}"></div>
<script>var tracking = 1;</script><!-- editor note --></div>
""", encoding="utf-8")
    (root / "004_orphan.txt").write_text("A title nobody cites\n\nSome text that was stored without its source.\n",
                                         encoding="utf-8")
    return root


#: what the archive command must say of each cited URL
EXPECTED_URL_VERDICTS = {
    url("news.example.test", "/tidal.html"): "unchanged",
    url("img.example.test", "/tidal.png"): "image_ok",
    url("news.example.test", "/ferry.html"): "minor_changes",
    url("img.example.test", "/ferry.png"): "image_changed",
    url("blog.example.test", "/museum"): "moved",
    url("news.example.test", "/bridge.html"): "gone",
    url("slow.example.test", "/market.html"): "unreachable",
    url("news.example.test", "/private/notes.html"): "blocked",
    url("cn.example.test", "/news/1.html"): "unchanged",
    url("cn.example.test", "/img/head.png"): "image_ok",
}
