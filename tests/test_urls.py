"""URL cleaning, canonical form and URLs in running text."""

from __future__ import annotations

import doctest
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler import urls
from crawler.urls import (
    SkippedUrl,
    _already_canonical,
    _canonical_full,
    canonical_url,
    clean_url,
    find_text_urls,
)


def test_doctests() -> None:
    assert doctest.testmod(urls).failed == 0


@pytest.mark.parametrize(("raw", "reason"), [
    ("javascript:void(0)", "javascript: link"),
    ("JavaScript:alert(1)", "javascript: link"),
    ("mailto:desk@example.org", "mailto: address"),
    ("data:image/png;base64,AAAA", "data: URI"),
    ("tel:+86-21-0000", "tel: number"),
    ("ftp://example.org/file", "unsupported scheme ftp:"),
    ("#section-2", "fragment-only link (points into the same page)"),
    ("   ", "empty link"),
    ("img/photo.jpg", "relative link with no base URL to resolve it against"),
    ("//cdn.example.org/x.jpg", "relative link with no base URL to resolve it against"),
])
def test_skipped_with_a_reason(raw: str, reason: str) -> None:
    result = clean_url(raw)
    assert isinstance(result, SkippedUrl)
    assert result.reason == reason


@pytest.mark.parametrize("raw", ["http://", "http:///path", "https://a.com:99999/", "http://[::1/", "https://a.com:abc/",
                                 "http://a..b/"])
def test_malformed_urls_are_skipped_not_raised(raw: str) -> None:
    result = clean_url(raw)
    assert isinstance(result, SkippedUrl)
    assert "malformed" in result.reason


@pytest.mark.parametrize(("raw", "base", "expected"), [
    ("/a/b.jpg", "https://example.org/news/x.html", "https://example.org/a/b.jpg"),
    ("../b.jpg", "https://example.org/news/2022/x.html", "https://example.org/news/b.jpg"),
    ("//cdn.example.org/x.jpg", "https://example.org/", "https://cdn.example.org/x.jpg"),
    ("?page=2", "https://example.org/list?page=1", "https://example.org/list?page=2"),
])
def test_relative_links_resolve_against_the_base(raw: str, base: str, expected: str) -> None:
    assert clean_url(raw, base=base) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("HTTPS://News.Example.ORG/Path/Page.HTML", "https://news.example.org/Path/Page.HTML"),  # path case kept
    ("http://example.org:80/a", "http://example.org/a"),
    ("https://example.org:443/a", "https://example.org/a"),
    ("https://example.org:8443/a", "https://example.org:8443/a"),
    ("https://example.org", "https://example.org/"),
    ("https://example.org/a/#frag", "https://example.org/a/"),  # trailing slash kept, fragment dropped
    ("https://example.org/a?b=2&a=1&a=1", "https://example.org/a?b=2&a=1&a=1"),  # query order and repeats kept
    ("https://example.org/a b/ü", "https://example.org/a%20b/%C3%BC"),
    ("https://example.org/%7Euser/%e4%b8%ad", "https://example.org/~user/%E4%B8%AD"),
    ("https://example.org/100%", "https://example.org/100%25"),
    ("https://example.org/a%2Fb", "https://example.org/a%2Fb"),  # an encoded slash is not a slash
    ("http://例子.测试/路径", "http://xn--fsqu00a.xn--0zwm56d/%E8%B7%AF%E5%BE%84"),
    ("https://example.org/a/./b/../c", "https://example.org/a/c"),
    ("https://user:pw@Example.org/", "https://user:pw@example.org/"),
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ("  https://example.org/a\t", "https://example.org/a"),
])
def test_canonical_form(raw: str, expected: str) -> None:
    assert clean_url(raw) == expected


def test_trailing_slash_and_query_mean_different_pages() -> None:
    assert clean_url("https://example.org/a") != clean_url("https://example.org/a/")
    assert clean_url("https://example.org/a?x=1") != clean_url("https://example.org/a")


