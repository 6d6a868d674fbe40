"""archive.paragraphs: the paragraphs found, their ancestor chains, and the tag ids they are tested by."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archive import paragraphs
from archive.elements import PageElements
from archive.paragraphs import Pruner, collect_paragraphs

TEXT = "The council voted on Tuesday to approve the new budget, which raises spending on schools."


def collected(html: str) -> tuple[LexborHTMLParser, LexborNode, list[paragraphs.Para], set[int]]:
    """The parsed page, its body, and what collect_paragraphs finds in it."""
    tree = LexborHTMLParser(html)
    assert tree.body is not None
    paras, marked = collect_paragraphs(PageElements(tree))
    return tree, tree.body, paras, marked


def test_tag_ids_are_those_of_parsed_elements() -> None:
    # td only exists inside a table: ids read from a parse of bare tags would miss it
    tree = LexborHTMLParser("<table><tr><td>x</td></tr></table><p>y</p><pre>z</pre><figure><figcaption>c"
                            "</figcaption></figure><a>l</a><br>")
    ids = {node.tag: node.tag_id for node in tree.css("td, p, pre, figcaption, a, br, html, body")}
    assert {ids["td"], ids["p"], ids["pre"]} == paragraphs._PARAGRAPH_TAGS
    assert {ids["html"], ids["body"]} == paragraphs._TOP_TAGS
    assert (
        ids["a"], ids["br"], ids["figcaption"], ids["html"]) == (paragraphs._A, paragraphs._BR, paragraphs._FIGCAPTION, paragraphs._HTML)


def test_chains_run_from_the_parent_to_body_and_siblings_share_one() -> None:
    _, _, paras, marked = collected(f"<body><main><div class='a'><p>{TEXT}</p><p>{TEXT}</p></div>"
                            f"<div class='b'><table><tr><td>{TEXT}</td></tr></table></div></main></body>")
    assert marked == set()
    assert [p.node.tag for p in paras] == ["p", "p", "td"]
    assert paras[0].chain is paras[1].chain
    assert [n.tag for n in paras[0].chain] == ["div", "main", "body"]
    assert [n.tag for n in paras[2].chain] == ["tr", "tbody", "table", "div", "main", "body"]
    # the shared ancestors are the same elements in both chains
    assert [n.mem_id for n in paras[2].chain[-2:]] == [n.mem_id for n in paras[0].chain[-2:]]


def test_junk_is_removed_in_the_walk_and_its_paragraphs_are_not_collected() -> None:
    _, body, paras, marked = collected(f"<body><nav><p>{TEXT}</p><div>menu<br>{TEXT}</div></nav>"
                            f"<div itemprop='articleBody'><p>{TEXT}<script>var x = 1;</script></p>"
                            f"<dialog><p>{TEXT}</p><script>nested junk</script></dialog>"
                            f"<div>{TEXT}<br>{TEXT}</div></div></body>")
    assert [p.node.tag for p in paras] == ["p", "div"]
    assert paras[0].node.text() == TEXT  # the script inside the paragraph is gone
    assert body.css("nav, script, dialog") == []
    assert marked == {body.css_first("[itemprop]").mem_id}


def test_links_count_once_and_marks_are_case_sensitive() -> None:
    # a link in a paragraph inside a table cell matches two descendant selectors; it counts once
    linked = "l" * 40
    _, body, paras, marked = collected(f"<body><table><tr><td><p>{TEXT[:50]} <a href='/x'>{linked}</a></p></td></tr></table>"
                            f"<div itemprop='ARTICLEBODY'><p>{TEXT}</p></div>"
                            f"<div itemprop='articleBody'><p>{TEXT} <a itemprop='articlebody'>{linked}</a></p></div>"
                            f"<a itemprop='ArticleBody' href='/y'>{TEXT}</a></body>")
    # 40 of 91 characters linked: a paragraph (counted twice, 80 would make it a link list)
    in_p = [p for p in paras if p.node.tag == "p"]
    assert len(in_p) == 3
    assert in_p[0].node.text().startswith(TEXT[:50])
    assert marked == {n.mem_id for n in body.css('[itemprop="articleBody"], [itemprop="articlebody"]')}
    assert len(marked) == 2


def test_clean_removes_furniture_in_document_order_and_skips_what_it_removed() -> None:
    tree = LexborHTMLParser(f"<body><div class='story'><p>{TEXT}</p><p>{TEXT}</p>"
                            "<div class='share-bar' id='s1'><span class='social-icon' id='i1'>x</span>"
                            "<div class='related'>r</div></div>"
                            "<figure><figcaption class='caption'>c</figcaption></figure>"
                            "<div class='note'>kept</div></div></body>")
    paras, marked = collect_paragraphs(PageElements(tree))
    judged: list[str] = []

    class Spy(Pruner):
        __slots__ = ()

        def is_around(self, node: LexborNode) -> bool:
            judged.append(node.attributes.get("class") or node.tag or "")
            return super().is_around(node)

    pruner = Spy(paras, marked)
    story = tree.css_first("div.story")
    assert story is not None
    pruner.clean(story)
    assert story.css("[class='share-bar'], .related, figcaption") == []
    assert story.css_first(".note") is not None
    # the share bar once (it has a class and an id), nothing inside it; an element without
    # furniture words is kept without the full judgement
    assert judged == ["share-bar", "caption"]


def test_pruned_paragraphs_weight_is_taken_off_their_ancestors() -> None:
    _, body, paras, marked = collected(f"<body><main><div class='story'><p>{TEXT}</p><p>{TEXT}</p></div>"
                                       f"<div class='related'><p>{TEXT}</p></div>"
                                       f"<div><p class='promo'>{TEXT}</p><p>{TEXT}</p></div></main></body>")
    pruner = Pruner(paras, marked)
    left = pruner.prune_paragraphs(paras)
    assert len(paras) == 5 and len(left) == 3
    # what the kept paragraphs hold, as if added up again (ancestors of dropped ones only: held 0)
    assert {k: v for k, v in pruner.left.items() if v} == paragraphs.paragraph_content(left)
    main = body.css_first("main")
    assert main is not None and pruner.left[main.mem_id] == 3 * len(TEXT)
    assert pruner.content[main.mem_id] == 5 * len(TEXT)  # the page's weights stay for clean()


def test_an_element_holding_nearly_all_the_text_is_kept_without_reading_its_words() -> None:
    _, _, paras, marked = collected(f"<body><div class='comments-layout'><div class='sidebar-wrap'>"
                                    f"<p>{TEXT}</p><p>{TEXT}</p><p>{TEXT}</p></div><p>{TEXT}</p></div></body>")
    read: list[str] = []

    class Spy(Pruner):
        __slots__ = ()

        def hints(self, node: LexborNode) -> paragraphs.Hints:
            read.append(node.attributes.get("class") or node.tag or "")
            return super().hints(node)

    pruner = Spy(paras, marked)
    assert len(pruner.prune_paragraphs(paras)) == 4
    # the sidebar-wrap holds 3/4 of the text: its words are read (furniture words remove an element
    # below 30%, comment words one below 90%); the wrapper holds all of it and is kept unread
    assert "sidebar-wrap" in read and "comments-layout" not in read
