"""Verdicts: one word per cited URL and per document, with the evidence behind it.

Pure deciders over plain values. The caller (the ``archive`` command) maps its
corpus, fetch and extraction values into :class:`UrlInput` and
:class:`DocumentInput`; nothing here imports :mod:`crawler`.

**What a URL is checked as** (:func:`url_kind`): a URL that a stored document is
linked to (``snapshot``), or that is cited in an article role (``originalUrl``,
``webUrl``, ``related[N].webUrl``), is an *article*; one cited in an image role
(``images[N].url`` at any depth, ``headimg``, ``thumbnail``, ``body.img``) an
*image*; anything else (``body.a``, ``body.text``, ``argument`` …) a *link*.

**The fetch outcome first** (:func:`judge_url`), whatever the kind:

===========================================  =================
not fetched yet (a partial report)           ``pending``
``deferred`` (politeness cap, budget)        ``deferred``
``robots_disallowed``; status 401, 403, 451  ``blocked``
status 404, 410                              ``gone``
``dns``, ``connect``, ``tls``, ``timeout``,  ``unreachable``
``address_refused``; 429 and 5xx (the
fetcher has already retried those)
``too_many_redirects``, ``redirect_loop``,   ``error``
any other status, an unknown outcome
===========================================  =================

5xx and 429 count as *unreachable* rather than *error*: after the retries the
server is there but would not serve the page in this run, which for a person
means the same as a timeout ("try again later"); *error* is kept for answers
that will not get better by waiting (a redirect loop, a 400).

**Then the content**, for a 2xx response:

- *article*: not HTML, or less than ``min_article_chars`` of extracted text (a CJK character counts three) →
  ``not_an_article``. With a stored body, the shingle recall of
  :func:`archive.compare.compare_texts` against the thresholds gives
  ``unchanged`` / ``minor_changes`` / ``major_changes`` / ``different_page``; a
  title below ``title_similarity`` turns ``unchanged`` into ``minor_changes``.
  Without a stored body (a front-matter-only snapshot, a ``related`` entry) the
  cited excerpt and title decide: both found → ``unchanged``, only the excerpt →
  ``minor_changes``, only the title → ``major_changes``, neither →
  ``different_page``; with only a title, it decides alone. ``evidence.basis``
  says which (``text``, ``excerpt``, ``title``). The publication date is
  evidence (``published``), never the verdict: pages show "updated" dates.
- *image*: not an image by its bytes → ``not_an_image``; pixel size within
  ``image_size_tolerance`` of a cited width and height (or nothing to compare
  with) → ``image_ok``; otherwise ``image_changed``.
- *link*: ``fetched`` (nothing stored to compare with); so is an article with
  no stored body, title or excerpt.

A **capture-only** run (``citecrawl archive --capture-only``) does not read
bodies (``Fetched.examined`` false): a 2xx is ``fetched`` with the note
:data:`NOT_COMPARED`, whatever the kind; ``citecrawl compare`` judges it later
from the WARC files. Fetch failures and ``moved`` are decided as always.

An article or link whose redirects ended **elsewhere** (see
:mod:`archive.redirects`) is ``moved``; the content verdict is kept in
``evidence.content_verdict``. Images are judged by their pixels even when
redirected to another host (image URLs routinely redirect to CDNs).

**Documents** (:func:`judge_document`): the verdict of the document's own source
URL (the URL its snapshot was taken from), plus the count of each verdict over
the other URLs it cites. A document with no source URL but other cited URLs (a
page whose images are all it cites) gets the most serious of their verdicts
(:data:`SEVERITY`); ``no_source`` when it cites nothing and no title links it,
``unreadable`` when its file could not be read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Literal, Protocol

from archive.dates import DateComparison, When, compare_published
from archive.images import ImageInfo
from archive.redirects import is_elsewhere

if TYPE_CHECKING:
    from archive.compare import TextComparison

# archive.compare (rapidfuzz, the token tables) and archive.boilerplate (selectolax) are imported
# by _judge_article, where a page is read: a run's crawling process, which hands pages to judging
# processes or only captures, decides from outcomes alone and never loads them (~0.1 s)

__all__ = [
    "ATTENTION",
    "EXCERPT_FOUND",
    "NOT_COMPARED",
    "SEVERITY",
    "Citation",
    "DocumentInput",
    "DocumentVerdict",
    "Evidence",
    "Fetched",
    "FoundArticle",
    "Kind",
    "Snapshot",
    "ThresholdValues",
    "Thresholds",
    "UrlInput",
    "UrlVerdict",
    "Verdict",
    "judge_document",
    "judge_url",
    "needs_attention",
    "role_kind",
    "url_kind",
]


#: the note on a 2xx of a capture-only run
NOT_COMPARED = "captured only, not compared"


class Verdict(StrEnum):
    UNCHANGED = "unchanged"
    MINOR_CHANGES = "minor_changes"
    MAJOR_CHANGES = "major_changes"
    DIFFERENT_PAGE = "different_page"
    MOVED = "moved"
    GONE = "gone"
    BLOCKED = "blocked"
    UNREACHABLE = "unreachable"
    NOT_AN_ARTICLE = "not_an_article"
    IMAGE_OK = "image_ok"
    IMAGE_CHANGED = "image_changed"
    NOT_AN_IMAGE = "not_an_image"
    FETCHED = "fetched"          # fetched fine; nothing stored to compare it with
    DEFERRED = "deferred"
    PENDING = "pending"          # not fetched yet: only in partial reports
    ERROR = "error"
    NO_SOURCE = "no_source"      # documents only
    UNREADABLE = "unreadable"    # documents only: the file could not be read


#: verdicts a person should look at: the source is gone, moved or says something else now
ATTENTION = frozenset({Verdict.MAJOR_CHANGES, Verdict.DIFFERENT_PAGE, Verdict.MOVED, Verdict.GONE,
                       Verdict.IMAGE_CHANGED, Verdict.NOT_AN_IMAGE})

#: verdicts from most to least serious, for rolling a document's cited URLs up into one word
SEVERITY: tuple[Verdict, ...] = (
    Verdict.GONE, Verdict.MOVED, Verdict.DIFFERENT_PAGE, Verdict.MAJOR_CHANGES, Verdict.IMAGE_CHANGED,
    Verdict.NOT_AN_IMAGE, Verdict.BLOCKED, Verdict.UNREACHABLE, Verdict.ERROR, Verdict.MINOR_CHANGES,
    Verdict.NOT_AN_ARTICLE, Verdict.DEFERRED, Verdict.PENDING, Verdict.FETCHED, Verdict.UNCHANGED,
    Verdict.IMAGE_OK, Verdict.NO_SOURCE, Verdict.UNREADABLE,
)

#: an excerpt scoring at least this in :func:`archive.compare.excerpt_contained` counts as found
EXCERPT_FOUND = 0.9

Kind = Literal["article", "image", "link"]


def needs_attention(verdict: Verdict, previous: Verdict | None = None) -> bool:
    """True when ``verdict`` needs a person and is news: not the same as last run's ``previous``.

    ``blocked``, ``unreachable``, ``deferred`` and ``error`` are left out: they say
    nothing about the source itself and often pass by the next run. ``not_an_article``
    is left out too: it is more often an extraction limit (a script-built page) than a change.

    >>> needs_attention(Verdict.GONE), needs_attention(Verdict.GONE, Verdict.GONE)
    (True, False)
    >>> needs_attention(Verdict.UNREACHABLE)
    False
    """
    return verdict in ATTENTION and verdict != previous


class Thresholds(Protocol):
    """The numbers of ``config.compare``; :class:`crawler.config.CompareConfig` fits as it is."""

    @property
    def unchanged(self) -> float: ...
    @property
    def minor(self) -> float: ...
    @property
    def major(self) -> float: ...
    @property
    def title_similarity(self) -> float: ...
    @property
    def image_size_tolerance(self) -> float: ...


@dataclass(frozen=True, slots=True)
class ThresholdValues:
    """Default thresholds (the same as ``config/citecrawl.toml``), for tests and callers without a config."""

    unchanged: float = 0.97
    minor: float = 0.85
    major: float = 0.40
    title_similarity: float = 0.80
    image_size_tolerance: float = 0.02


# -- inputs ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Citation:
    """One place a document cites the URL: its role (key path) and what it says about the target."""

    document: str
    role: str
    title: str = ""
    excerpt: str = ""
    published: When | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stored document linked to the URL: the text to look for in the page."""

    document: str
    title: str = ""
    text: str = ""
    excerpt: str = ""
    published: When | None = None