def test_spellings_of_one_url_share_a_canonical_form() -> None:
    spellings = ["https://EXAMPLE.org/caf%c3%a9", "https://example.org:443/café", "https://example.org/caf%C3%A9#top"]
    assert len({clean_url(s) for s in spellings}) == 1


def test_text_urls_and_bare_domains() -> None:
    text = ("Source: en.lingang.gov.cn | see https://example.org/report.pdf, and (https://example.org/a_(b)). "
            "Old mirror at http://mirror.example.net/x?y=1; ftp://no.example and www.example.com are not cited.")
    assert find_text_urls(text) == ["https://example.org/report.pdf", "https://example.org/a_(b)",
                                    "http://mirror.example.net/x?y=1"]


def test_text_urls_stop_at_cjk_punctuation_and_quotes() -> None:
    assert find_text_urls("详见：https://example.cn/a.html，以及“https://example.cn/b”。") == [
        "https://example.cn/a.html", "https://example.cn/b"]
    assert find_text_urls('<a href="https://example.org/x">') == ["https://example.org/x"]


def test_no_url_inside_a_word() -> None:
    assert find_text_urls("xhttps://example.org/") == []


@given(st.text(max_size=300))
def test_clean_url_never_raises(raw: str) -> None:
    result = clean_url(raw, base="https://example.org/dir/page.html")
    if isinstance(result, str):
        parts = urlsplit(result)
        assert parts.scheme in ("http", "https")
        assert parts.hostname
        assert "#" not in result
        assert not any(c.isspace() for c in result)
        assert canonical_url(result) == result  # idempotent
    else:
        assert result.reason


_url_chars = st.sampled_from([*"abcXYZ019-._~%/?&=#:@!$'()*+,; ", "ü", "中", "%41", "%e4", "..", "./"])


@given(st.sampled_from(["http", "HTTPS", "https"]), st.sampled_from(["example.org", "EXAMPLE.org:80", "xn--fsqu00a.cn",
                                                                      "a.b.c:8080", "例子.cn", "[::1]"]),
       st.lists(_url_chars, max_size=40).map("".join))
def test_canonical_form_is_idempotent(scheme: str, host: str, rest: str) -> None:
    result = clean_url(f"{scheme}://{host}/{rest}")
    if isinstance(result, str):
        assert clean_url(result) == result


@given(st.text(max_size=400))
def test_find_text_urls_never_raises_and_finds_only_http(text: str) -> None:
    for url in find_text_urls(text):
        assert url.lower().startswith(("http://", "https://"))
        assert url in text


_fast_chars = st.sampled_from([*"abzAZ09-_~!$&'()*+,;=:@/.?", "/.", "..", "?"])


_fast_hosts = st.sampled_from(["example.org", "a-b.example.co", "x.y.z.example.info", "127.0.0.2", "10.20.30.40",
                               "255.255.255.255", "256.1.1.1", "010.0.0.1", "1.2.3"])
_fast_ports = st.sampled_from(["", ":8080", ":52375", ":80", ":443", ":65535", ":65536", ":99999", ":0", ":08080"])


@given(st.sampled_from(["http", "https"]), _fast_hosts, _fast_ports, st.lists(_fast_chars, max_size=30).map("".join))
def test_fast_path_agrees_with_the_full_path(scheme: str, host: str, port: str, rest: str) -> None:
    url = f"{scheme}://{host}{port}/{rest}"
    if _already_canonical(url):
        assert _canonical_full(url) == url


def test_the_fast_path_takes_addresses_and_ports_but_not_default_ports() -> None:
    assert _already_canonical("http://127.0.0.2:52375/page/1.html")
    assert _already_canonical("https://example.org:8443/a?b=1")
    assert not _already_canonical("http://example.org:80/")       # the full path drops it
    assert not _already_canonical("https://example.org:443/")
    assert not _already_canonical("http://example.org:65536/")    # the full path refuses it
    assert canonical_url("http://example.org:80/a") == "http://example.org/a"
