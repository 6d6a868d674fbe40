"""Article extraction on small hand-written pages: each signal, each failure mode."""

from __future__ import annotations

import doctest
import json

import pytest

import archive.boilerplate
import archive.metadata
from archive.article import Article
from archive.extract import _dedupe, extract_article

LOREM = ("The council voted on Tuesday to approve the new budget, which raises spending on schools, "
         "roads and public transport by a combined four percent over last year. ")
CJK_PARA = "国务院总理朱镕基今天在上海考察了浦东新区的建设情况，并与当地干部群众进行了座谈。他强调，要继续深化改革，扩大开放。"


def page(body: str, head: str = "", lang: str = "en") -> str:
    return f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


def chrome(article: str) -> str:
    """A typical news page around an article: menus, share bar, related list, cookie banner, comments."""
    return page(f"""
      <header class="site-header"><a href="/">The Daily Planet</a>
        <ul class="menu"><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></header>
      <nav><a href="/a">World</a> <a href="/b">Politics</a></nav>
      <div id="cookie-consent">We use cookies to improve your experience. Accept all cookies or manage settings.</div>
      <main>{article}
        <div class="share-bar"><a href="#">Share on Facebook</a> <a href="#">Tweet</a></div>
        <aside class="related-stories"><h3>Related</h3><ul>
          <li><a href="/x">Mayor opens new bridge after years of delays and disputes over cost</a></li>
          <li><a href="/y">School results improve for the third year in a row across the city</a></li></ul></aside>
      </main>
      <section id="comments"><div class="comment"><p>{"I completely disagree with this decision, it is a waste of money. " * 2}</p></div></section>
      <footer class="site-footer"><p>© 2019 The Daily Planet. All rights reserved.</p></footer>
    """, head="<title>Council approves budget | The Daily Planet</title>"
             "<meta property='og:site_name' content='The Daily Planet'>")


def test_doctests() -> None:
    for module in (archive.boilerplate, archive.metadata):
        assert doctest.testmod(module).failed == 0


def test_article_inside_chrome() -> None:
    art = extract_article(chrome(f"<article><h1>Council approves budget</h1><p>{LOREM}</p>"
                                 f"<h2>What changes</h2><p>{LOREM * 2}</p><p>{LOREM}</p></article>"))
    assert art.title == "Council approves budget"
    assert art.paragraphs[0] == LOREM.strip()
    assert "What changes" in art.paragraphs
    for junk in ("cookies", "Share on Facebook", "Mayor opens", "disagree", "All rights reserved", "Sport"):
        assert junk not in art.text, junk
    assert art.text == "\n\n".join(art.paragraphs)
    assert art.body_source == "dom" and art.is_article()


def test_inline_markup_does_not_split_paragraphs() -> None:
    art = extract_article(page(f"<div class='story'><p>{LOREM}<a href='/x'>linked words</a> and <b>bold</b>, "
                               f"<em>emphasis</em>.</p><p>{LOREM}</p></div>"))
    assert art.paragraphs[0].endswith("linked words and bold, emphasis.")


def test_comments_inside_a_paragraph_do_not_split_it() -> None:
    # React pages print <!-- --> between the runs of text of one paragraph
    html = (f"<html><body><article><p>But just because no one <!-- -->ran on impeachment<!-- --> doesn't "
            f"mean it was not in the air. {LOREM}</p><p>{LOREM}</p></article></body></html>")
    art = extract_article(html)
    assert art.paragraphs[0].startswith("But just because no one ran on impeachment doesn't mean")
    assert len(art.paragraphs) == 2


def test_br_separated_text_in_a_div() -> None:
    body = "<div class='content'>" + "<br><br>".join([LOREM] * 4) + "</div><div class='sidebar'><a href='#'>x</a></div>"
    art = extract_article(page(body))
    assert len(art.paragraphs) == 4 and all(p == LOREM.strip() for p in art.paragraphs)


def test_itemprop_article_body_wins() -> None:
    body = (f"<div><div itemprop='articleBody'><p>{LOREM}</p><p>{LOREM}</p></div>"
            f"<div class='teasers'><p>{'Other story teaser text that is long enough to count, with commas, and more. ' * 3}</p></div></div>")
    art = extract_article(page(body))
    assert "teaser" not in art.text and LOREM.strip() in art.text