@dataclass(frozen=True, slots=True)
class FoundArticle:
    """What extraction found in the page; ``paragraphs`` preferred over ``text`` when given."""

    title: str = ""
    text: str = ""
    paragraphs: tuple[str, ...] = ()
    published: When | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """The fetch outcome, as the fetcher's outcome names it, with what came back."""

    outcome: str                      # ok, http_error, timeout, dns, connect, tls, robots_disallowed, ...
    status: int | None = None         # final HTTP status
    final_url: str | None = None      # where redirects ended
    redirects: tuple[str, ...] = ()   # each hop's target URL, in order
    content_type: str | None = None   # the final response's Content-Type header
    image: ImageInfo | None = None    # archive.images.image_info of the body, for image URLs
    article: FoundArticle | None = None
    detail: str = ""                  # the fetcher's one-line message for failures
    examined: bool = True             # False: archived without reading the body (a capture-only run)


@dataclass(frozen=True, slots=True)
class UrlInput:
    url: str
    citations: tuple[Citation, ...] = ()
    fetch: Fetched | None = None      # None: not fetched (yet)
    snapshot: Snapshot | None = None


@dataclass(frozen=True, slots=True)
class DocumentInput:
    document: str
    title: str = ""
    source_url: str | None = None     # the URL this document is a snapshot of
    cited_urls: tuple[str, ...] = ()
    problem: str = ""                 # why the file could not be read, if it could not


