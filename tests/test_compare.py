"""compare_texts, titles, excerpts and dates over English and Chinese samples."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.align import align_paragraphs
from archive.compare import compare_texts, compare_title, excerpt_contained
from archive.dates import compare_published, parse_when
from tests.texts import EN, EN_OTHER, ZH, ZH_OTHER, text

SAMPLES = pytest.mark.parametrize(("same", "other"), [(EN, EN_OTHER), (ZH, ZH_OTHER)], ids=["en", "zh"])


@SAMPLES
def test_identical(same: list[str], other: list[str]) -> None:
    c = compare_texts(text(same), text(same))
    assert (c.recall, c.precision, c.similarity) == (1.0, 1.0, 1.0)
    assert c.counts() == {"kept": len(same), "changed": 0, "removed": 0, "added": 0, "moved": 0}


@SAMPLES
def test_typography_and_layout_are_not_changes(same: list[str], other: list[str]) -> None:
    found = "\n".join(p.replace(",", "，").replace(" ", "\u00a0 ") + "\u200b" for p in same)
    c = compare_texts(text(same), found)
    assert c.recall == 1.0
    assert all(p.kind == "kept" for p in c.paragraphs)


@SAMPLES
def test_one_paragraph_edited(same: list[str], other: list[str]) -> None:
    edited = list(same)
    edited[2] = edited[2][: len(edited[2]) // 2] + ("and then something new." if same is EN else "随后发生了新的变化。")
    c = compare_texts(text(same), text(edited))
    assert 0.6 < c.recall < 0.97
    kinds = [p.kind for p in c.paragraphs]
    assert kinds == ["kept", "kept", "changed", "kept", "kept", "kept"]
    changed = c.paragraphs[2]
    assert changed.stored_index == changed.found_index == 2
    assert 0.5 <= changed.similarity < 1.0


@SAMPLES
def test_paragraph_removed_and_added(same: list[str], other: list[str]) -> None:
    found = [*same[:3], other[0], *same[4:]]
    c = compare_texts(text(same), text(found))
    kinds = [(p.kind, p.stored_index, p.found_index) for p in c.paragraphs]
    assert ("removed", 3, None) in kinds and ("added", None, 3) in kinds
    # the removed paragraph sits next to where it was, before the added one
    assert kinds.index(("removed", 3, None)) == 3
    assert c.recall < 0.9 and c.precision < 0.9


@SAMPLES
def test_paragraphs_reordered(same: list[str], other: list[str]) -> None:
    found = [same[0], same[3], same[1], same[2], same[4], same[5]]
    c = compare_texts(text(same), text(found))
    assert c.recall > 0.95            # content is all there; only boundary shingles lost
    assert c.similarity < c.recall    # the order-aware score sees the move
    assert c.counts()["kept"] == 6 and c.counts()["moved"] == 1
    assert [p.stored_index for p in c.paragraphs if p.moved] == [3]


@SAMPLES
def test_different_page(same: list[str], other: list[str]) -> None:
    c = compare_texts(text(same), text(other))
    assert c.recall < 0.05 and c.precision < 0.05
    assert c.counts()["kept"] == c.counts()["changed"] == 0


@SAMPLES
def test_boilerplate_around_the_article_costs_precision_only(same: list[str], other: list[str]) -> None:
    c = compare_texts(text(same), "Home | News\n" + text(same) + "\nShare this\nRelated stories")
    assert c.recall == 1.0 and c.precision < 1.0
    assert [p.kind for p in c.paragraphs].count("added") == 3


def test_empty_texts() -> None:
    c = compare_texts("", "")
    assert (c.recall, c.precision, c.stored_tokens, c.found_tokens, c.paragraphs) == (1.0, 1.0, 0, 0, ())
    c = compare_texts(text(EN), "")
    assert c.recall == 0.0 and c.found_tokens == 0 and all(p.kind == "removed" for p in c.paragraphs)
    c = compare_texts("   \n\n", text(ZH))
    assert c.stored_tokens == 0 and all(p.kind == "added" for p in c.paragraphs)


def test_paragraph_lists_are_accepted() -> None:
    assert compare_texts(EN, text(EN)).recall == 1.0


def test_duplicate_paragraphs_pair_up_once() -> None:
    changes = align_paragraphs(["Photo: x", "Body text here.", "Photo: x"], ["Photo: x", "Body text here."])
    assert [c.kind for c in changes] == ["kept", "kept", "removed"]


def test_alignment_is_fast_on_500_paragraph_pages() -> None:
    stored = [f"{p} (part {i}, section {i * 7 % 13})" for i in range(84) for p in EN][:500]
    found = list(stored)
    for i in range(0, 500, 10):
        found[i] = found[i].replace("the", "a")
    found = found[:250] + [f"{p} [{i}]" for i, p in enumerate(EN_OTHER * 10)] + found[250:]
    start = time.perf_counter()
    c = compare_texts(stored, found)
    elapsed = time.perf_counter() - start
    counts = c.counts()
    assert counts["changed"] >= 40 and counts["added"] == 40 and counts["removed"] == 0
    assert elapsed < 2.0, elapsed     # ~0.1 s here; generous for a shared, loaded machine


def test_unrelated_500_paragraph_pages_are_fast() -> None:
    stored = [f"{p} number {i}" for i in range(100) for p in EN][:500]
    found = [f"{p} item {i}" for i in range(130) for p in EN_OTHER][:500]
    start = time.perf_counter()
    compare_texts(stored, found)
    assert time.perf_counter() - start < 2.0


# -- titles, excerpts ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("cited", "found", "low", "high"), [
    ("Data centre opens in Shanghai", "Data centre opens in Shanghai | CGTN", 1.0, 1.0),
    ("Data centre opens in Shanghai", "CGTN - Data centre opens in Shanghai", 1.0, 1.0),
    ("Data centre opens in Shanghai", "Data center opens in Shanghai", 0.9, 0.99),
    ("打造人工智能高地", "打造人工智能高地_新浪财经_新浪网", 1.0, 1.0),
    ("打造人工智能高地", "港务局宣布轮渡加班", 0.0, 0.3),
    ("Data centre opens in Shanghai", "Ferry timetable for the summer", 0.0, 0.5),
    ("Data centre opens", "", 0.0, 0.0),
    ("", "Anything", 0.0, 0.0),
])
def test_compare_title(cited: str, found: str, low: float, high: float) -> None:
    assert low <= compare_title(cited, found) <= high


def test_excerpt_cut_mid_word_and_with_ellipsis() -> None:
    body = text(EN)
    assert excerpt_contained("A new computing centre opened on Monday in the po", body) == 1.0
    assert excerpt_contained("A new computing centre opened on Monday…", body) == 1.0
    assert excerpt_contained("“The centre is designed for a peak capacity of several thousand ...", body) == 1.0
    assert excerpt_contained("本市港区的一座新计算中心于周一正式启用，市政府表示…", text(ZH)) == 1.0


def test_excerpt_reworded_or_absent() -> None:
    reworded = "A new computing center opened Monday in the port district, city officials said."
    assert 0.75 < excerpt_contained(reworded, text(EN)) < 1.0
    assert excerpt_contained(EN_OTHER[0], text(EN)) < 0.6
    assert excerpt_contained(ZH_OTHER[0], text(ZH)) < 0.3
    assert excerpt_contained("", text(EN)) == 0.0
    assert excerpt_contained("…", text(EN)) == 0.0
    assert excerpt_contained("Some excerpt.", "") == 0.0


# -- dates -----------------------------------------------------------------------------------------------

def test_parse_when_forms() -> None:
    assert parse_when("2022-01-24T14:56:00Z") == datetime(2022, 1, 24, 14, 56, tzinfo=UTC)
    assert parse_when("2022-01-24T14:56:00+08:00") == datetime(2022, 1, 24, 6, 56, tzinfo=UTC)
    assert parse_when("Mon, 24 Jan 2022 03:05:25 GMT") == datetime(2022, 1, 24, 3, 5, 25, tzinfo=UTC)
    assert parse_when("2022-01-24") == date(2022, 1, 24)
    assert parse_when(date(2022, 1, 24)) == date(2022, 1, 24)
    for bad in ("", "  ", "yesterday", "2022-13-45", None):
        assert parse_when(bad) is None


def test_same_day_is_timezone_aware() -> None:
    shanghai = timezone(timedelta(hours=8))
    cited = datetime(2022, 1, 24, 20, 0, tzinfo=UTC)
    same = compare_published(cited, datetime(2022, 1, 25, 4, 0, tzinfo=shanghai))
    assert same is not None and same.same_day and same.delta_seconds == 0.0
    later = compare_published("2022-01-24T10:06:00Z", "2022-01-27T19:43:00Z")
    assert later is not None and not later.same_day and later.delta_seconds == 3 * 86400 + 9 * 3600 + 37 * 60
    naive = compare_published("2022-01-24T23:00:00", "2022-01-24T01:00:00Z")
    assert naive is not None and naive.same_day and naive.delta_seconds is None
    assert compare_published("2022-01-24", "2022-01-24T23:59:00-05:00").same_day  # type: ignore[union-attr]
    assert compare_published(None, "2022-01-24") is None
    assert compare_published("2022-01-24", "not a date") is None


# -- fuzz ------------------------------------------------------------------------------------------------

_words = st.sampled_from(["the", "centre", "opened", "上", "海", "临", "港", "“", "—", "\u200b", "\u00ad", " ",
                          "\n", "\n\n", "ﬁ", "Straße", "hi\u0301", "…", "3,740"])
_texts = st.lists(_words, max_size=60).map("".join) | st.text(max_size=200)


@settings(max_examples=200, deadline=None)
@given(_texts, _texts)
def test_compare_texts_fuzz(stored: str, found: str) -> None:
    c = compare_texts(stored, found)
    for score in (c.recall, c.precision, c.similarity):
        assert 0.0 <= score <= 1.0
    counts = c.counts()
    assert counts["kept"] + counts["changed"] + counts["removed"] == len([p for p in c.paragraphs if p.stored])
    assert sorted(p.found_index for p in c.paragraphs if p.found_index is not None) == list(
        range(counts["kept"] + counts["changed"] + counts["added"]))
    same = compare_texts(stored, stored)
    assert same.recall == 1.0 and same.precision == 1.0
    assert all(p.kind == "kept" and not p.moved for p in same.paragraphs)


@settings(max_examples=100, deadline=None)
@given(_texts, _texts)
def test_title_and_excerpt_fuzz(a: str, b: str) -> None:
    assert 0.0 <= compare_title(a, b) <= 1.0
    assert 0.0 <= excerpt_contained(a, b) <= 1.0
