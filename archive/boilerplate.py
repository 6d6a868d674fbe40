"""What is not the article: tags, class and id hints, short stock phrases, and text measures per script.

These are the generic signals the body extractor (:mod:`archive.extract`)
combines. Nothing here names a site: the hints are the words templates of
every CMS use for navigation, share bars, related lists, consent banners,
comments and ad slots, and the phrases are the captions those parts carry.

Text is measured per script: a CJK character carries about as much as a short
Latin word, so :func:`text_weight` counts it three times, and sentence
punctuation includes the full-width marks (``。，！？；：、``).
"""

from __future__ import annotations

import functools
import itertools
import re

from selectolax.lexbor import LexborHTMLParser

__all__ = [
    "BLOCK_TAGS",
    "INLINE_SELECTOR",
    "INLINE_TAGS",
    "INLINE_TAG_IDS",
    "JUNK_SELECTOR",
    "JUNK_TAGS",
    "is_boilerplate_line",
    "is_negative_hint",
    "punctuation_count",
    "tag_ids",
    "text_weight",
    "without_boilerplate",
]

#: removed with their content before anything else: never article text. Void elements (img,
#: input, source, meta …) carry no text and are left alone: each tag more costs a pass.
JUNK_TAGS = [
    "script", "style", "noscript", "template", "svg", "math", "canvas", "iframe", "object", "video", "audio",
    "picture", "button", "select", "textarea", "nav", "dialog", "menu",
]
JUNK_SELECTOR = ", ".join(JUNK_TAGS)

#: unwrapped (tag dropped, text kept) so that a paragraph's text is one text node
INLINE_TAGS = (
    "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font", "i",
    "ins", "kbd", "label", "mark", "nobr", "q", "rp", "rt", "ruby", "s", "samp", "small", "span", "strike",
    "strong", "sub", "sup", "time", "tt", "u", "var", "wbr",
)
INLINE_SELECTOR = ", ".join(INLINE_TAGS)


def tag_ids(*names: str) -> frozenset[int]:
    """lexbor's ids of these tags: an int compare per element instead of the tag-name string that
    ``node.tag`` builds (``tag_id`` costs about 60% of ``tag``)."""
    tree = LexborHTMLParser("")
    return frozenset(tree.create_node(name).tag_id for name in names)


INLINE_TAG_IDS = tag_ids(*INLINE_TAGS)

#: elements whose text is one paragraph of output
BLOCK_TAGS = frozenset({
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th", "dd", "dt",
    "figcaption", "caption", "address",
})

# class/id words of the parts around an article (readability's lists, extended with what
# consent managers, share widgets and recommendation engines call themselves). Hints are
# split into words at "-", "_" and spaces (trailing digits dropped: "sidebar2"); two neighbouring words also count joined
# ("side-bar" is "sidebar"), and a few words count as prefixes ("sponsored", "advertorial").
_NEGATIVE_WORDS = frozenset(["comment", "comments", "commento", "disqus", "replies", "respond", "share", "sharing", "shares", "sharebar", "social", "sociable", "addthis", "sharethis", "related", "recommended", "recommendations", "recommendation", "morestories", "readmore", "mostread", "mostpopular", "mostviewed", "popular", "trending", "newsletter", "newsletters", "subscribe", "subscription", "signup", "promo", "promos", "promoted", "ad", "ads", "adslot", "adunit", "adcontainer", "adwrapper", "dfp", "gpt", "outbrain", "taboola", "zergnet", "revcontent", "cookie", "cookies", "consent", "gdpr", "cmp", "banner", "breadcrumb", "breadcrumbs", "pagination", "pager", "sidebar", "popup", "modal", "overlay", "masthead", "footer", "sitefooter", "header", "siteheader", "topbar", "toolbar", "navbar", "nav", "navigation", "menu", "skiplink", "print", "tags", "taglist", "keywords", "authorbio", "aboutauthor", "byline", "dateline", "timestamp", "meta", "postmeta", "entrymeta", "caption", "credit", "credits", "hidden", "visuallyhidden", "sr", "only", "screenreadertext", "offscreen", "rss", "shoutbox", "skyscraper", "supplemental", "combx", "remark", "jumplink", "seealso", "nextarticle", "prevarticle", "paywall", "login", "videoplayer"])
_NEGATIVE_PREFIXES = ("sponsor", "advert", "recommend", "newsletter", "comment")
_POSITIVE_WORDS = frozenset(["article", "articles", "body", "content", "contents", "entry", "hentry", "main", "post", "story", "text", "blog", "column", "prose", "markdown", "richtext", "articlebody", "postbody", "entrycontent", "storybody", "maincontent"])
_TRAILING_DIGITS = re.compile(r"\d+(?=\s|$)")