# -- outputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a verdict was given. Fields that do not apply stay None (or empty)."""

    outcome: str | None = None
    status: int | None = None
    final_url: str | None = None
    redirects: tuple[str, ...] = ()
    content_type: str | None = None
    basis: Literal["text", "excerpt", "title"] | None = None
    recall: float | None = None
    precision: float | None = None
    similarity: float | None = None
    title_similarity: float | None = None
    excerpt_score: float | None = None
    published: DateComparison | None = None
    image: ImageInfo | None = None
    cited_sizes: tuple[tuple[int, int], ...] = ()
    content_verdict: Verdict | None = None
    notes: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True, slots=True)
class UrlVerdict:
    url: str
    verdict: Verdict
    kind: Kind
    citations: tuple[Citation, ...]
    evidence: Evidence
    comparison: TextComparison | None = field(default=None, repr=False)
    snapshot: str | None = None       # the stored document the page was compared with

    @property
    def documents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.document for c in self.citations))


@dataclass(frozen=True, slots=True)
class DocumentVerdict:
    document: str
    title: str
    verdict: Verdict
    source_url: str | None
    url_counts: Mapping[str, int]     # verdict -> number of the document's other URLs with it
    detail: str = ""

    @property
    def attention_urls(self) -> int:
        return sum(n for v, n in self.url_counts.items() if Verdict(v) in ATTENTION)


# -- deciders --------------------------------------------------------------------------------------

_IMAGE_ROLE = re.compile(r"(^|\.)(images\[\d+\]\.url|headimg|thumbnail)$|^body\.img$")
_ARTICLE_ROLE = re.compile(r"^(related\[\d+\]\.)?(originalUrl|webUrl)$")


def role_kind(role: str) -> Kind:
    """What a citation role says the target is.

    >>> role_kind("related[1].images[0].url"), role_kind("related[0].webUrl"), role_kind("body.a")
    ('image', 'article', 'link')
    """
    if _IMAGE_ROLE.search(role):
        return "image"
    if _ARTICLE_ROLE.match(role):
        return "article"
    return "link"


def url_kind(citations: Sequence[Citation], snapshot: Snapshot | None = None) -> Kind:
    """A linked snapshot makes an article; else an image role wins over an article role over a link."""
    if snapshot is not None:
        return "article"
    kinds = {role_kind(c.role) for c in citations}
    for kind in ("image", "article"):
        if kind in kinds:
            return kind
    return "link"


