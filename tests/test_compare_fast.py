"""The fast paths of archive.textnorm and archive.compare return what the slow reference returned.

The references below are the implementations before the speed work (kept here, not in the
package): normalize with a ``\\s+`` sub, tokens by the one big regex, shingles as tuples of
strings intersected with ``Counter &``, Indel over the token strings, and the excerpt test by
token lists joined with spaces. Hypothesis draws texts from an alphabet chosen to hit every
branch (ASCII, curly quotes and dashes, invisible characters, unusual whitespace, full-width
letters, CJK, combining marks, case folding that changes length) and compares exactly: the
scores are evidence in reports, so "close" is not enough.
"""

from __future__ import annotations

import doctest
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

import archive.compare
from archive import textnorm
from archive.align import align_tokenized
from archive.compare import SHINGLE, TextComparison, compare_texts, compare_title, excerpt_contained
from archive.textnorm import normalize, normalized_tokens, shingles, split_paragraphs, token_chars, tokens

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- the slow references ---------------------------------------------------------------------------

_REF_SPACE = re.compile(r"\s+")
_REF_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]+")


def ref_normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", _REF_INVISIBLE.sub("", text))
    text = textnorm._PUNCT.sub(lambda m: textnorm._PUNCT_MAP[m.group()], text)
    return _REF_SPACE.sub(" ", text).strip()


def ref_tokens(text: str) -> list[str]:
    return textnorm.token_pattern().findall(ref_normalize(text).casefold())


def ref_split_paragraphs(text: str | Sequence[str]) -> list[str]:
    parts = textnorm._LINES.split(text) if isinstance(text, str) else text
    return [p for p in (ref_normalize(part) for part in parts) if p]


def ref_compare_texts(stored: str | Sequence[str], found: str | Sequence[str]) -> TextComparison:
    s_paras, f_paras = ref_split_paragraphs(stored), ref_split_paragraphs(found)
    s_per = [textnorm.token_pattern().findall(p.casefold()) for p in s_paras]
    f_per = [textnorm.token_pattern().findall(p.casefold()) for p in f_paras]
    s_toks = [t for toks in s_per for t in toks]
    f_toks = [t for toks in f_per for t in toks]
    s_sh, f_sh = Counter(shingles(s_toks, SHINGLE)), Counter(shingles(f_toks, SHINGLE))
    overlap = sum((s_sh & f_sh).values())
    n_s, n_f = sum(s_sh.values()), sum(f_sh.values())
    return TextComparison(
        recall=overlap / n_s if n_s else 1.0,
        precision=overlap / n_f if n_f else 1.0,
        similarity=Indel.normalized_similarity(s_toks, f_toks),
        stored_tokens=len(s_toks),
        found_tokens=len(f_toks),
        paragraphs=align_tokenized(s_paras, f_paras, s_per, f_per),
    )


_CUT = re.compile(r"(\.\.\.|…|[-–—,;:])\s*$")
_SENTENCE_END = re.compile(r"[.!?。！？\"')\]」』》]\s*$")


def ref_excerpt_contained(excerpt: str, text: str) -> float:
    trimmed = ref_normalize(excerpt)
    cut = bool(_CUT.search(trimmed)) or not _SENTENCE_END.search(trimmed)
    trimmed = _CUT.sub("", trimmed)
    toks = ref_tokens(trimmed)
    if cut and len(toks) > 1:
        toks = toks[:-1]
    if not toks:
        return 0.0
    hay_toks = ref_tokens(text)
    if not hay_toks:
        return 0.0
    if f" {' '.join(toks)} " in f" {' '.join(hay_toks)} ":
        return 1.0
    return fuzz.partial_ratio("".join(toks), "".join(hay_toks)) / 100


_SITE_SEP = re.compile(r"\s+[|\-:·•»]\s+|\s*[_｜|]\s*|\s+::\s+")


def ref_compare_title(cited: str, found: str) -> float:
    def compact(text: str) -> str:
        return "".join(ref_tokens(text))
    a = compact(cited)
    if not a or not ref_normalize(found):
        return 0.0
    pieces = [p for p in _SITE_SEP.split(ref_normalize(found)) if p.strip()]
    candidates = {compact(found)}
    for k in range(1, len(pieces)):
        candidates.add(compact(" ".join(pieces[:k])))
        candidates.add(compact(" ".join(pieces[k:])))
    return max(fuzz.ratio(a, b) for b in candidates) / 100


# -- strategies ------------------------------------------------------------------------------------

