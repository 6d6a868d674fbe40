"""``report.html``: one static, self-contained page a person can open from the collection folder.

No network: inline CSS and a little inline JavaScript (sort by a column, filter by
verdict or text), and a Content-Security-Policy that forbids loading anything,
so even a mistake in escaping could not fetch or run outside code. Everything
that comes from pages or the corpus (titles, URLs, paragraphs, notes) goes
through :func:`html.escape`; the run summary is embedded as JSON for tools in a
``<script type="application/json" id="citecrawl-run">`` block, escaped by
:func:`script_json` so no ``</script>`` or ``<!--`` in the data can end it. Links
are made only for http(s) URLs (a ``javascript:`` URL in a corpus stays text).

For each changed article the page shows a side-by-side paragraph diff: stored
paragraph on the left, the page's on the right; removed in red, added in green,
changed paragraphs with their differing words marked; runs of kept paragraphs
are folded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from archive.summary import Summary, run_record
from archive.textnorm import CJK_RANGES
from archive.verdicts import DocumentVerdict, UrlVerdict, Verdict, needs_attention

if TYPE_CHECKING:
    from archive.align import ParagraphChange

__all__ = [
    "CHANGED_HEADING",
    "NO_CHANGE",
    "diff_section",
    "doc_row",
    "html_documents_head",
    "html_head",
    "html_tail",
    "iter_html",
    "render_html",
    "script_json",
    "url_row",
    "word_diff",
]

#: verdicts whose articles get a side-by-side diff
DIFFED = frozenset({Verdict.MINOR_CHANGES, Verdict.MAJOR_CHANGES, Verdict.DIFFERENT_PAGE, Verdict.MOVED})

_TONE = {
    Verdict.UNCHANGED: "ok", Verdict.IMAGE_OK: "ok", Verdict.FETCHED: "ok",
    Verdict.MINOR_CHANGES: "minor",
    Verdict.MAJOR_CHANGES: "bad", Verdict.DIFFERENT_PAGE: "bad", Verdict.MOVED: "bad", Verdict.GONE: "bad",
    Verdict.IMAGE_CHANGED: "bad", Verdict.NOT_AN_IMAGE: "bad",
    Verdict.BLOCKED: "warn", Verdict.UNREACHABLE: "warn", Verdict.NOT_AN_ARTICLE: "warn",
    Verdict.ERROR: "warn", Verdict.UNREADABLE: "warn",
}
_KEPT_RUN = 3   # fold runs of kept paragraphs longer than this


def script_json(value: Any) -> str:
    """JSON safe inside ``<script>``: ``<``, ``>``, ``&`` and line separators as ``\\u`` escapes.

    >>> script_json({"t": "</script><!--"})
    '{"t": "\\\\u003c/script\\\\u003e\\\\u003c!--"}'
    """
    text = json.dumps(value, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _link(url: str | None, text: str | None = None) -> str:
    if not url:
        return ""
    label = _e(text if text is not None else url)
    if re.match(r"(?i)^https?://", url):
        return f'<a href="{_e(url)}" rel="noreferrer noopener" target="_blank">{label}</a>'
    return label


def _score(x: float | None) -> tuple[str, str]:
    """(display, sort key) for a 0..1 score; missing scores sort first."""
    return ("", "-1") if x is None else (f"{x:.2f}", f"{x:.4f}")


def _badge(verdict: Verdict | str) -> str:
    v = Verdict(verdict)
    return f'<span class="v {_TONE.get(v, "neutral")}">{_e(v.value.replace("_", " "))}</span>'


_UNITS = re.compile(f"[{CJK_RANGES}]|[^\\s{CJK_RANGES}]+\\s*|\\s+")


def word_diff(old: str, new: str) -> tuple[str, str]:
    """Escaped HTML of both paragraphs with the differing words in ``<del>`` / ``<ins>``.

    Words for alphabetic scripts, characters for CJK (the units of the comparison).

    >>> word_diff("the cat sat", "the dog sat")
    ('the <del>cat </del>sat', 'the <ins>dog </ins>sat')
    >>> word_diff("<b>", "<i>")
    ('<del>&lt;b&gt;</del>', '<ins>&lt;i&gt;</ins>')
    """
    from rapidfuzz.distance import Indel  # only a changed paragraph needs it: not at import (~15 ms)

    a, b = _UNITS.findall(old), _UNITS.findall(new)
    left: list[str] = []
    right: list[str] = []
    for op in Indel.opcodes([u.strip().casefold() for u in a], [u.strip().casefold() for u in b]):
        sa, sb = _e("".join(a[op.src_start:op.src_end])), _e("".join(b[op.dest_start:op.dest_end]))
        if op.tag == "equal":
            left.append(sa)
            right.append(sb)
        else:
            if sa:
                left.append(f"<del>{sa}</del>")
            if sb:
                right.append(f"<ins>{sb}</ins>")
    return "".join(left), "".join(right)


def _diff_rows(changes: Sequence[ParagraphChange]) -> str:
    rows: list[str] = []
    i = 0
    while i < len(changes):
        c = changes[i]
        if c.kind == "kept" and not c.moved:
            j = i
            while j < len(changes) and changes[j].kind == "kept" and not changes[j].moved:
                j += 1
            if j - i > _KEPT_RUN:
                rows.append(f'<tr class="fold"><td colspan="2">… {j - i} paragraphs unchanged …</td></tr>')
                i = j
                continue
        moved = ' <span class="moved">moved</span>' if c.moved else ""
        if c.kind == "kept":
            rows.append(f'<tr class="kept"><td>{_e(c.stored)}{moved}</td><td>{_e(c.found)}</td></tr>')
        elif c.kind == "changed":
            left, right = word_diff(c.stored or "", c.found or "")
            rows.append(f'<tr class="changed"><td>{left}{moved}</td><td>{right}'
                        f' <span class="sim">{c.similarity:.0%}</span></td></tr>')
        elif c.kind == "removed":
            rows.append(f'<tr class="removed"><td>{_e(c.stored)}</td><td></td></tr>')
        else:
            rows.append(f'<tr class="added"><td></td><td>{_e(c.found)}</td></tr>')
        i += 1
    return "\n".join(rows)


def _url_row(n: int, v: UrlVerdict, attention: bool) -> str:
    e = v.evidence
    recall, recall_key = _score(e.recall)
    title, title_key = _score(e.title_similarity)
    evidence = list(e.notes)
    if e.final_url and e.final_url != v.url:
        evidence.append(f"→ {e.final_url}")
    if e.content_verdict:
        evidence.append(f"content: {e.content_verdict.value.replace('_', ' ')}")
    if e.image and e.image.size:
        sizes = ", ".join(f"{w}×{h}" for w, h in e.cited_sizes)
        evidence.append(f"{e.image.width}×{e.image.height}" + (f" (cited {sizes})" if sizes else ""))
    if e.detail:
        evidence.append(e.detail)
    diff = f' <a class="difflink" href="#diff-{n}">diff</a>' if v.comparison is not None and v.verdict in DIFFED else ""
    flag = ' <span class="att" title="needs a person">●</span>' if attention else ""
    docs = ", ".join(v.documents)
    return (f'<tr data-verdict="{_e(v.verdict.value)}"><td data-sort="{_e(v.verdict.value)}">{_badge(v.verdict)}{flag}</td>'
            f"<td>{_e(v.kind)}</td><td class=\"url\">{_link(v.url)}{diff}</td>"
            f'<td data-sort="{e.status or 0}">{_e(e.status or e.outcome or "")}</td>'
            f'<td data-sort="{recall_key}">{recall}</td><td data-sort="{title_key}">{title}</td>'
            f"<td>{_e(docs)}</td><td class=\"ev\">{'<br>'.join(_e(x) for x in evidence)}</td></tr>")


def _doc_row(d: DocumentVerdict) -> str:
    others = ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in d.url_counts.items())
    return (f'<tr data-verdict="{_e(d.verdict.value)}"><td data-sort="{_e(d.verdict.value)}">{_badge(d.verdict)}</td>'
            f"<td>{_e(d.document)}</td><td>{_e(d.title)}</td><td class=\"url\">{_link(d.source_url)}</td>"
            f"<td>{_e(others)}{(' — ' + _e(d.detail)) if d.detail else ''}</td></tr>")


def _diff_section(n: int, v: UrlVerdict) -> str:
    assert v.comparison is not None
    e, c = v.evidence, v.comparison.counts()
    stats = (f"recall {e.recall or 0:.2f} · precision {e.precision or 0:.2f} · similarity {e.similarity or 0:.2f}"
             f" · kept {c['kept']} · changed {c['changed']} · removed {c['removed']} · added {c['added']}"
             f" · moved {c['moved']}")
    docs = v.snapshot or ", ".join(v.documents)
    return (f'<section class="diff" id="diff-{n}"><h3>{_badge(v.verdict)} {_link(v.url)}</h3>'
            f'<p class="stats">{_e(stats)}</p>'
            f'<table class="sbs"><thead><tr><th>Stored ({_e(docs)})</th><th>Page now</th></tr></thead>'
            f"<tbody>\n{_diff_rows(v.comparison.paragraphs)}\n</tbody></table></section>")


def _cards(counts: Mapping[str, int], what: str) -> str:
    cards = "".join(f'<button class="card {_TONE.get(Verdict(v), "neutral")}" data-filter="{_e(v)}" '
                    f'data-table="{what}"><b>{n}</b>{_e(v.replace("_", " "))}</button>'
                    for v, n in counts.items())
    return f'<div class="cards">{cards}</div>'


def render_html(summary: Summary, urls: Sequence[UrlVerdict], documents: Sequence[DocumentVerdict],
                *, previous: Mapping[str, Verdict] | None = None) -> str:
    """The whole page as a string (tests, small reports); :func:`iter_html` streams it."""
    return "".join(iter_html(summary, urls, documents, previous=previous))


def iter_html(summary: Summary, urls: Sequence[UrlVerdict], documents: Sequence[DocumentVerdict],
              *, previous: Mapping[str, Verdict] | None = None) -> Iterator[str]:
    """The page in pieces, a row at a time, from verdicts in memory.

    A run does not hold its verdicts: :mod:`archive.report_spool` writes the same
    pieces (:func:`html_head`, :func:`url_row`, …) to a spool as URLs are judged.
    """
    prev = previous or {}
    yield html_head(summary)
    for n, v in enumerate(urls):
        yield url_row(n, v, attention=needs_attention(v.verdict, prev.get(v.url)))
    yield html_documents_head(summary)
    for d in documents:
        yield doc_row(d)
    yield CHANGED_HEADING
    any_diff = False
    for n, v in enumerate(urls):
        if section := diff_section(n, v):
            any_diff = True
            yield section
    if not any_diff:
        yield NO_CHANGE
    yield html_tail(summary)


def html_head(summary: Summary) -> str:
    """Everything before the first URL row: title, partial banner, counts, the URL table's head."""
    banner = ('<p class="partial">Partial report: the run was interrupted. URLs marked “pending” were not '
              "fetched yet.</p>") if summary.partial else ""
    title = f"citecrawl report — {summary.generated:%Y-%m-%d %H:%M}" + (" (partial)" if summary.partial else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style></head>
<body>
<h1>{_e(title)}</h1>
{banner}
<p class="lead">{summary.urls} cited URLs in {summary.documents} documents · <b>{summary.attention}</b> need a person ·
generated {_e(summary.generated.isoformat(timespec="seconds"))}</p>
<h2>URLs</h2>
{_cards(summary.url_verdicts, "urls")}
<p class="tools"><input id="q" type="search" placeholder="Filter by text (URL, document, note)…" aria-label="filter">
<button id="clear">Show all</button> <span id="shown"></span></p>
<table id="urls" class="sortable"><thead><tr><th>Verdict</th><th>Kind</th><th>URL</th><th>Status</th>
<th>Recall</th><th>Title</th><th>Documents</th><th>Evidence</th></tr></thead>
<tbody>
"""


def url_row(n: int, v: UrlVerdict, *, attention: bool) -> str:
    """The ``n``-th URL's row (``n`` also names its diff section), with its line end."""
    return _url_row(n, v, attention) + "\n"


def html_documents_head(summary: Summary) -> str:
    """Between the last URL row and the first document row."""
    return f"""</tbody></table>
<h2>Documents</h2>
{_cards(summary.document_verdicts, "docs")}
<table id="docs" class="sortable"><thead><tr><th>Verdict</th><th>Document</th><th>Title</th><th>Source</th>
<th>Other URLs</th></tr></thead>
<tbody>
"""


def doc_row(d: DocumentVerdict) -> str:
    return _doc_row(d) + "\n"


#: after the last document row, before the diff sections
CHANGED_HEADING = "</tbody></table>\n<h2>Changed articles</h2>\n"
#: in place of the diff sections when there are none
NO_CHANGE = '<p class="lead">No article changed.</p>\n'


def diff_section(n: int, v: UrlVerdict) -> str:
    """The side-by-side diff of the ``n``-th URL, or ``""`` when its verdict gets none."""
    if v.comparison is None or v.verdict not in DIFFED:
        return ""
    return _diff_section(n, v) + "\n"


def html_tail(summary: Summary) -> str:
    """The end of the page: the run record for tools, and the script."""
    return f"""<script type="application/json" id="citecrawl-run">{script_json(run_record(summary))}</script>
<script>{_JS}</script>
</body></html>
"""


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif;
margin:1.5em auto;max-width:1400px;padding:0 1em;color:#1d1d1f;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1.05em}
.lead{color:#444}.partial{background:#fff4d6;border:1px solid #e0b000;padding:.6em 1em;border-radius:6px}
.cards{display:flex;flex-wrap:wrap;gap:.5em;margin:.6em 0}
.card{border:1px solid #ccc;border-radius:8px;padding:.4em .8em;background:#fafafa;cursor:pointer;font:inherit}
.card b{font-size:1.3em;margin-right:.4em}.card.active{outline:2px solid #0a58ca}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border-bottom:1px solid #e6e6e6;padding:.35em .5em;
text-align:left;vertical-align:top}th{background:#f3f3f3;position:sticky;top:0}
.sortable th{cursor:pointer;user-select:none}.sortable th[aria-sort=ascending]::after{content:" ▲"}
.sortable th[aria-sort=descending]::after{content:" ▼"}
td.url{word-break:break-all;max-width:34em}td.ev{color:#444;font-size:.92em;max-width:26em;word-break:break-word}
.v{display:inline-block;border-radius:4px;padding:0 .45em;font-size:.9em;white-space:nowrap}
.ok{background:#e3f5e6;color:#13651f}.minor{background:#fff4d6;color:#7a5800}.bad{background:#fde2e1;color:#a4161a}
.warn{background:#ececf5;color:#3d3d8f}.neutral{background:#eee;color:#555}
.att{color:#c1121f}.tools input{width:24em;padding:.3em}.difflink{font-size:.85em;margin-left:.4em}
.sbs{table-layout:fixed}.sbs td{width:50%;white-space:pre-wrap;word-wrap:break-word}
.sbs tr.removed td:first-child{background:#fde2e1}.sbs tr.added td:last-child{background:#e3f5e6}
.sbs tr.changed td{background:#fffaeb}.sbs tr.kept td{color:#666}.sbs tr.fold td{text-align:center;color:#888;
background:#f7f7f7;font-style:italic}del{background:#f8b4b4;text-decoration:line-through}
ins{background:#b7e4c0;text-decoration:none}.sim,.moved{font-size:.8em;color:#666;border:1px solid #ccc;
border-radius:3px;padding:0 .3em}.stats{color:#555;font-size:.9em}
"""

_JS = """
(function () {
  "use strict";
  var run = JSON.parse(document.getElementById("citecrawl-run").textContent);
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim().toLowerCase() : v;
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]), nx = parseFloat(x), ny = parseFloat(y);
          var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
          return asc ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  var q = document.getElementById("q"), shown = document.getElementById("shown"), active = {urls: "", docs: ""};
  function apply() {
    var text = q.value.trim().toLowerCase(), visible = 0;
    ["urls", "docs"].forEach(function (id) {
      Array.prototype.forEach.call(document.getElementById(id).tBodies[0].rows, function (row) {
        var ok = (!active[id] || row.getAttribute("data-verdict") === active[id]) &&
                 (!text || row.textContent.toLowerCase().indexOf(text) >= 0);
        row.hidden = !ok;
        if (ok && id === "urls") { visible += 1; }
      });
    });
    shown.textContent = visible + " of " + run.urls + " URLs shown" + (run.partial ? " (partial run)" : "");
  }
  Array.prototype.forEach.call(document.querySelectorAll(".card"), function (card) {
    card.addEventListener("click", function () {
      var t = card.getAttribute("data-table"), v = card.getAttribute("data-filter");
      active[t] = active[t] === v ? "" : v;
      Array.prototype.forEach.call(document.querySelectorAll('.card[data-table="' + t + '"]'), function (c) {
        c.classList.toggle("active", c.getAttribute("data-filter") === active[t]);
      });
      apply();
    });
  });
  q.addEventListener("input", apply);
  document.getElementById("clear").addEventListener("click", function () {
    q.value = ""; active = {urls: "", docs: ""};
    Array.prototype.forEach.call(document.querySelectorAll(".card"), function (c) { c.classList.remove("active"); });
    apply();
  });
  apply();
}());
"""