_STATUS = {404: Verdict.GONE, 410: Verdict.GONE, 401: Verdict.BLOCKED, 403: Verdict.BLOCKED,
           451: Verdict.BLOCKED, 429: Verdict.UNREACHABLE}
_OUTCOME = {"deferred": Verdict.DEFERRED, "robots_disallowed": Verdict.BLOCKED,
            "dns": Verdict.UNREACHABLE, "connect": Verdict.UNREACHABLE, "tls": Verdict.UNREACHABLE,
            "timeout": Verdict.UNREACHABLE, "address_refused": Verdict.UNREACHABLE,
            "too_many_redirects": Verdict.ERROR, "redirect_loop": Verdict.ERROR}
_HTML = ("text/html", "application/xhtml+xml")


def _fetch_failure(f: Fetched) -> Verdict | None:
    """The verdict a failed fetch gets, or None when there is content to judge."""
    if f.outcome in _OUTCOME:
        return _OUTCOME[f.outcome]
    if f.outcome not in ("ok", "http_error"):
        return Verdict.ERROR
    status = f.status
    if f.outcome == "ok" and (status is None or 200 <= status < 300):
        return None
    if status is None:
        return Verdict.ERROR
    if status in _STATUS:
        return _STATUS[status]
    return Verdict.UNREACHABLE if 500 <= status < 600 else Verdict.ERROR


def judge_url(item: UrlInput, thresholds: Thresholds, *, min_article_chars: int = 200) -> UrlVerdict:
    """The verdict for one cited URL (see the module docstring for the table)."""
    kind = url_kind(item.citations, item.snapshot)
    f = item.fetch
    if f is None:
        return UrlVerdict(item.url, Verdict.PENDING, kind, item.citations, Evidence())
    base = Evidence(outcome=f.outcome, status=f.status, final_url=f.final_url, redirects=f.redirects,
                    content_type=f.content_type, detail=f.detail)
    failed = _fetch_failure(f)
    if failed is not None:
        return UrlVerdict(item.url, failed, kind, item.citations, base)
    comparison = None
    if not f.examined:
        verdict, evidence = Verdict.FETCHED, _with(base, notes=(NOT_COMPARED,))
    elif kind == "image":
        verdict, evidence = _judge_image(item, f, base, thresholds)
    elif kind == "article":
        verdict, evidence, comparison = _judge_article(item, f, base, thresholds, min_article_chars)
    else:
        verdict, evidence = Verdict.FETCHED, base
    elsewhere = f.final_url is not None and is_elsewhere(item.url, f.final_url)
    if elsewhere and kind != "image":
        evidence = _with(evidence, content_verdict=verdict)
        verdict = Verdict.MOVED
    elif elsewhere:
        evidence = _with(evidence, notes=(*evidence.notes, "redirected elsewhere"))
    return UrlVerdict(item.url, verdict, kind, item.citations, evidence, comparison,
                      item.snapshot.document if item.snapshot is not None else None)


def _with(e: Evidence, **changes: object) -> Evidence:
    return replace(e, **changes)  # type: ignore[arg-type]


def _judge_image(item: UrlInput, f: Fetched, base: Evidence, t: Thresholds) -> tuple[Verdict, Evidence]:
    sizes = tuple(dict.fromkeys((c.width, c.height) for c in item.citations
                                if c.width and c.height and c.width > 0 and c.height > 0))
    evidence = _with(base, image=f.image, cited_sizes=sizes)
    if f.image is None:
        return Verdict.NOT_AN_IMAGE, evidence
    found = f.image.size
    if not sizes or found is None:
        return Verdict.IMAGE_OK, _with(evidence, notes=("size not compared",))
    tol = t.image_size_tolerance
    if any(abs(found[0] - w) <= tol * w and abs(found[1] - h) <= tol * h for w, h in sizes):
        return Verdict.IMAGE_OK, evidence
    return Verdict.IMAGE_CHANGED, evidence


def _first(*values: str | None) -> str:
    return next((v for v in values if v and v.strip()), "")


