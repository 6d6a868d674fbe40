"""Paragraph alignment: which stored paragraphs were kept, changed, removed, and which are new.

A person reading a report wants to see *where* an article changed, side by side.
The alignment works in three passes, each cheap enough for 500-paragraph pages:

1. **exact**: paragraphs whose tokens are equal (case, quotes, spacing and
   punctuation aside) are *kept*, matched in order through a hash table;
2. **fuzzy**: for each remaining stored paragraph, candidate found paragraphs are
   the ones sharing a token trigram that is not common to many paragraphs (an
   inverted index; at most :data:`CANDIDATES` per paragraph), scored with
   rapidfuzz's normalised Indel ratio on the normalised text; pairs at or above
   ``pair_threshold`` are matched greedily, best first, as *changed*. Comparing
   every pair instead would be 250 000 rapidfuzz calls on a 500 × 500 page
   (0.7 s measured here); the index keeps it to a few thousand;
3. the rest are *removed* (stored only) or *added* (found only).

Kept and changed paragraphs out of their original order are flagged ``moved``
(they are not on the longest increasing run of matched positions). The output is
in reading order of the found page, with each removed paragraph placed after the
found paragraph its stored predecessor matched, so a side-by-side view reads
naturally.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from archive.textnorm import normalized_tokens, shingles

__all__ = ["CANDIDATES", "ParagraphChange", "align_paragraphs", "align_tokenized"]

#: fuzzy candidates scored per unmatched stored paragraph
CANDIDATES = 8
#: a trigram found in more paragraphs than this is too common to suggest a pair
_COMMON = 8

ChangeKind = Literal["kept", "changed", "removed", "added"]


@dataclass(frozen=True, slots=True)
class ParagraphChange:
    """One row of a paragraph diff. ``stored``/``found`` are the normalised paragraphs (None when absent).

    ``similarity`` is 1.0 for kept, the rapidfuzz ratio (0..1) for changed, 0.0 for removed/added.
    Indexes count paragraphs from 0 in each text.
    """

    kind: ChangeKind
    stored: str | None
    found: str | None
    similarity: float
    stored_index: int | None
    found_index: int | None
    moved: bool = False


def align_paragraphs(stored: Sequence[str], found: Sequence[str], *,
                     pair_threshold: float = 0.5) -> tuple[ParagraphChange, ...]:
    """Align two lists of normalised paragraphs (see :func:`archive.textnorm.split_paragraphs`).

    >>> [c.kind for c in align_paragraphs(["A b c.", "Old text here"], ["a b c", "New", "Old text here!"])]
    ['kept', 'added', 'kept']
    >>> [(c.kind, round(c.similarity, 2)) for c in align_paragraphs(["the cat sat"], ["the cat sat down"])]
    [('changed', 0.81)]
    """
    return align_tokenized(stored, found, [normalized_tokens(p) for p in stored],
                           [normalized_tokens(p) for p in found], pair_threshold=pair_threshold)


def align_tokenized(stored: Sequence[str], found: Sequence[str], stored_tokens: Sequence[Sequence[str]],
                    found_tokens: Sequence[Sequence[str]], *, pair_threshold: float = 0.5) -> tuple[ParagraphChange, ...]:
    """:func:`align_paragraphs` with each paragraph's tokens already computed (``compare_texts`` has them)."""
    s_keys = [_key(p, t) for p, t in zip(stored, stored_tokens, strict=True)]
    f_keys = [_key(p, t) for p, t in zip(found, found_tokens, strict=True)]
    pairs: dict[int, tuple[int, float]] = {}          # stored index -> (found index, similarity)

    waiting: dict[str, deque[int]] = defaultdict(deque)
    for j, k in enumerate(f_keys):
        waiting[k].append(j)
    for i, k in enumerate(s_keys):
        queue = waiting.get(k)
        if queue:
            pairs[i] = (queue.popleft(), 1.0)

    taken = {j for j, _ in pairs.values()}
    rest_s = [i for i in range(len(stored)) if i not in pairs]
    rest_f = [j for j in range(len(found)) if j not in taken]
    if rest_s and rest_f:
        for i, j, score in _fuzzy_pairs(rest_s, rest_f, s_keys, f_keys, pair_threshold):
            pairs[i] = (j, score)

    return _ordered(stored, found, s_keys, f_keys, pairs)