def test_json_ld_metadata_and_body_fallback() -> None:
    ld = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "Planet"},
        {"@type": "NewsArticle", "headline": "Budget approved", "datePublished": "2019-11-19T10:00:00Z",
         "dateModified": "2019-11-20", "author": [{"@type": "Person", "name": "Jane Doe"}, {"name": "John Roe"}],
         "publisher": {"@type": "Organization", "name": "Planet"}, "image": {"url": "/img/lead.jpg"},
         "articleBody": f"{LOREM}\n{LOREM}\n{LOREM}"}]}
    html = page("<div id='app'>Loading…</div>",
                head=f"<script type='application/ld+json'>{json.dumps(ld)}</script>")
    art = extract_article(html, url="https://planet.example/news/1")
    assert art.body_source == "json-ld" and len(art.paragraphs) == 3
    assert art.title == "Budget approved"
    assert art.published == "2019-11-19T10:00:00+00:00" and art.modified == "2019-11-20"
    assert art.authors == ("Jane Doe", "John Roe")
    assert art.site_name == "Planet" and art.lead_image == "https://planet.example/img/lead.jpg"


def test_json_ld_body_clearly_longer_than_the_markup_wins() -> None:
    """The markup shows part of the article (the rest loads later); the JSON-LD body holds it all."""
    shown = [f"{LOREM}Part {i} of the story." for i in range(6)]
    full = [*shown, *(f"{LOREM}Later part {i}, loaded on scroll." for i in range(4))]
    ld = {"@type": "NewsArticle", "headline": "Budget approved", "articleBody": "\n".join(full)}
    html = page("<article>" + "".join(f"<p>{t}</p>" for t in shown) + "</article>",
                head=f"<script type='application/ld+json'>{json.dumps(ld)}</script>")
    art = extract_article(html)
    assert art.body_source == "json-ld" and art.paragraphs == tuple(t.strip() for t in full)
    ld["articleBody"] = "\n".join([*shown, full[6]])  # a little more than the markup: markup kept
    html = page("<article>" + "".join(f"<p>{t}</p>" for t in shown) + "</article>",
                head=f"<script type='application/ld+json'>{json.dumps(ld)}</script>")
    assert extract_article(html).body_source == "dom"


def test_open_graph_and_markup_metadata() -> None:
    head = ("<title>Storm hits coast - Daily Planet</title><meta property='og:title' content='Storm hits coast'>"
            "<meta property='article:published_time' content='2020-02-03T04:05:06+01:00'>"
            "<meta name='author' content='By Ann Smith and Bob Jones'><link rel='canonical' href='/storm'>"
            "<meta property='og:image' content='https://cdn.example/a.jpg'>"
            "<meta name='description' content='A storm.'>")
    art = extract_article(page(f"<article><p>{LOREM}</p></article>", head=head, lang="en_GB"),
                          url="https://planet.example/x?y=1")
    assert art.title == "Storm hits coast"
    assert art.published == "2020-02-03T04:05:06+01:00"
    assert art.authors == ("Ann Smith", "Bob Jones")
    assert art.canonical_url == "https://planet.example/storm"
    assert art.language == "en-GB" and art.description == "A storm."


def test_links_absolute_already_are_kept_and_a_malformed_one_does_not_crash() -> None:
    head = ("<link rel='canonical' href='https://planet.example/storm?id=7'>"
            "<meta property='og:image' content='https://cdn.example/a.jpg?'>")
    art = extract_article(page(f"<article><p>{LOREM}</p></article>", head=head), url="http://planet.example/x")
    # as urljoin gives them: the canonical link unchanged, the image without its empty query
    assert art.canonical_url == "https://planet.example/storm?id=7" and art.lead_image == "https://cdn.example/a.jpg"
    # urljoin raises on a bracketed host that is no IPv6 address: the page still extracts
    head = "<link rel='canonical' href='http://[storm/x'><meta property='og:image' content='a.jpg'>"
    art = extract_article(page(f"<article><p>{LOREM}</p></article>", head=head), url="https://planet.example/x")
    assert art.canonical_url == "http://[storm/x" and art.lead_image == "a.jpg" and art.paragraphs


def test_time_element_and_url_date() -> None:
    art = extract_article(page(f"<article><time datetime='2018-05-06'>6 May</time><p>{LOREM}</p></article>"))
    assert art.published == "2018-05-06"
    art = extract_article(page(f"<p>{LOREM}</p>"), url="https://x.example/2017/03/04/story.html")
    assert art.published == "2017-03-04"


def test_title_site_suffix_removed_by_host() -> None:
    art = extract_article(page(f"<p>{LOREM}</p>", head="<title>Big news today | Planet News</title>"),
                          url="https://www.planetnews.com/a")
    assert art.title == "Big news today"