def _hint_words(lowered: str) -> list[str]:
    # chained str.replace, not str.translate: a translate table is a dict lookup per character
    return lowered.replace("-", " ").replace("_", " ").replace(":", " ").replace(".", " ").replace("/", " ").split()


@functools.lru_cache(maxsize=8192)
def is_negative_hint(hint: str) -> bool:
    """True when class/id/role words mark a part around the article, and no word marks the article itself.

    >>> is_negative_hint("social-share-bar"), is_negative_hint("article-body comments-enabled")
    (True, False)
    >>> is_negative_hint("side-bar"), is_negative_hint("shadow"), is_negative_hint("headline")
    (True, False, False)
    >>> is_negative_hint("element-a6d8cc4"), is_negative_hint("ad-300x250"), is_negative_hint("sidebar2")
    (False, True, True)
    >>> is_negative_hint("btn pop-up"), is_negative_hint("sponsored-links"), is_negative_hint("load-more")
    (True, True, False)
    """
    lowered = hint.lower()
    words = _hint_words(lowered)
    # the word sets look the words up (a set of the words would hash each into a new table first:
    # a third of the time of a hint never seen before, which is most hints of a new site)
    if not _POSITIVE_WORDS.isdisjoint(words):
        return False
    if not _NEGATIVE_WORDS.isdisjoint(words):
        return True
    # C-level loops (map), since long utility-class lists ("flex items-center px-4 …") are common;
    # a word can only start with a prefix that the whole hint contains (a few substring scans)
    if (any(map(lowered.__contains__, _NEGATIVE_PREFIXES))
            and any(map(str.startswith, words, itertools.repeat(_NEGATIVE_PREFIXES)))):
        return True
    # words without their trailing digits ("sidebar2"); the words that end in none were tested
    # above, so only the others can add a negative or a positive word. Half of the hints have
    # digits (generated class names): the ASCII ones need no pattern
    if lowered.isascii():
        stripped = [word.rstrip(_ASCII_DIGITS) for word in words if word[-1] in _ASCII_DIGITS]
    elif _DIGIT.search(lowered):
        stripped = _TRAILING_DIGITS.sub("", " ".join(words)).split()
    else:
        stripped = []
    if stripped and not _NEGATIVE_WORDS.isdisjoint(stripped) and _POSITIVE_WORDS.isdisjoint(stripped):
        return True
    # two neighbouring words joined: "side-bar", "pop-up", "most-read". The first of such a pair
    # begins a negative word: one set test skips building the pairs for most hints
    return (len(words) > 1 and not _NEGATIVE_HEADS.isdisjoint(words)
            and not _NEGATIVE_WORDS.isdisjoint(map(str.__add__, words, words[1:])))


#: the proper beginnings of the negative words: the first word of a pair that joins into one
_NEGATIVE_HEADS = frozenset(word[:i] for word in _NEGATIVE_WORDS for i in range(1, len(word)))
_DIGIT = re.compile(r"\d")
_ASCII_DIGITS = "0123456789"


_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\uff66-\uff9f]")
_PUNCT = re.compile(r"[.,;:!?。，、；：！？»“”]")
CJK_WEIGHT = 3
#: the UTF-8 lead bytes of U+3000…U+DFFF and U+F000…U+FFFF, which hold every range of _CJK
_CJK_LEADS = bytes(range(0xE3, 0xEE)) + b"\xef"
_NOT_CJK_LEADS = bytes(b for b in range(256) if b not in _CJK_LEADS)


def text_weight(text: str) -> int:
    """Length with CJK characters counted three times (one CJK character ≈ one short word).

    >>> text_weight("abc"), text_weight("中文字")
    (3, 9)
    """
    if text.isascii():
        return len(text)
    # in UTF-8, every CJK character begins with one of _CJK_LEADS: text without them (Latin text
    # with curly quotes, a fifth of all paragraphs) is ruled out by a C pass, not a pattern scan
    if not text.encode("utf-8", "surrogatepass").translate(None, _NOT_CJK_LEADS):
        return len(text)
    return len(text) + (CJK_WEIGHT - 1) * len(_CJK.findall(text))


