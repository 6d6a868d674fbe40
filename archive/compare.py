"""Does the page still say what the snapshot says? Scores for text, title, excerpt and date.

All functions are pure and work on plain strings; both sides go through
:mod:`archive.textnorm` first, so typography, spacing and case never count as change,
and Chinese is compared character by character.

**Recall and precision are over token 3-shingles, counted with multiplicity.**
``recall`` is the share of the stored text's shingles found in the page,
``precision`` the share of the page's shingles found in the stored text. Why
shingles rather than a bag of tokens: two different articles on the same story
share most of their *words* (a bag of words scores them 0.5 or more, which would
read as "major changes" rather than "different page"), but few three-word runs.
Why 3 and not the extraction benchmark's 4: one edited word costs ``n`` shingles,
so ``n = 3`` keeps a 1 % word edit rate at recall ≈ 0.97 ("unchanged" by
default) while a different page on the same topic still scores near 0; paragraph
moves cost only the ``n - 1`` shingles across each boundary, so reordering is
not "change" for recall (the paragraph diff shows it as ``moved``).

``similarity`` is order-aware: rapidfuzz's normalised Indel similarity of the two
token sequences (``2·LCS / (len a + len b)``), bit-parallel in C++, milliseconds on
50 KB texts where difflib takes seconds.

**Speed without changing a figure.** Tokens are numbered once per comparison (a
dict shared by both texts), so a shingle is one int (``(a·V + b)·V + c``, ``V`` the
vocabulary size: equal iff the tokens are equal) rather than a tuple of strings,
and rapidfuzz compares int sequences instead of hashing every string again: the
scores depend only on which tokens are equal, so they are the same numbers,
about 2x sooner (``scripts/bench_compare.py``; ``tests/test_compare_fast.py``
checks them against the tuple-of-strings reference on random texts).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from archive.align import ParagraphChange, align_tokenized
from archive.dates import DateComparison, compare_published
from archive.textnorm import normalize, normalized_tokens, split_paragraphs, token_chars, tokens

__all__ = [
    "SHINGLE",
    "DateComparison",
    "ParagraphChange",
    "TextComparison",
    "compare_published",
    "compare_texts",
    "compare_title",
    "excerpt_contained",
]

#: tokens per shingle for recall and precision (see the module docstring)
SHINGLE = 3


@dataclass(frozen=True, slots=True)
class TextComparison:
    """How much of the stored text the page still has, and where it differs.

    ``recall`` is 1.0 when the stored text has no tokens (nothing can be missing)
    and ``precision`` is 1.0 when the page has none; check ``stored_tokens`` and
    ``found_tokens`` before reading either as evidence.
    """

    recall: float
    precision: float
    similarity: float
    stored_tokens: int
    found_tokens: int
    paragraphs: tuple[ParagraphChange, ...]

    def counts(self) -> dict[str, int]:
        """Paragraphs per kind, and how many kept or changed ones moved."""
        out = dict.fromkeys(("kept", "changed", "removed", "added", "moved"), 0)
        for p in self.paragraphs:
            out[p.kind] += 1
            out["moved"] += p.moved
        return out


def compare_texts(stored: str | Sequence[str], found: str | Sequence[str], *,
                  pair_threshold: float = 0.5) -> TextComparison:
    """Compare a stored body with a page's extracted text (each a string or a list of paragraphs).

    ``pair_threshold`` is the paragraph similarity from which two paragraphs are
    one paragraph *changed* rather than one removed and one added.

    >>> c = compare_texts("One two three four.\\n\\nFive six seven.", "one two three four\\nfive six SEVEN!")
    >>> c.recall, c.precision, c.similarity, c.counts()["kept"]
    (1.0, 1.0, 1.0, 2)
    >>> round(compare_texts("北京是中国的首都。", "上海是中国最大的城市。").recall, 2)
    0.17
    """
    s_paras, f_paras = split_paragraphs(stored), split_paragraphs(found)
    s_per = [normalized_tokens(p) for p in s_paras]
    f_per = [normalized_tokens(p) for p in f_paras]
    # the whole text's tokens (not per paragraph), so shingles run across paragraph breaks
    ids: dict[str, int] = {}
    s_ids = [ids.setdefault(t, len(ids)) for toks in s_per for t in toks]
    f_ids = [ids.setdefault(t, len(ids)) for toks in f_per for t in toks]
    s_sh = Counter(_shingle_keys(s_ids, len(ids)))
    f_sh = Counter(_shingle_keys(f_ids, len(ids)))
    overlap = sum(min(n, f_sh[k]) for k, n in s_sh.items() if k in f_sh)
    n_s, n_f = sum(s_sh.values()), sum(f_sh.values())
    return TextComparison(
        recall=overlap / n_s if n_s else 1.0,
        precision=overlap / n_f if n_f else 1.0,
        similarity=Indel.normalized_similarity(s_ids, f_ids),
        stored_tokens=len(s_ids),
        found_tokens=len(f_ids),
        paragraphs=align_tokenized(s_paras, f_paras, s_per, f_per, pair_threshold=pair_threshold),
    )


def _shingle_keys(ids: list[int], base: int) -> list[int] | list[tuple[int, ...]]:
    """:func:`archive.textnorm.shingles` of token numbers, each shingle as one int in base ``base``.

    A text shorter than :data:`SHINGLE` tokens is one shingle, kept as a tuple so it can
    never equal a full shingle's int (as the tuples of strings never could).

    >>> _shingle_keys([0, 1, 2, 1], 3), _shingle_keys([0, 1, 2], 3), _shingle_keys([0, 1], 3), _shingle_keys([], 3)
    ([5, 16], [5], [(0, 1)], [])
    """
    if len(ids) < SHINGLE:
        return [tuple(ids)] if ids else []
    keys = ids[: len(ids) - SHINGLE + 1]
    for k in range(1, SHINGLE):
        keys = [key * base + t for key, t in zip(keys, ids[k:], strict=False)]
    return keys


# Separators between an article title and the site name in <title> or og:title.
_SITE_SEP = re.compile(r"\s+[|\-:·•»]\s+|\s*[_｜|]\s*|\s+::\s+")


def compare_title(cited: str, found: str) -> float:
    """Similarity 0..1 of a cited title and a page's title, ignoring a site name the page adds.

    Pages title themselves "Headline - Site" or "标题_新浪财经_新浪网"; the score is
    the best normalised Indel ratio of the cited title against the whole found
    title and against each run of its pieces that starts or ends it, by characters
    of their tokens (punctuation, case and spacing aside). Empty → 0.0.

    >>> compare_title("SenseTime launches AI center", "SenseTime launches AI center - Global Times")
    1.0
    >>> compare_title("打造人工智能高地", "打造人工智能高地_新浪财经_新浪网")
    1.0
    >>> compare_title("Something else entirely", "SenseTime launches AI center") < 0.5
    True
    """
    a = token_chars(cited)
    whole = normalize(found)
    if not a or not whole:
        return 0.0
    pieces = [p for p in _SITE_SEP.split(whole) if p.strip()]
    candidates = {token_chars(whole)}
    for k in range(1, len(pieces)):
        candidates.add(token_chars(" ".join(pieces[:k])))
        candidates.add(token_chars(" ".join(pieces[k:])))
    return max(fuzz.ratio(a, b) for b in candidates) / 100


_CUT = re.compile(r"(\.\.\.|…|[-–—,;:])\s*$")
_SENTENCE_END = re.compile(r"[.!?。！？\"')\]」』》]\s*$")


def excerpt_contained(excerpt: str, text: str) -> float:
    """How well ``excerpt`` is contained in ``text``, 0..1 (1.0: verbatim, modulo normalisation).

    Excerpts are cut: they end with "…", mid-sentence or mid-word. A trailing
    ellipsis is dropped, and so is the last token when the excerpt does not end a
    sentence (it may be half a word, "firm S"). The score is rapidfuzz's partial
    ratio (by characters of the tokens): the best alignment of the excerpt against
    any window of the text.
    An empty excerpt (after that) scores 0.0.

    The page is never tokenised into a list: :func:`archive.textnorm.token_chars` gives
    its characters of tokens in one pass, and an excerpt found in them as a substring
    scores 1.0 at once. That is exactly what the partial ratio would give (rapidfuzz ≥ 3
    slides a window over every offset, so an exact window scores 100), and it covers
    the old verbatim-on-token-boundaries test (tokens in a row are a substring of the
    characters run together); ``tests/test_compare_fast.py`` checks both on random texts.

    >>> excerpt_contained("The first mega AI computing center in East China operated by S…",
    ...                   "Courtesy. The first mega AI computing center in East China operated by SenseTime.")
    1.0
    >>> excerpt_contained("临港新片区启动运营，其设计的峰值算", "中心在上海临港新片区启动运营，其设计的峰值算力高达")
    1.0
    >>> excerpt_contained("A sentence that is not there at all.", "Something else entirely.") < 0.6
    True
    """
    trimmed = normalize(excerpt)
    cut = bool(_CUT.search(trimmed)) or not _SENTENCE_END.search(trimmed)
    trimmed = _CUT.sub("", trimmed)
    toks = tokens(trimmed)
    if cut and len(toks) > 1:
        toks = toks[:-1]
    if not toks:
        return 0.0
    hay = token_chars(text)
    if not hay:
        return 0.0
    needle = "".join(toks)
    if needle in hay:
        return 1.0                                   # verbatim, modulo normalisation and spacing
    return fuzz.partial_ratio(needle, hay) / 100