def test_cjk_article() -> None:
    body = ("<div class='nav'><a href='/'>首页</a><a href='/n'>新闻</a></div>"
            "<div class='article'><h1>朱镕基考察上海</h1>" + f"<p>{CJK_PARA}</p>" * 3 + "</div>"
            "<div class='links'><a href='/1'>相关新闻一</a><a href='/2'>相关新闻二</a></div>")
    art = extract_article(page(body, head="<title>朱镕基考察上海_新闻中心</title>", lang=""))
    assert art.paragraphs == (CJK_PARA,) * 3
    assert art.language == "zh"


def test_gbk_page_without_headers() -> None:
    html = ("<html><head><title>朱镕基考察上海</title></head><body><div class='content'>"
            + f"<p>{CJK_PARA}</p>" * 3 + "</div></body></html>")
    art = extract_article(html.encode("gbk"))
    assert art.paragraphs == (CJK_PARA,) * 3 and art.encoding == "gb18030" and art.title == "朱镕基考察上海"


def test_wrong_declared_charset() -> None:
    html = f"<html><head><meta charset='utf-8'></head><body><article><p>{CJK_PARA}</p></article></body></html>"
    art = extract_article(html.encode("gb18030"))
    assert art.paragraphs == (CJK_PARA,) and art.encoding_source == "detected"


def test_http_content_type_charset_is_used() -> None:
    text = "Ceci est un article très intéressant sur la politique française, écrit à Paris, déjà lu. " * 3
    art = extract_article(page(f"<article><p>{text}</p></article>").replace("utf-8", "x").encode("cp1252"),
                          content_type="text/html; charset=iso-8859-1")
    assert art.paragraphs == (text.strip(),) and art.encoding_source == "http"


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"])
def test_utf8_bytes_read_as_their_text(prefix: bytes) -> None:
    """Valid UTF-8 bytes go to the parser as they are (no str round trip): same article as the text."""
    html = page(f"<article><h1>Zürich: {CJK_PARA[:8]}</h1><p>Café crème — {LOREM}</p><p>{CJK_PARA}</p></article>",
                head="<title>Zürich café</title>")
    from_bytes, from_text = extract_article(prefix + html.encode()), extract_article(html)
    assert from_bytes.paragraphs == from_text.paragraphs and from_bytes.title == from_text.title == "Zürich café"
    assert from_bytes.encoding == "utf-8" and not from_bytes.text.startswith("\ufeff")


def test_invalid_utf8_is_replaced_not_dropped() -> None:
    """Bytes that are not valid UTF-8 in a UTF-8 page still take the decoding path (U+FFFD)."""
    html = page(f"<article><p>Broken \xff byte here. {LOREM}</p></article>").encode("latin-1").replace(
        b"\xff", b"\xc3\x28")
    art = extract_article(html, content_type="text/html; charset=utf-8")
    assert art.paragraphs and "\ufffd(" in art.text and LOREM.strip() in art.text


@pytest.mark.parametrize("html", ["", b"", "   ", "<html></html>", b"\x00\xff\xfe garbage \x00",
                                  "<p>short</p>", "<html><body><nav><a href='/'>Home</a></nav></body></html>"])
def test_no_article(html: str | bytes) -> None:
    art = extract_article(html)
    assert isinstance(art, Article) and not art.is_article()


def test_link_list_page_is_not_an_article() -> None:
    items = "".join(f"<li><a href='/{i}'>Headline number {i} about something important</a></li>" for i in range(40))
    art = extract_article(page(f"<div class='list'><ul>{items}</ul></div>"))
    assert not art.is_article()


def test_broken_markup() -> None:
    html = f"<html><body><div class='story'><p>{LOREM}<p>{LOREM}<div><span>unclosed <b>tags <i>{LOREM}</div></html>"
    art = extract_article(html)
    assert art.text.count("The council voted") == 3


def test_deep_nesting_does_not_recurse() -> None:
    html = "<html><body>" + "<div>" * 10_000 + f"<p>{LOREM}</p><p>{LOREM}</p>" + "</div>" * 10_000 + "</body></html>"
    art = extract_article(html)
    assert art.paragraphs == (LOREM.strip(), LOREM.strip())


def test_huge_page() -> None:
    body = "".join(f"<div class='block'><p>{LOREM}</p><ul class='links'><li><a href='/{i}'>x</a></li></ul></div>"
                   for i in range(5000))
    art = extract_article(page(body))
    assert art.text.count("The council voted") >= 4000


def test_repeated_captions_and_stock_lines_dropped() -> None:
    body = (f"<article><p>Advertisement</p><p>{LOREM}</p><figure><figcaption>Photo: Getty Images</figcaption></figure>"
            f"<p>{LOREM} Second.</p><p>Advertisement</p><p>Share this article</p><p>{LOREM} Third.</p></article>")
    art = extract_article(page(body))
    assert len(art.paragraphs) == 3 and "Advertisement" not in art.text and "Getty" not in art.text