def punctuation_count(text: str) -> int:
    """Sentence and clause punctuation, Latin and full-width.

    >>> punctuation_count("One, two. 三，四。"), punctuation_count("One; two: three! Four?")
    (4, 4)
    """
    if text.isascii():  # the marks deleted in one C pass over the bytes, no list of matches
        return len(text) - len(text.encode("ascii").translate(None, b".,;:!?"))
    return len(_PUNCT.findall(text))


_BOILERPLATE_LINE = re.compile(
    r"^(?:advertisement|advertising|anzeige|publicité|publicidad|pubblicità|reklama|广告|"
    r"(?:advertisement|story continues)(?: - | – )?(?:scroll|continue|below).*|"
    r"share(?: this)?(?: article| story| page| post)?(?: on \w+)?|share on \w+|"
    r"(?:read|see) (?:more|also|next)\b.{0,80}|related(?: articles| stories| content| posts| coverage)?:?|"
    r"more (?:from|on|about) .{0,60}|recommended(?: for you| stories| articles)?|"
    r"click (?:here|to) .{0,80}|tap (?:here|to) .{0,80}|"
    r"(?:sign up|subscribe|register)\b.{0,120}|(?:follow|like) us .{0,80}|"
    r"tweet|email|e-mail|print|facebook|twitter|linkedin|whatsapp|pinterest|reddit|flipboard|copy link|"
    r"(?:photo|image|picture|video|illustration|graphic)s?(?: credit)?: .{0,120}|"
    r"(?:getty images|reuters|ap photo|afp|shutterstock|istock)\b.{0,60}|"
    r"also (?:read|see|watch|listen)\b.{0,200}|"
    r"©.{0,120}|copyright\b.{0,120}|all rights reserved\.?|"
    r"loading\W*|please wait\W*|comments?|\d+ comments?|leave a comment|post a comment|"
    r"skip to (?:main )?content|back to top|top of page|"
    r"(?:previous|next)(?: article| story| post)?|"
    r"this (?:article|story) (?:was|has been) (?:updated|corrected).{0,160}|"
    r"updated:? .{0,60}|published:? .{0,60}|posted:? .{0,60}|"
    r"\d+ min(?:ute)?s? read|listen to (?:this )?(?:article|story).{0,40}|"
    r"we use cookies.{0,400}|this (?:web)?site uses cookies.{0,400}"
    r")$",
    re.I,
)
_BYLINE = re.compile(r"^(?:By|BY|Von|Par|Por|Di|Door)\s+(?:[A-Z][\w'’.-]*[\s,]*(?:and\s+|&\s+|und\s+|et\s+|y\s+|e\s+)?){1,6}$")
# a credit after a name or caption ("Jane Doe | Getty Images"): its own pattern, since a
# leading gap would make the main one scan every line at every offset
_CREDIT = re.compile(r".{0,80}(?:\||/|©|photo:|image:|credit:)\s*(?:getty images|shutterstock|istock(?:photo)?|alamy|"
                     r"unsplash|pexels)\b.{0,40}", re.I)


def _top_branches(pattern: str) -> list[str]:
    """The top-level alternatives of a ``^(?:…)$`` pattern's source."""
    body = pattern[pattern.index("^(?:") + 4: pattern.rindex(")$")]
    depth, start, branches = 0, 0, []
    for i, ch in enumerate(body):
        escaped = body[i - 1:i] == "\\"
        if ch == "(" and not escaped:
            depth += 1
        elif ch == ")" and not escaped:
            depth -= 1
        elif ch == "|" and depth == 0 and not escaped:
            branches.append(body[start:i])
            start = i + 1
    branches.append(body[start:])
    return branches


def _branch_heads(branch: str) -> list[str]:
    """The lower-cased first three characters an alternative of _BOILERPLATE_LINE can start with
    in ASCII letters: each option of a leading group, else its leading words."""
    if branch.startswith("(?:"):
        return [option[:3].lower() for option in branch[3:].split(")")[0].split("|")]
    return [re.findall(r"[a-z][a-z -]*", branch)[0][:3]]