def _judge_article(item: UrlInput, f: Fetched, base: Evidence, t: Thresholds,
                   min_chars: int) -> tuple[Verdict, Evidence, TextComparison | None]:
    from archive.boilerplate import text_weight
    from archive.compare import compare_texts, compare_title, excerpt_contained

    ctype = (f.content_type or "").split(";")[0].strip().lower()
    a = f.article
    found_text = "\n".join(a.paragraphs) if a is not None and a.paragraphs else (a.text if a else "")
    if (ctype and ctype not in _HTML) or a is None or text_weight(found_text.strip()) < min_chars:
        why = f"content type {ctype}" if ctype and ctype not in _HTML else "no article text"
        return Verdict.NOT_AN_ARTICLE, _with(base, notes=(why,)), None
    snap, cites = item.snapshot, item.citations
    title = _first(snap.title if snap else None, *(c.title for c in cites))
    excerpt = _first(snap.excerpt if snap else None, *(c.excerpt for c in cites))
    published = (snap.published if snap and snap.published else None) or next(
        (c.published for c in cites if c.published), None)
    notes: list[str] = []
    title_sim = compare_title(title, a.title) if title else None
    title_ok = title_sim is None or title_sim >= t.title_similarity
    if not title_ok:
        notes.append("title changed")
    dates = compare_published(published, a.published)
    if dates is not None and not dates.same_day:
        notes.append("published date differs")
    evidence = _with(base, title_similarity=title_sim, published=dates)
    comparison = compare_texts(snap.text, a.paragraphs or a.text) if snap and snap.text.strip() else None
    if comparison is not None and comparison.stored_tokens:
        r = comparison.recall
        if r >= t.unchanged:
            verdict = Verdict.UNCHANGED if title_ok else Verdict.MINOR_CHANGES
        elif r >= t.minor:
            verdict = Verdict.MINOR_CHANGES
        elif r >= t.major:
            verdict = Verdict.MAJOR_CHANGES
        else:
            verdict = Verdict.DIFFERENT_PAGE
        evidence = _with(evidence, basis="text", recall=r, precision=comparison.precision,
                         similarity=comparison.similarity, notes=tuple(notes))
        return verdict, evidence, comparison
    if excerpt:
        score = excerpt_contained(excerpt, found_text)
        found = score >= EXCERPT_FOUND
        if not found:
            notes.append("excerpt not found")
        table = {(True, True): Verdict.UNCHANGED, (True, False): Verdict.MINOR_CHANGES,
                 (False, True): Verdict.MAJOR_CHANGES, (False, False): Verdict.DIFFERENT_PAGE}
        return table[found, title_ok], _with(evidence, basis="excerpt", excerpt_score=score,
                                             notes=tuple(notes)), None
    if title:
        verdict = Verdict.UNCHANGED if title_ok else Verdict.DIFFERENT_PAGE
        return verdict, _with(evidence, basis="title", notes=tuple(notes)), None
    return Verdict.FETCHED, _with(evidence, notes=(*notes, "nothing stored to compare")), None


def judge_document(doc: DocumentInput, verdicts: Mapping[str, Verdict]) -> DocumentVerdict:
    """Roll a document's URLs up: its source URL's verdict, and counts over the others.

    ``verdicts`` maps URLs to their verdict words (a URL missing from it is ``pending``):
    a run keeps only these, not the whole :class:`UrlVerdict` values.
    """
    others = [u for u in dict.fromkeys(doc.cited_urls) if u != doc.source_url]
    counts = Counter(str(verdicts.get(u, Verdict.PENDING)) for u in others)
    if doc.problem:
        verdict, detail = Verdict.UNREADABLE, doc.problem
    elif doc.source_url is None and others:
        verdict = min((verdicts.get(u, Verdict.PENDING) for u in others), key=SEVERITY.index)
        detail = f"no article URL of its own: the most serious verdict of its {len(others)} cited URLs"
    elif doc.source_url is None:
        verdict, detail = Verdict.NO_SOURCE, ""
    else:
        verdict = verdicts.get(doc.source_url, Verdict.PENDING)
        detail = ""
    return DocumentVerdict(doc.document, doc.title, verdict, doc.source_url, dict(sorted(counts.items())), detail)
