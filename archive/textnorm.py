"""Text normalisation and tokenisation, so a stored snapshot and a re-fetched page compare fairly.

Two texts of the same article differ in ways that are not changes: a stored copy
has curly quotes where the page has straight ones, non-breaking or ideographic
spaces, soft hyphens and zero-width characters left by a CMS, full-width Latin
letters in Chinese pages. :func:`normalize` removes those differences;
:func:`tokens` then splits the result per script: runs of word characters for
alphabetic scripts (Latin, Cyrillic, Greek, Arabic …) and *one token per
character* for Chinese, Japanese and Korean, which do not separate words with
spaces (the same rule as the project's extraction benchmark).

>>> normalize("“Smart”\u00a0cities — to\u00adday\u200b…")
'"Smart" cities - today...'
>>> tokens("Shanghai’s 临港新片区 AI-centre")
['shanghai', 's', '临', '港', '新', '片', '区', 'ai', 'centre']
>>> split_paragraphs("Title\\n\\n  first  para \\r\\nsecond\\n\\n")
['Title', 'first para', 'second']
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = ["CJK_RANGES", "is_cjk", "normalize", "normalized_tokens", "shingles", "split_paragraphs", "token_chars",
           "token_pattern", "token_text", "tokens"]

#: Han (with extensions and compatibility ideographs), Hiragana, Katakana, Hangul
#: syllables and jamo, and the ideographic iteration/zero marks 々 〆 〇.
CJK_RANGES = (
    "\u1100-\u11ff"          # Hangul Jamo
    "\u3005-\u3007"          # 々 〆 〇
    "\u3040-\u309f"          # Hiragana
    "\u30a0-\u30ff"          # Katakana
    "\u3130-\u318f"          # Hangul compatibility jamo
    "\u31f0-\u31ff"          # Katakana phonetic extensions
    "\u3400-\u4dbf"          # Han extension A
    "\u4e00-\u9fff"          # Han
    "\ua960-\ua97f"          # Hangul jamo extended A
    "\uac00-\ud7af"          # Hangul syllables
    "\ud7b0-\ud7ff"          # Hangul jamo extended B
    "\uf900-\ufaff"          # Han compatibility ideographs
    "\U00020000-\U0003134f"  # Han extensions B to G
)



def _mark_ranges() -> str:
    """Combining marks (Unicode category M) of the BMP as a regex class body.

    Python's ``\\w`` leaves them out, which would cut Hindi, Thai or decomposed
    Cyrillic words at every vowel sign or accent. Astral marks (historic scripts,
    variation selectors) are left out on purpose: any astral range in a class makes
    ``re`` test it range by range, five times slower on every character.
    """
    out, start = [], None
    for cp in range(0x10001):
        mark = unicodedata.category(chr(cp))[0] == "M"
        if mark and start is None:
            start = cp
        elif not mark and start is not None:
            out.append(f"{chr(start)}-{chr(cp - 1)}" if cp - 1 > start else chr(start))
            start = None
    return "".join(out)


_CJK = re.compile(f"[{CJK_RANGES}]")


@functools.cache
def token_pattern() -> re.Pattern[str]:
    """A CJK character alone, or a run of word characters (and combining marks) that are not CJK.

    Made at its first use (the mark table looks up 65,536 characters: ~20 ms), not at import:
    ASCII text never needs it, and most processes that import this module tokenise none.
    """
    return re.compile(f"[{CJK_RANGES}]|(?:[^\\W{CJK_RANGES}]|[{_mark_ranges()}])+")

# Characters that carry no text: zero-width space/joiners, word joiner, BOM, soft hyphen,
# invisible operators, Mongolian vowel separator, bidi marks and embeddings.
# (Regular expressions, not str.translate: a sub that finds nothing costs a scan, a
# translate with a dict costs a lookup per character, 5x slower on long texts.)
_INVISIBLE_CHARS = "".join(map(chr, (0xAD, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F),
                                      *range(0x2060, 0x2065), *range(0x2066, 0x206A), 0xFEFF)))
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]+")
# Typographic quotes and dashes to their ASCII forms (NFKC keeps them apart).
_PUNCT_MAP = {
    **dict.fromkeys("‘’‚‛′‵`´‹›", "'"),
    **dict.fromkeys("“”„‟″‶«»〝〞＂", '"'),
    **dict.fromkeys("‐‑‒–—―−⁃﹘﹣－", "-"),
}
_PUNCT = re.compile("[" + "".join(_PUNCT_MAP) + "]")
# The same two rewrites as presence tests and str.replace: a page has none or a few of these
# characters, and ``c in text`` is a memchr-like scan, so testing each of them is 3-4x faster
# than one regex scan of a long text (and than a sub with a callback per apostrophe).
_PUNCT_ITEMS = tuple(_PUNCT_MAP.items())
# For ASCII text :func:`token_pattern` is ``\w+`` of ASCII, and normalize() changes no word character
# (NFKC leaves ASCII alone; its only ASCII rewrites are backtick to quote and whitespace runs).
# The same holds for any text that is ASCII *after* normalize() and casefold(): an English page
# with curly quotes and dashes takes the fast path once those are made ASCII.
_ASCII_TOKEN = re.compile(r"[0-9A-Za-z_]+")
# token_chars() of ASCII text in one C pass: bytes.translate deletes every non-word byte and
# lower-cases the rest (a regex sub or a findall and join builds a Python object per token).
_ASCII_LOWER = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
_ASCII_NON_WORD = bytes(c for c in range(128) if not (chr(c).isalnum() or chr(c) == "_"))
_LINES = re.compile(r"[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")


def normalize(text: str) -> str:
    """NFKC, invisible characters removed, quotes and dashes made ASCII, whitespace runs as one space.

    Case is kept (it is for display and paragraph matching); :func:`tokens` folds it.
    Whitespace is collapsed with ``str.split()``, which splits on exactly the characters
    ``re``'s ``\\s`` matches (both use ``Py_UNICODE_ISSPACE``) and is 2x faster than a
    ``\\s+`` sub that replaces every single space of a long text with a space.

    >>> normalize("Ｆｕｌｌ\u3000width，ｙｅｓ")
    'Full width,yes'
    >>> normalize("  a\\n\\tb  ")
    'a b'
    """
    return " ".join(_clean(text).split())


def _clean(text: str) -> str:
    """:func:`normalize` but for the whitespace, which no token contains: what tokenising needs."""
    if text.isascii():  # NFKC and _INVISIBLE leave ASCII alone; the backtick is its one quote
        return text.replace("`", "'")
    if any(c in text for c in _INVISIBLE_CHARS):
        text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    for char, ascii_form in _PUNCT_ITEMS:   # no replacement makes another key: the order is free
        if char in text:
            text = text.replace(char, ascii_form)
    return text


def is_cjk(char: str) -> bool:
    """True for a Chinese, Japanese or Korean character that is a token on its own.

    >>> is_cjk("中"), is_cjk("か"), is_cjk("한"), is_cjk("a")
    (True, True, True, False)
    """
    return bool(_CJK.fullmatch(char))


def tokens(text: str) -> list[str]:
    """Lower-cased (case-folded) tokens of normalised ``text``: words, and single CJK characters.

    Punctuation and symbols are not tokens; digits are (``3,740`` gives ``3`` and ``740``).

    >>> tokens("The PETAFLOP (1Petaflop等于每秒) straße")
    ['the', 'petaflop', '1petaflop', '等', '于', '每', '秒', 'strasse']
    >>> tokens("")
    []
    """
    text = _clean(text)
    if text.isascii():  # same tokens, ~10x faster: nothing for normalize to change in a word
        return _ASCII_TOKEN.findall(text.lower())
    return normalized_tokens(text)


def normalized_tokens(text: str) -> list[str]:
    """:func:`tokens` of text that :func:`normalize` already went over (saves a second pass).

    >>> normalized_tokens(normalize("Ｆｕｌｌ width")) == tokens("Ｆｕｌｌ width")
    True
    """
    folded = text.casefold()      # the same as lower() on ASCII
    if folded.isascii():
        return _ASCII_TOKEN.findall(folded)
    return token_pattern().findall(folded)


def token_chars(text: str) -> str:
    """The tokens run together, ``"".join(tokens(text))``, without building the list of tokens.

    What a character-level score over a whole page needs (:func:`archive.compare.excerpt_contained`):
    for ASCII text (or text that is ASCII once normalised) it is one ``bytes.translate``,
    about 20x faster than tokenising a 70 KB page.

    >>> token_chars("Hello, “World” 临港!")
    'helloworld临港'
    >>> token_chars("Straße — Ｆｕｌｌ") == "".join(tokens("Straße — Ｆｕｌｌ"))
    True
    """
    text = _clean(text)
    if not text.isascii():
        text = text.casefold()
        if not text.isascii():
            return "".join(token_pattern().findall(text))
    return text.encode("ascii").translate(_ASCII_LOWER, _ASCII_NON_WORD).decode("ascii")


def token_text(text: str) -> str:
    """The tokens joined by single spaces: a canonical form for substring tests.

    >>> token_text("Hello,  “World”!")
    'hello world'
    """
    return " ".join(tokens(text))


def split_paragraphs(text: str | Sequence[str]) -> list[str]:
    """Paragraphs of ``text``: each non-empty line, normalised.

    A stored body separates paragraphs with blank lines or single line breaks, an
    extractor may give a list: both give the same list here. A sequence is taken
    as paragraphs already (each still normalised; empty ones dropped).

    >>> split_paragraphs(["  one ", "", "two\\u00a0"])
    ['one', 'two']
    """
    parts: Iterable[str] = _LINES.split(text) if isinstance(text, str) else text
    out = []
    for part in parts:
        para = normalize(part)
        if para:
            out.append(para)
    return out


def shingles(toks: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """Overlapping ``n``-token windows; a text shorter than ``n`` tokens is one shingle (none if empty).

    >>> shingles(["a", "b", "c", "d"], 3)
    [('a', 'b', 'c'), ('b', 'c', 'd')]
    >>> shingles(["a"], 3)
    [('a',)]
    """
    if n < 1:
        raise ValueError("shingle size must be at least 1")
    if not toks:
        return []
    if len(toks) <= n:
        return [tuple(toks)]
    return list(zip(*(toks[i:] for i in range(n)), strict=False))
