"""archive.elements: one walk of a page finds each element the metadata and the body start from, once."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from archive.elements import PageElements

PAGE = """<html><head><title>First</title><meta property="og:title" content="t">
<link rel="Canonical" href="/c"><link rel="AUTHOR" href="/a">
<script type="application/LD+JSON">{"@type": "NewsArticle"}</script><script>var x;</script>
<script itemprop="name">{"@type": "Thing"}</script><meta itemprop="name" content="n"></head>
<body><h1>Head one</h1><h1>Head two</h1><meta itemprop="datePublished" content="2020-01-02">
<time datetime="2020-01-01">x</time><svg><title>Not first</title></svg>
<nav><p>menu <a href="/m">m</a></p></nav>
<table><tr><td><p>In a cell <a href="/x">one link</a> and <a itemprop="author" href="/author/jo">Jo</a></p></td></tr></table>
<div itemprop="articleBody"><p>text<br>more</p></div><div itemprop="ArticleBody">not a mark</div>
<a rel="author" href="/elsewhere">Outside</a></body></html>"""


def test_each_element_once_by_role_in_document_order() -> None:
    tree = LexborHTMLParser(PAGE)
    found = PageElements(tree)
    assert found.firsts["title"].text() == "First" and found.firsts["h1"].text() == "Head one"
    assert found.firsts["link"].attributes["href"] == "/c"
    assert found.firsts["itemprop-date"].attributes["content"] == "2020-01-02"
    assert [m.attributes.get("property") or m.attributes.get("itemprop") for m in found.metas] == [
        "og:title", "name", "datePublished"]
    assert [s.text() for s in found.scripts] == ['{"@type": "NewsArticle"}']
    assert [t.attributes["datetime"] for t in found.times] == ["2020-01-01"]
    # microdata, rel (any case) and /author/ links; the one in a paragraph in a cell listed once
    assert [a.attributes["href"] for a in found.authors] == ["/a", "/author/jo", "/elsewhere"]
    # links in paragraphs: in a <p> in a <td> once; junk not removed yet, so the nav's link is there
    assert [a.attributes["href"] for a in found.links] == ["/m", "/x", "/author/jo"]
    assert [m.tag for m in found.marks] == ["div"]
    assert [s.tag for s in found.sources] == ["p", "td", "p", "p"]
    assert [b.tag for b in found.breaks] == ["br"]
    assert [j.tag for j in found.junk] == ["svg", "nav"]


def test_a_page_without_head_or_body_elements() -> None:
    found = PageElements(LexborHTMLParser(""))
    assert (found.metas, found.sources, found.junk, found.firsts) == ([], [], [], {})
