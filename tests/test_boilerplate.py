"""archive.boilerplate: the stock-line test and its cheap pre-checks agree with the patterns."""

from __future__ import annotations

import re

import pytest

from archive import boilerplate
from archive.boilerplate import is_boilerplate_line

STOCK = [
    "Advertisement", "ADVERTISING", "Anzeige", "Publicité", "publicidad", "Pubblicità", "Reklama", "广告",
    "Story continues - below", "Advertisement - Scroll to continue", "Share this article", "Share on Facebook",
    "Read more: the news", "See also the report", "Related articles:", "More from the Planet", "Recommended for you",
    "Click here to see", "Tap to expand", "Sign up for our newsletter", "Subscribe now", "Register today",
    "Follow us on Twitter", "Like us on Facebook", "Tweet", "Email", "E-mail", "Print", "LinkedIn", "WhatsApp",
    "Pinterest", "Reddit", "Flipboard", "Copy link", "Photo: Jane Doe", "Images credit: x", "Picture: y",
    "Video: z", "Illustration: w", "Graphics: q", "Getty Images", "Reuters/John Doe", "AP Photo/Jane Doe",
    "AFP via Getty", "Shutterstock", "iStock", "Also read: ten ways", "© 2019 Planet", "Copyright 2020",
    "All rights reserved.", "Loading...", "Please wait", "Comments", "12 comments", "Leave a comment",
    "Post a comment", "Skip to main content", "Back to top", "Top of page", "Previous article", "Next story",
    "This article was updated on May 1", "Updated: May 1", "Published: May 2", "Posted: today", "5 min read",
    "Listen to this article", "We use cookies to do things", "This website uses cookies for x",
    "By Jane Doe", "Von Hans Meier", "Jane Doe | Getty Images", "— Advertisement —", "•Print",
]


@pytest.mark.parametrize("line", STOCK + [s.upper() for s in STOCK] + [s.lower() for s in STOCK])
def test_stock_lines_are_boilerplate(line: str) -> None:
    if line.startswith(("BY ", "VON ", "by ", "von ")) or line in ("AP PHOTO/JANE DOE",):
        return  # bylines are matched case-sensitively; upper-cased names are not names
    assert is_boilerplate_line(line)


#: the first three characters of every alternative of _BOILERPLATE_LINE, lower-cased, written out:
#: the per-start patterns (boilerplate._STOCK_BY_HEAD) must be keyed by exactly these
STOCK_HEADS = frozenset([
    "adv", "anz", "pub", "rek", "sto", "sha", "rea", "see", "rel", "mor", "rec", "cli", "tap", "sig", "sub", "reg",
    "fol", "lik", "twe", "ema", "e-m", "pri", "fac", "twi", "lin", "wha", "pin", "red", "fli", "cop", "pho", "ima",
    "pic", "vid", "ill", "gra", "get", "reu", "ap ", "afp", "shu", "ist", "als", "all", "loa", "ple", "com", "lea",
    "pos", "ski", "bac", "top", "pre", "nex", "thi", "upd", "lis", "we ",
])


def test_every_alternative_has_its_head_listed() -> None:
    # the top-level alternatives of the pattern, each with the first three characters it can start
    # with when written in ASCII letters: each must be one of STOCK_HEADS
    source = boilerplate._BOILERPLATE_LINE.pattern
    body = source[source.index("^(?:") + 4: source.rindex(")$")]
    depth, start, branches = 0, 0, []
    for i, ch in enumerate(body):
        if ch == "(" and body[i - 1:i] != "\\":
            depth += 1
        elif ch == ")" and body[i - 1:i] != "\\":
            depth -= 1
        elif ch == "|" and depth == 0 and body[i - 1:i] != "\\":
            branches.append(body[start:i])
            start = i + 1
    branches.append(body[start:])
    assert len(branches) > 40
    for branch in branches:
        words = re.findall(r"[a-z][a-z -]*", branch.removeprefix("(?:"))
        if branch.startswith(("\\d", "©", "广")):
            continue  # digits and non-ASCII starts always reach the pattern
        options = [w for w in re.split(r"\|", branch.removeprefix("(?:").split(")")[0])] if branch.startswith("(?:") \
            else [words[0]]
        for option in options:
            assert option[:3].lower() in STOCK_HEADS, (branch, option)