def _key(paragraph: str, toks: Sequence[str]) -> str:
    """Tokens joined: equal keys mean the same words (the normalised text when it has no tokens)."""
    return " ".join(toks) if toks else paragraph.casefold()


def _fuzzy_pairs(rest_s: list[int], rest_f: list[int], s_keys: list[str], f_keys: list[str],
                 threshold: float) -> list[tuple[int, int, float]]:
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for j in rest_f:
        for sh in set(shingles(f_keys[j].split(" "), 3)):
            index[sh].append(j)
    cutoff = threshold * 100
    scored: list[tuple[float, int, int, int]] = []
    n_s, n_f = max(len(s_keys), 1), max(len(f_keys), 1)
    for i in rest_s:
        shared: Counter[int] = Counter()
        for sh in set(shingles(s_keys[i].split(" "), 3)):
            posting = index.get(sh)
            if posting and len(posting) <= _COMMON:
                shared.update(posting)
        a = s_keys[i]
        for j, _ in shared.most_common(CANDIDATES):
            b = f_keys[j]
            if 2 * min(len(a), len(b)) < threshold * (len(a) + len(b)):
                continue                         # lengths alone rule the ratio out
            score = fuzz.ratio(a, b, score_cutoff=cutoff)
            if score:
                # ties go to the pair nearest in relative position
                distance = abs(i * n_f - j * n_s)
                scored.append((-score, distance, i, j))
    scored.sort()
    used_s: set[int] = set()
    used_f: set[int] = set()
    out = []
    for neg, _, i, j in scored:
        if i in used_s or j in used_f:
            continue
        used_s.add(i)
        used_f.add(j)
        out.append((i, j, -neg / 100))
    return out


def _in_order(pairs: dict[int, tuple[int, float]]) -> set[int]:
    """Stored indexes on a longest run whose found indexes increase too (the rest moved)."""
    items = sorted(pairs.items(), key=lambda kv: kv[1][0])   # by found index
    seq = [i for i, _ in items]
    tails: list[int] = []      # smallest tail value of an increasing run of each length
    tail_at: list[int] = []    # position in seq of that tail
    back = [-1] * len(seq)
    for pos, value in enumerate(seq):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_at.append(pos)
        else:
            tails[k] = value
            tail_at[k] = pos
        back[pos] = tail_at[k - 1] if k else -1
    keep = set()
    pos = tail_at[-1] if tail_at else -1
    while pos >= 0:
        keep.add(seq[pos])
        pos = back[pos]
    return keep


def _ordered(stored: Sequence[str], found: Sequence[str], s_keys: list[str], f_keys: list[str],
             pairs: dict[int, tuple[int, float]]) -> tuple[ParagraphChange, ...]:
    in_order = _in_order(pairs)
    by_found = {j: (i, sim) for i, (j, sim) in pairs.items()}
    rows: list[tuple[tuple[int, int, int], ParagraphChange]] = []
    for j, para in enumerate(found):
        if j in by_found:
            i, sim = by_found[j]
            kind: ChangeKind = "kept" if s_keys[i] == f_keys[j] else "changed"
            change = ParagraphChange(kind, stored[i], para, 1.0 if kind == "kept" else sim, i, j,
                                     moved=i not in in_order)
        else:
            change = ParagraphChange("added", None, para, 0.0, None, j)
        rows.append(((j, 0, 0), change))
    anchor = -1
    for i, para in enumerate(stored):
        if i in pairs:
            if i in in_order:
                anchor = pairs[i][0]
            continue
        rows.append(((anchor, 1, i), ParagraphChange("removed", para, None, 0.0, i, None)))
    rows.sort(key=lambda r: r[0])
    return tuple(change for _, change in rows)