def _stock_patterns() -> tuple[dict[str, re.Pattern[str]], re.Pattern[str]]:
    """_BOILERPLATE_LINE cut by the start a line can have: per ASCII head (the alternatives
    that start so, in their order), and for a line that starts with a digit. A line starts
    with one head only, so its pattern matches it exactly when the whole one does, trying a
    handful of alternatives instead of ~50 (~1 µs a line)."""
    by_head: dict[str, list[str]] = {}
    digits = []
    for branch in _top_branches(_BOILERPLATE_LINE.pattern):
        if branch.startswith("\\d"):
            digits.append(branch)
        elif not branch.startswith(("©", "广")):  # non-ASCII starts: the whole pattern reads those lines
            for head in _branch_heads(branch):
                by_head.setdefault(head, []).append(branch)

    def compiled(branches: list[str]) -> re.Pattern[str]:
        return re.compile("^(?:" + "|".join(branches) + ")$", _BOILERPLATE_LINE.flags)

    return {head: compiled(branches) for head, branches in by_head.items()}, compiled(digits)


_STOCK_BY_HEAD, _DIGIT_STOCK = _stock_patterns()
_BYLINE_STARTS = ("By", "BY", "Von", "Par", "Por", "Di", "Door")
_BYLINE_FIRSTS = frozenset(start[0] for start in _BYLINE_STARTS)  # one lookup rules out most lines
# the longest a line matched by _BOILERPLATE_LINE can be, but for the cookie notices
# ("this article was updated …", "also read …": prefix plus bounded tail)
_LONGEST_STOCK = 240
_AGENCIES = ("getty", "shutterstock", "istock", "alamy", "unsplash", "pexels")
_CONSENT = re.compile(r"\bcookies?\b.{0,200}\b(?:consent|accept|agree|privacy|settings|preferences)\b"
                      r"|\b(?:consent|accept|agree)\b.{0,200}\bcookies?\b", re.I)


def is_boilerplate_line(line: str) -> bool:
    """A short line that is a stock phrase of page furniture, or cookie/consent text.

    >>> is_boilerplate_line("Advertisement"), is_boilerplate_line("Share this article")
    (True, True)
    >>> is_boilerplate_line("We use cookies to improve your experience. By continuing you accept.")
    True
    >>> is_boilerplate_line("Share prices fell sharply on Monday after the report.")
    False
    >>> is_boilerplate_line("By Jane Doe and John Roe"), is_boilerplate_line("By the end of the year, sales rose.")
    (True, False)
    >>> is_boilerplate_line("Jane Doe | Getty Images"), is_boilerplate_line("Also read: Ten ways to save energy")
    (True, True)
    """
    if len(line) > 500:
        return False
    cookie = "ookie" in line or "OOKIE" in line
    if len(line) > _LONGEST_STOCK and not cookie:
        return False  # a paragraph of prose: no stock pattern is this long but the cookie ones
    bare = line.strip(" \t|•·-–—:")
    head = bare[:3].lower()  # outside ASCII, case folding is the pattern's to judge
    stock = _STOCK_BY_HEAD.get(head)  # outside ASCII, case folding is the whole pattern's to judge
    if stock is None and head:
        stock = _DIGIT_STOCK if head[0].isdigit() else None if head.isascii() else _BOILERPLATE_LINE
    if stock is not None and stock.match(bare):
        return True
    if len(bare) < 200 and bare[:1] in _BYLINE_FIRSTS and bare.startswith(_BYLINE_STARTS) and _BYLINE.match(bare):
        return True
    # a credit needs one of its separators before the agency's name (each test is a C scan)
    if (len(bare) < 140 and ("|" in bare or "/" in bare or ":" in bare or "©" in bare)
            and any(map(bare.lower().__contains__, _AGENCIES)) and _CREDIT.fullmatch(bare)):
        return True
    # the consent pattern is slow (two bounded gaps); a substring test rules out most lines first
    # (a case-insensitive regex search is no faster than the pattern itself)
    return cookie and len(line) < 400 and _CONSENT.search(line) is not None


def without_boilerplate(lines: list[str]) -> list[str]:
    """The lines that are not :func:`is_boilerplate_line`; prose-length lines skip the call.

    >>> without_boilerplate(["Advertisement", "The council met on Monday.", "Share this"])
    ['The council met on Monday.']
    """
    return [line for line in lines
            if (len(line) > _LONGEST_STOCK and "ookie" not in line and "OOKIE" not in line)
            or not is_boilerplate_line(line)]
