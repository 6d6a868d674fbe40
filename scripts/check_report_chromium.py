"""Render a report.html in headless Chromium and fail on any JavaScript error.

Usage::

    python scripts/check_report_chromium.py [REPORT.html] [--screenshot out.png] [--chromium PATH]

Without a report path it writes a demonstration report (every verdict, an
English and a Chinese changed article, hostile titles) into a temporary folder
and checks that. Checks: Chromium exits 0; its console log (``--enable-logging=stderr``)
has no ``Uncaught`` error or console error from the page; the dumped DOM has the tables
and the script ran (it fills the "N of M URLs shown" line); no ``<script>`` from
the data survived unescaped. Debian's package: ``apt-get install -y chromium``.
Exit status 0 when all is well, 1 with the reasons otherwise, 2 when no Chromium is found.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from archive.images import ImageInfo
from archive.report import write_reports
from archive.verdicts import (
    Citation,
    DocumentInput,
    Fetched,
    FoundArticle,
    Snapshot,
    ThresholdValues,
    UrlInput,
    judge_document,
    judge_url,
)

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

EN = ["A new computing centre opened on Monday in the port district, the city government said.",
      "The centre is designed for a peak capacity of several thousand petaflops and will serve universities, "
      "hospitals and small firms that cannot afford machines of their own.",
      "Officials said the project had taken three years to plan and two years to build.",
      "Critics pointed to the electricity the centre will draw in summer.",
      "The operator answered that waste heat would warm nearby offices in winter.",
      "A second phase is planned for the end of next year."]
ZH = ["本市港区的一座新计算中心于周一正式启用，市政府表示，这是该地区规模最大的计算设施之一。",
      "该中心设计的峰值算力达到数千千万亿次，将为大学、医院以及无力自建机房的小企业提供服务。",
      "官员介绍，项目规划用了三年，建设用了两年，运营费用将由区政府和运营方共同承担。",
      "也有人担心夏季用电高峰时电网负荷紧张，要求公开冷却方案和能耗数据。"]
HOSTILE = ("</script><script>alert(1)</script><!-- <img src=x onerror=alert(2)>"
           "</script><script>document.documentElement.setAttribute('data-xss','script')</script>"
           "<img src=x onerror=\"document.documentElement.setAttribute('data-xss','img')\">")
#: the HOSTILE markup marks the document if it ever runs: <html data-xss=...> in the dumped DOM
_RAN = re.compile(r"<[^<>]*\sdata-xss=")


def find_chromium(explicit: str | None = None) -> str | None:
    if explicit:
        return explicit if shutil.which(explicit) or Path(explicit).is_file() else None
    return next((p for p in map(shutil.which, CANDIDATES) if p), None)


def demo_report(folder: Path) -> Path:
    """A report with every kind of row, built through the real deciders."""
    t = ThresholdValues()
    html = "text/html; charset=utf-8"

    def page(paras: list[str], title: str) -> FoundArticle:
        return FoundArticle(title=title, text="\n".join(paras), paragraphs=tuple(paras))

    en_changed = [EN[0], EN[1].replace("several thousand", "four thousand"), EN[3], "A new paragraph was added.",
                  EN[4], EN[5]]
    zh_changed = [ZH[0], ZH[1].replace("数千", "三千"), "新增的一段文字，说明了后续的建设计划。", ZH[3]]
    items = [
        UrlInput("https://news.example.com/en", (Citation("a.txt", "originalUrl", title="Centre opens"),),
                 Fetched("ok", 200, "https://news.example.com/en", (), html,
                         article=page(en_changed, "Centre opens | Example")),
                 Snapshot("b.txt", title="Centre opens", text="\n\n".join(EN))),
        UrlInput("https://finance.example.cn/zh", (Citation("c.txt", "webUrl", title="计算中心启用"),),
                 Fetched("ok", 200, "https://finance.example.cn/zh", (), html,
                         article=page(zh_changed, "计算中心启用_财经")),
                 Snapshot("c.txt", title="计算中心启用", text="\n".join(ZH))),
        UrlInput("https://old.example.org/story", (Citation("a.txt", "related[0].webUrl", title=HOSTILE),),
                 Fetched("ok", 200, "https://example.org/", ("https://example.org/",), html,
                         article=page(EN, HOSTILE))),
        UrlInput("https://gone.example.com/x", (Citation("a.txt", "related[1].webUrl", title="Gone"),),
                 Fetched("http_error", 404)),
        UrlInput("https://img.example.com/a.jpg", (Citation("a.txt", "images[0].url", width=1280, height=720),),
                 Fetched("ok", 200, "https://img.example.com/a.jpg", (), "image/jpeg",
                         image=ImageInfo("image/jpeg", 640, 360))),
        UrlInput("https://img.example.com/b.png", (Citation("c.txt", "headimg", width=550, height=366),),
                 Fetched("ok", 200, None, (), "image/png", image=ImageInfo("image/png", 550, 366))),
        UrlInput("https://blocked.example.com/", (Citation("c.txt", "body.a"),), Fetched("robots_disallowed")),
        UrlInput("https://slow.example.com/", (Citation("c.txt", "body.a"),),
                 Fetched("timeout", detail="no response within 120 s")),
        UrlInput("javascript:alert(3)", (Citation("c.txt", "body.a"),), Fetched("ok", 200)),
        UrlInput("https://later.example.com/", (Citation("c.txt", "body.a"),), None),
    ]
    urls = [judge_url(i, t, min_article_chars=50) for i in items]
    by_url = {v.url: v.verdict for v in urls}
    docs = [judge_document(DocumentInput("a.txt", HOSTILE, "https://news.example.com/en",
                                         tuple(i.url for i in items[:5])), by_url),
            judge_document(DocumentInput("c.txt", "计算中心启用", "https://finance.example.cn/zh",
                                         tuple(i.url for i in items[1:])), by_url),
            judge_document(DocumentInput("d.txt", "No source"), by_url),
            judge_document(DocumentInput("e.bin", problem="not UTF-8 text"), by_url)]
    paths, _ = write_reports(folder, urls, docs, generated=datetime(2024, 5, 1, 12, 0, tzinfo=UTC), partial=True)
    return paths.html


def check(report: Path, chromium: str, screenshot: Path | None = None, timeout: float = 60.0) -> list[str]:
    """Problems found (empty when the page renders cleanly)."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="citecrawl-chromium-") as profile:
        common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-extensions", f"--user-data-dir={profile}",
                  "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000"]
        url = report.resolve().as_uri()
        proc = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            problems.append(f"chromium exited {proc.returncode}: {proc.stderr[-2000:]}")
        for line in proc.stderr.splitlines():
            if "CONSOLE" in line and ("Uncaught" in line or "ERROR" in line or "Error" in line):
                problems.append(f"console: {line.strip()}")
        dom = proc.stdout
        if 'id="urls"' not in dom or 'id="docs"' not in dom:
            problems.append("the tables are missing from the rendered DOM")
        if not re.search(r'id="shown">\d+ of \d+ URLs shown', dom):
            problems.append("the page script did not run (no 'N of M URLs shown')")
        if _RAN.search(dom):
            problems.append("markup from the data ran: the document carries data-xss")
        if "<script>alert(" in dom or "onerror=alert" in dom.replace("&lt;img src=x onerror=alert", ""):
            problems.append("a script from the data survived unescaped")
        if screenshot is not None:
            shot = subprocess.run([*common, "--hide-scrollbars", "--window-size=1400,1600",
                                   f"--screenshot={screenshot.resolve()}", url],
                                  capture_output=True, text=True, timeout=timeout)
            if shot.returncode != 0 or not screenshot.is_file():
                problems.append(f"screenshot failed: {shot.stderr[-1000:]}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("report", nargs="?", type=Path, help="a report.html (default: a demonstration report)")
    ap.add_argument("--screenshot", type=Path, help="also save a PNG screenshot here")
    ap.add_argument("--chromium", help="the browser executable (default: chromium on PATH)")
    ap.add_argument("--keep", type=Path, help="write the demonstration report into this folder")
    args = ap.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("no chromium found (Debian: apt-get install -y chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="citecrawl-report-") as tmp:
        report = args.report or demo_report(args.keep or Path(tmp))
        problems = check(report, chromium, args.screenshot)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{report}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