@pytest.mark.parametrize("line", STOCK + [s.upper() for s in STOCK] + [s.lower() for s in STOCK] + [
    "Share prices fell", "Printable version", "3 minutes read", "12 COMMENTS", "1 comment here", "²3 comments",
    "Reuters", "Commentary", "Nextdoor", "Top stories", "Thisday", "\u212aelvin", "Li\u212a\u212a us",
])
def test_the_pattern_of_a_lines_start_agrees_with_the_whole_pattern(line: str) -> None:
    bare = line.strip(" \t|•·-–—:")
    head = bare[:3].lower()
    if not head.isascii() and not head[:1].isdigit():
        return  # the whole pattern reads these lines
    part = boilerplate._STOCK_BY_HEAD.get(head) or (boilerplate._DIGIT_STOCK if head[:1].isdigit() else None)
    assert bool(part and part.match(bare)) == bool(boilerplate._BOILERPLATE_LINE.match(bare))


def test_every_alternative_reaches_the_pattern_of_its_start() -> None:
    assert set(boilerplate._STOCK_BY_HEAD) == STOCK_HEADS
    assert sum(len(p.pattern) for p in boilerplate._STOCK_BY_HEAD.values()) > len(boilerplate._BOILERPLATE_LINE.pattern)


def test_prose_is_not_boilerplate() -> None:
    assert not is_boilerplate_line("The council voted on Tuesday to approve the new budget.")
    assert not is_boilerplate_line("Share prices fell sharply on Monday after the report.")


def test_inline_tag_ids_are_those_of_parsed_elements() -> None:
    from selectolax.lexbor import LexborHTMLParser

    markup = "".join(f"<{tag}>x</{tag}>" for tag in boilerplate.INLINE_TAGS if tag not in ("rp", "rt"))
    tree = LexborHTMLParser(f"<p>{markup}<ruby>r<rp>(</rp><rt>t</rt></ruby></p>")
    seen = {node.tag: node.tag_id for node in tree.css(boilerplate.INLINE_SELECTOR)}
    assert set(seen) == set(boilerplate.INLINE_TAGS)
    assert set(seen.values()) == boilerplate.INLINE_TAG_IDS


def test_negative_hints_with_trailing_digits_ascii_and_not() -> None:
    hint = boilerplate.is_negative_hint.__wrapped__  # type: ignore[attr-defined]
    assert hint("sidebar2 col-8") and hint("sidebar٣") and hint("AD-300 x")
    assert not hint("article2 ad3")  # a positive word wins, digits stripped or not
    assert not hint("col-md-8 row-2") and not hint("e1x 2sidebar")  # only trailing digits are dropped
    assert hint("newsletter-signup2") and hint("sponsored3") and not hint("x-spons2")


def test_negative_hints_from_two_words_joined() -> None:
    hint = boilerplate.is_negative_hint.__wrapped__  # type: ignore[attr-defined]
    # a pair is found wherever its first word stands: across class tokens, after other words, at the end
    assert hint("side bar") and hint("x most-read") and hint("col-8 news-letter") and hint("a-d")
    # words that begin a negative word but join into none with their neighbour
    assert not hint("side-panel") and not hint("most-liked x") and not hint("pop") and not hint("com-pact")
    # the heads are the proper beginnings of negative words, and only those
    assert {"side", "pop", "a", "news"} <= boilerplate._NEGATIVE_HEADS
    assert "panel" not in boilerplate._NEGATIVE_HEADS and "sidebar" not in boilerplate._NEGATIVE_HEADS


def test_text_weight_counts_cjk_thrice_whatever_else_is_outside_ascii() -> None:
    # curly quotes and accents: no CJK lead byte in UTF-8, the length as it is
    assert boilerplate.text_weight("It’s “café” time") == len("It’s “café” time")
    # CJK punctuation and half-width forms share lead bytes with CJK but are not CJK
    assert boilerplate.text_weight("。、「」\uff65") == 5
    assert boilerplate.text_weight("中文 カナ 한국") == 8 + 2 * 6
    assert boilerplate.text_weight("x\ud800y") == 3  # a lone surrogate (from a bad reference) counts once
    assert boilerplate.text_weight("\uf900\ufaff\uff66\uff9f\uff9f\ud7af\u3040") == 7 * 3


def test_punctuation_counts_latin_and_full_width_marks() -> None:
    assert boilerplate.punctuation_count("a.b,c;d:e!f?g-h'") == 6
    assert boilerplate.punctuation_count("一。二，三、四；五：六！七？»“”’") == 10


def test_positive_hint_parts_find_what_the_pattern_finds() -> None:
    from archive import extract

    for hint in ["main-column", "Post_Body", "h-entry", "hentry", "ArticleText", "sidebar", "homepage", "context",
                 "x", "blog-roll", "nav nav-tabs", "Prose", "STORY"]:
        found = any(part in hint.lower() for part in extract._POSITIVE_PARTS)
        assert found == bool(extract._POSITIVE_HINT.search(hint)), hint
    assert extract._hint_score("post-content") == 25 and extract._hint_score("sidebar") == -25
    assert extract._hint_score("postmeta") == 0 and extract._hint_score("grid") == 0  # both; neither