@pytest.mark.parametrize(("title", "repeat"), [
    ("Council approves budget", "COUNCIL APPROVES BUDGET"),
    ("İstanbul votes on budget", "İSTANBUL VOTES ON BUDGET"),  # lower-cased, "İ" is two characters
])
def test_the_headline_repeated_in_the_body_is_dropped_whatever_its_case(title: str, repeat: str) -> None:
    keep = "Council approves budgets"  # as long as the headline, not the same
    body = f"<article><h1>{title}</h1><p>{repeat}</p><p>{LOREM}</p><p>{keep}</p><p>{LOREM} Second.</p></article>"
    art = extract_article(page(body, head=f"<title>{title}</title>"))
    assert art.title == title
    assert repeat not in art.paragraphs and title not in art.paragraphs and keep in art.paragraphs


def test_hidden_parts_go_unless_they_hold_a_third_of_the_container() -> None:
    # an empty hidden icon goes without the container's text being measured; a hidden block that
    # holds most of the text is kept (pages that reveal the article by script hide all of it)
    body = (f"<article><p>{LOREM}<span aria-hidden='true'></span> tail</p>"
            f"<div aria-hidden='true'><p>{LOREM} {LOREM}</p></div><p hidden>Short hidden note.</p></article>")
    art = extract_article(page(body))
    assert art.paragraphs == (f"{LOREM.strip()} tail", " ".join(f"{LOREM} {LOREM}".split()))
    assert "Short hidden" not in art.text


def test_hidden_elements_are_dropped() -> None:
    body = (f"<article><p>{LOREM}</p><div style='display:none'>Secret text that nobody sees.</div>"
            f"<p hidden>Also hidden text here.</p><p>{LOREM}</p></article>")
    art = extract_article(page(body))
    assert "Secret" not in art.text and "Also hidden" not in art.text


def test_to_dict_is_json_ready() -> None:
    art = extract_article(page(f"<article><p>{LOREM}</p></article>"))
    data = json.loads(json.dumps(art.to_dict()))
    assert data["paragraphs"] == [LOREM.strip()] and data["authors"] == []


def test_never_crashes_on_trafilatura_eval(shared_data) -> None:  # type: ignore[no-untyped-def]
    """Every page of ../shared/data/pages/trafilatura-eval extracts without an exception."""
    folder = shared_data / "pages" / "trafilatura-eval"
    if not folder.is_dir():
        pytest.skip("trafilatura-eval is absent")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".html", ".htm", ".gz"))
    assert files
    for f in files:
        data = f.read_bytes()
        if f.suffix == ".gz":
            import gzip

            data = gzip.decompress(data)
        art = extract_article(data)
        assert isinstance(art.text, str)


def test_block_rendered_twice_is_read_once() -> None:
    """Responsive templates render a block once per screen size and hide the copies with CSS."""
    paras = [f"{LOREM}Part {i}." for i in range(4)]
    copy = "".join(f"<p>{p}</p>" for p in paras)
    art = extract_article(page(f"<article><div class='desktop'>{copy}</div><div class='mobile'>{copy}</div></article>"))
    assert art.paragraphs == tuple(p.strip() for p in paras)


def test_long_rows_repeated_on_purpose_are_kept() -> None:
    """A table or meal plan repeats single long rows between different ones: not a copied block."""
    row = "Asparagus and eggs: one cup of asparagus, two poached eggs, half a cup of sweet potato, salt and pepper."
    body = "".join(f"<h2>Plan {c}</h2><p>{row}</p><p>{LOREM} Plan {c}.</p>" for c in "ABC")
    art = extract_article(page(f"<article>{body}</article>"))
    assert art.text.count(row) == 3


def test_teaser_cards_below_the_article_are_not_climbed_into() -> None:
    """Cards of other stories (a linked headline over a summary) hold prose too, but are link-heavy."""
    card = ("<div class='card'><h3><a href='/{0}'>Another story about the city council and its long budget "
            "debate number {0}</a></h3><p>A summary of that other story, which is long enough to count, with "
            "commas, and a full stop.</p></div>")
    body = (f"<div class='wrap'><div class='main'><p>{LOREM}</p><p>{LOREM}</p><p>{LOREM}</p></div>"
            f"<div class='cards'>{''.join(card.format(i) for i in range(6))}</div></div>")
    art = extract_article(page(body))
    assert art.text.count("The council voted") == 3 and "summary" not in art.text