# every kind of character a branch depends on, several times the plain ones so texts have words
_CHARS = ("abcdeABCDE0_ " * 3 + ".,;:!?-'\"`\n\r\t\x0b\x0c\x1c\x85\u2028\u00a0\u3000\u2009"
          "‘’“”«»–—−\u00ad\u200b\u200d\ufeff\u2066ＡＢｃ１，。！临港中心々かカ한\U00020001"
          "é\u0301\u0915\u093f\u0e01\u0e34ßẞİKﬁ…²½")
mixed = st.text(alphabet=st.sampled_from(_CHARS), max_size=120)
any_text = st.one_of(mixed, st.text(max_size=60))
# few words, so shingles, windows and paragraphs really overlap
_WORDS = ["the", "cat", "sat", "on", "mat", "The", "“Cat”", "sat.", "中", "心", "naïve", "naı̈ve", "ＭＡＴ", "a—b",
          "to\u00adday", "today", "`x`", "'x'"]
word_text = st.lists(st.sampled_from([*_WORDS, " ", "\n", "\n\n", ", "]), max_size=60).map(" ".join)


# -- textnorm --------------------------------------------------------------------------------------


@SETTINGS
@given(any_text)
def test_normalize_and_tokens_match_the_reference(text: str) -> None:
    assert normalize(text) == ref_normalize(text)
    assert tokens(text) == ref_tokens(text)
    assert token_chars(text) == "".join(ref_tokens(text))
    assert normalized_tokens(ref_normalize(text)) == ref_tokens(text)
    assert split_paragraphs(text) == ref_split_paragraphs(text)


def test_token_chars_fast_paths_are_taken_and_exact() -> None:
    # ASCII, ASCII after normalisation (curly quotes, dashes), and truly non-ASCII
    for text in ("It's a Test_1, OK?", "It’s a “test” — OK…", "Straße 临港 naïve Ｆｕｌｌ"):
        assert token_chars(text) == "".join(ref_tokens(text))


# -- compare ---------------------------------------------------------------------------------------


@SETTINGS
@given(word_text, word_text)
def test_compare_texts_matches_the_reference(stored: str, found: str) -> None:
    assert compare_texts(stored, found) == ref_compare_texts(stored, found)


@SETTINGS
@given(st.lists(word_text, max_size=6), st.lists(word_text, max_size=6))
def test_compare_texts_of_paragraph_lists_matches_the_reference(stored: list[str], found: list[str]) -> None:
    assert compare_texts(stored, found) == ref_compare_texts(stored, found)


@SETTINGS
@given(any_text, any_text)
def test_compare_texts_of_any_text_matches_the_reference(stored: str, found: str) -> None:
    assert compare_texts(stored, found) == ref_compare_texts(stored, found)


def test_short_texts_keep_their_one_shingle_apart_from_full_shingles() -> None:
    # two tokens make one (shorter) shingle: it must not match any 3-token shingle
    for stored, found in (("cat sat", "cat sat on"), ("cat", "cat cat cat"), ("a b", "a b"), ("the the the", "the the the the"), ("", "x y z")):
        assert compare_texts(stored, found) == ref_compare_texts(stored, found)


@SETTINGS
@given(st.one_of(word_text, mixed), st.data())
def test_excerpt_contained_matches_the_reference(text: str, data: st.DataObject) -> None:
    # excerpts cut from the text (found), cut and edited (near), and unrelated (missing)
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, len(text)))
    excerpt = text[i:j] + data.draw(st.sampled_from(["", "…", "...", " -", ".", " x", "Z."]))
    edit = data.draw(st.integers(0, max(len(excerpt) - 1, 0)))
    for candidate in (excerpt, excerpt[:edit] + "q" + excerpt[edit + 1:], data.draw(any_text)):
        assert excerpt_contained(candidate, text) == ref_excerpt_contained(candidate, text)


def test_excerpt_found_across_token_boundaries_scores_one_like_the_reference() -> None:
    # "cats at" is not the tokens "cat sat" in a row, but its characters are: partial_ratio gave 100 too
    assert ref_excerpt_contained("cats at the", "the cat sat there") == 1.0
    assert excerpt_contained("cats at the", "the cat sat there") == 1.0


@SETTINGS
@given(st.one_of(word_text, mixed), st.one_of(word_text, mixed))
def test_compare_title_matches_the_reference(cited: str, found: str) -> None:
    assert compare_title(cited, found) == ref_compare_title(cited, found)
    site = f"{cited} - Site | Other"
    assert compare_title(cited, site) == ref_compare_title(cited, site)


def test_doctests() -> None:
    assert doctest.testmod(archive.compare).failed == 0
    assert doctest.testmod(textnorm).failed == 0
