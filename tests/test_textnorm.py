from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from archive.textnorm import (
    is_cjk,
    normalize,
    normalized_tokens,
    shingles,
    split_paragraphs,
    token_text,
    tokens,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("‘quoted’ and “double”", "'quoted' and \"double\""),
    ("en – em — minus − dash", "en - em - minus - dash"),
    ("zero\u200bwidth\u200d join\ufeff", "zerowidth join"),
    ("soft\u00adhyphen", "softhyphen"),
    ("non\u00a0breaking\u3000ideographic\tand\n\nnewlines", "non breaking ideographic and newlines"),
    ("ﬁne ligature, ｆｕｌｌ width", "fine ligature, full width"),
    ("ellipsis…", "ellipsis..."),
    ("", ""),
])
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_tokens_split_words_and_cjk_characters() -> None:
    assert tokens("It's 3,740 Petaflops!") == ["it", "s", "3", "740", "petaflops"]
    assert tokens("上海临港") == ["上", "海", "临", "港"]
    assert tokens("こんにちは世界") == list("こんにちは世界")
    assert tokens("한국어 텍스트") == list("한국어텍스트")
    assert tokens("हिन्दी Москва́ 2022") == ["हिन्दी", "москва́", "2022"]   # vowel signs and accents stay in words
    assert tokens("AI（人工智能）") == ["ai", "人", "工", "智", "能"]


def test_tokens_ignore_typography() -> None:
    assert tokens("“Smart”\u00a0cities—today") == tokens('"smart" cities-today')


def test_is_cjk() -> None:
    assert [is_cjk(c) for c in "中ひカ한a1 。"] == [True, True, True, True, False, False, False, False]


def test_token_text_and_paragraphs() -> None:
    assert token_text("  Hello,\n World ") == "hello world"
    assert split_paragraphs("a\r\n\r\nb\u2029c\n \n") == ["a", "b", "c"]
    assert split_paragraphs(["x", " ", "y"]) == ["x", "y"]


def test_shingles() -> None:
    assert shingles([], 3) == []
    assert shingles(["a", "b"], 3) == [("a", "b")]
    assert len(shingles(list("abcdef"), 3)) == 4
    with pytest.raises(ValueError):
        shingles(["a"], 0)


@given(st.text())
def test_normalize_is_idempotent_and_tokens_stable(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert tokens(once) == tokens(text)
    assert all(t and t == t.strip() for t in tokens(text))


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_fast_path_gives_the_general_tokens(text: str) -> None:
    """ASCII text skips normalize() and the big Unicode class: the tokens must not change."""
    from archive.textnorm import token_pattern

    assert tokens(text) == token_pattern().findall(normalize(text).casefold())
    assert normalized_tokens(normalize(text)) == token_pattern().findall(normalize(text).casefold())