def test_article_split_into_blocks_is_read_whole() -> None:
    body = (f"<div class='wrap'><div class='block'><p>{LOREM}</p></div><div class='ad'>Advertisement</div>"
            f"<div class='block'><p>{LOREM}Second.</p><p>{LOREM}Third.</p></div></div>")
    art = extract_article(page(body))
    assert art.text.count("The council voted") == 3


def test_figure_captions_are_not_body_text() -> None:
    body = (f"<article><p>{LOREM}</p><figure><img src='a.jpg'><figcaption>The mayor, left, speaks to "
            f"reporters outside the town hall on Tuesday evening.</figcaption></figure><p>{LOREM}Again.</p></article>")
    art = extract_article(page(body))
    assert "mayor" not in art.text and len(art.paragraphs) == 2


def test_a_gallery_whose_text_is_in_captions_keeps_them() -> None:
    figures = "".join(f"<figure><img src='{i}.jpg'><figcaption><p>{LOREM}Picture {i}.</p></figcaption></figure>"
                      for i in range(3))
    art = extract_article(page(f"<div class='gallery'>{figures}</div>"))
    assert art.text.count("The council voted") == 3


def test_author_links_matching_several_selectors_count_once() -> None:
    # each link matches itemprop, rel and the /author/ path: listed once, or 8 slots hold only 3 names
    names = ["Ann Smith", "Bob Jones", "Cid Moore", "Dee Park", "Eve Stone"]
    links = "".join(f"<a itemprop='author' rel='author' href='/author/{i}'>{name}</a> " for i, name in enumerate(names))
    art = extract_article(page(f"<article><p class='byline'>{links}</p><p>{LOREM}</p></article>"))
    assert art.authors == tuple(names)


def test_container_walk_drops_hidden_parts_and_link_lists_then_unwraps_what_is_left() -> None:
    links = "".join(f"<li><a href='/s{i}'>Other story number {i}</a></li>" for i in range(6))
    art = extract_article(page(f"<article><p>{LOREM}</p>"
                               f"<div style='display:none'><p>Hidden <b>text</b> here.</p></div>"
                               f"<div><ul>{links}</ul></div>"
                               f"<p>Second <em>para</em><!-- x -->graph, <a href='/in'>with a link</a>. {LOREM}</p>"
                               "</article>"))
    assert not any("Hidden" in p or "Other story" in p for p in art.paragraphs)
    assert art.paragraphs[1].startswith("Second paragraph, with a link. ")


def test_nested_link_lists_go_and_wrappers_of_prose_stay() -> None:
    """Inner candidates are judged first; a kept one's length rules out its wrappers, a removed one's does not."""
    sub = "".join(f"<li><a href='/t{i}'>Topic number {i}</a></li>" for i in range(3))
    menu = f"<li><a href='/s'>Section</a><ul>{sub}</ul></li>"
    prose = f"<div class='text'><p>{LOREM}<a href='/in'>a link</a> in the text.</p><p>{LOREM}</p></div>"
    # the wrapper's links (menu, prose link, "More") are well under a third of its text: kept, and
    # not read: the text inside it outweighs them
    wrapper = f"<div class='wrap'><div><ul>{menu}</ul></div>{prose}<p><a href='/m'>More</a></p></div>"
    # a link list around a short note: the note's length does not save it
    listing = f"<section><div><p>Also read:</p></div><ul>{sub}</ul></section>"
    art = extract_article(page(f"<article>{wrapper}{listing}<p>{LOREM}</p></article>"))
    text = art.text
    assert "Section" not in text and "Topic number" not in text and "Also read" not in text
    assert text.count("The council voted") == 3 and "a link in the text." in text and "More" in text


def test_dedupe_drops_short_repeats_and_copied_runs_and_keeps_a_page_without_repeats() -> None:
    long = [f"{word} " * 30 for word in ("alpha", "beta", "gamma", "delta")]
    unique = ["Photo: A. Person", *long]
    assert _dedupe(unique) is unique  # nothing repeats: the list as it came
    # a short line seen before goes (any case); a long line repeated on its own stays
    assert _dedupe(["Share", long[0], "SHARE", long[1], long[0]]) == ["Share", long[0], long[1], long[0]]
    # a run of three distinct long lines rendered twice: the second copy goes
    assert _dedupe([*long[:3], "x", *long[:3]]) == [*long[:3], "x"]
    # CJK lines are long by weight (3 per character), not by length
    cjk = ["中文句子" * 9, "第二句话" * 9, "第三句话" * 9]
    assert _dedupe([*cjk, *cjk]) == cjk
