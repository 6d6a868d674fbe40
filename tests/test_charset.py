"""Bytes → text: BOM, HTTP charset, <meta>, detection, WHATWG label mapping, wrong declarations."""

from __future__ import annotations

import doctest

import pytest

import archive.charset
from archive.charset import (
    _UTF8_CHECK_CHUNK,
    codec_for_label,
    decode_html,
    sniff_declared_charset,
    utf8_reading,
)

CHINESE = "<html><head><title>朱镕基访问上海</title></head><body><p>国务院总理朱镕基今天在上海考察了浦东新区的建设情况，并与当地干部群众进行了座谈。</p></body></html>"


def test_doctests() -> None:
    assert doctest.testmod(archive.charset).failed == 0


@pytest.mark.parametrize(("label", "codec"), [
    ("gb2312", "gb18030"), ("GBK", "gb18030"), ("x-gbk", "gb18030"), ("iso-8859-1", "cp1252"),
    ("US-ASCII", "cp1252"), ("latin1", "cp1252"), ("shift_jis", "cp932"), ("euc-kr", "cp949"),
    ("big5", "big5hkscs"), ("utf8", "utf-8"), ("iso-8859-9", "cp1254"), ("windows-1251", "cp1251"),
    ("koi8-r", "koi8-r"), ("'UTF-8'", "utf-8"),
])
def test_whatwg_labels(label: str, codec: str) -> None:
    assert codec_for_label(label) == codec


@pytest.mark.parametrize("label", ["", "bogus-8", "hz-gb-2312", "rot13", "base64"])
def test_unknown_or_unsafe_labels(label: str) -> None:
    assert codec_for_label(label) is None


def test_gbk_without_any_declaration_is_detected() -> None:
    d = decode_html(CHINESE.encode("gbk"))
    assert d.text == CHINESE
    assert d.encoding == "gb18030" and d.source == "detected"


def test_gb2312_label_reads_gbk_only_characters() -> None:
    # 镕 (0xE946) is GBK, not GB2312: real "gb2312" pages contain it
    body = b'<meta charset="gb2312">' + CHINESE.encode("gbk")
    d = decode_html(body)
    assert "朱镕基" in d.text and d.source == "meta" and d.errors == 0


def test_http_charset_wins_over_meta() -> None:
    body = '<meta charset="utf-8"><p>Привет, мир</p>'.encode("cp1251")
    d = decode_html(body, content_type="text/html; charset=windows-1251")
    assert "Привет, мир" in d.text and d.source == "http"


def test_bom_wins_over_everything() -> None:
    body = b"\xef\xbb\xbf" + '<meta charset="iso-8859-1"><p>€ café</p>'.encode()
    d = decode_html(body, content_type="text/html; charset=gbk")
    assert d.source == "bom" and "€ café" in d.text and not d.text.startswith("\ufeff")


def test_meta_after_1024_bytes_is_found() -> None:
    head = "<html><head><script>" + "var x = 1;\n" * 400 + "</script>"
    body = (head + '<meta charset="gbk"></head><body>' + CHINESE + "</body>").encode("gbk")
    assert sniff_declared_charset(body) == "gbk"
    assert decode_html(body).source == "meta"


def test_meta_in_body_is_not_a_declaration() -> None:
    body = b"<html><head><title>x</title></head><body><meta charset=gbk>" + "café".encode()
    assert sniff_declared_charset(body) is None


def test_wrong_declared_charset_falls_back_to_detection() -> None:
    body = ('<meta charset="utf-8">' + CHINESE).encode("gbk")
    d = decode_html(body)
    assert d.text.endswith(CHINESE) and d.source == "detected" and d.declared == "utf-8"


def test_latin1_header_on_utf8_page_reads_utf8() -> None:
    body = "<p>“Smart quotes” and café</p>".encode()
    d = decode_html(body, content_type="text/html; charset=ISO-8859-1")
    assert d.text == "<p>“Smart quotes” and café</p>" and d.encoding == "utf-8"


def test_real_latin1_page_with_header() -> None:
    body = "<p>Ceci est très français, déjà vu — à bientôt</p>".encode("cp1252")
    d = decode_html(body, content_type="text/html; charset=iso-8859-1")
    assert d.text == "<p>Ceci est très français, déjà vu — à bientôt</p>" and d.source == "http"


def test_undeclared_latin_page_is_windows_1252() -> None:
    text = "<p>Ceci est une page française, avec des accents: été, café, déjà vu.</p>" * 3
    assert decode_html(text.encode("cp1252")).text == text


def test_undeclared_cyrillic_and_japanese() -> None:
    ru = "<p>Это тестовая страница на русском языке без объявления кодировки, проверка.</p>" * 3
    ja = "<p>これは日本語のテストページです。エンコーディングの宣言はありません。</p>" * 3
    assert decode_html(ru.encode("cp1251")).text == ru
    assert decode_html(ja.encode("shift_jis")).text == ja


def test_a_few_bad_bytes_keep_the_declaration() -> None:
    body = b"<meta charset=utf-8>" + "é".encode() * 5000 + b"\xff"
    d = decode_html(body)
    assert d.source == "meta" and d.errors == 1 and d.text.endswith("\ufffd")


def test_truncated_utf8_character_at_the_end_is_still_utf8() -> None:
    body = "<p>日本語".encode()[:-1]
    d = decode_html(body)
    assert d.encoding == "utf-8"


def test_ascii_and_empty() -> None:
    assert decode_html(b"").text == ""
    assert decode_html(b"<p>plain</p>").text == "<p>plain</p>"


def test_utf16_bom() -> None:
    body = "\ufeff<p>héllo</p>".encode("utf-16-le")
    assert decode_html(body).text == "<p>héllo</p>"


_LONG_CAFE = "<p>" + "café 朱镕基 " * 3000 + "</p>"  # several check slices, characters cut at slice ends
_READING_CASES = [
    (b"", None), (b"<p>plain</p>", None), (b"<meta charset=utf-8><p>plain</p>", None),
    (b"<p>plain</p>", "text/html; charset=iso-8859-1"), (b"<meta charset=bogus-8><p>plain</p>", None),
    ("<p>café</p>".encode(), None), ("<p>café</p>".encode(), "text/html; charset=ISO-8859-1"),
    ("<p>café</p>".encode(), "text/html; charset=utf-8"), ("<p>café</p>".encode("cp1252"), None),
    ("<p>café</p>".encode("cp1252"), "text/html; charset=utf-8"),
    ("<meta charset=utf-8><p>café</p>".encode("cp1252"), None),
    ("<meta charset=utf-16><p>café</p>".encode(), None), ("<meta charset=gbk><p>café</p>".encode(), None),
    (CHINESE.encode("gbk"), None), (CHINESE.encode(), "text/html; charset=gb2312"), (CHINESE.encode(), None),
    (b"\xef\xbb\xbf" + CHINESE.encode(), "text/html; charset=gbk"), (b"\xef\xbb\xbf<p>caf\xe9</p>", None),
    ("<p>café</p>".encode("utf-16"), None), ("<p>café</p>".encode()[:-6], None),  # cut inside "é"
    (_LONG_CAFE.encode(), None), (_LONG_CAFE.encode() + b"\xff", None),
    ("<meta charset=utf-8>" + _LONG_CAFE).encode()[:_UTF8_CHECK_CHUNK * 2 + 1],
]


@pytest.mark.parametrize(("body", "content_type"), [c if isinstance(c, tuple) else (c, None) for c in _READING_CASES])
def test_utf8_reading_agrees_with_decode_html(body: bytes, content_type: str | None) -> None:
    """Whatever it answers is what decode_html says of a clean UTF-8 page; it declines every other page."""
    decoded = decode_html(body, content_type=content_type)
    clean_utf8 = decoded.errors == 0 and (decoded.encoding == "utf-8" or decoded.source == "default")
    reading = utf8_reading(body, content_type=content_type)
    if reading is not None:
        assert reading == (decoded.encoding, decoded.source)
        assert clean_utf8
        assert (body[3:] if reading[1] == "bom" else body).decode() == decoded.text
    else:  # (it may decline a clean page decode_html reaches by a detour: none of these)
        assert not clean_utf8


def test_utf8_reading_answers_the_common_pages() -> None:
    assert utf8_reading(b"<p>plain</p>") == ("cp1252", "default")
    assert utf8_reading(b"<meta charset=utf-8><p>plain</p>") == ("utf-8", "meta")
    assert utf8_reading("<meta charset=utf-8><p>café</p>".encode()) == ("utf-8", "meta")
    assert utf8_reading("<p>café</p>".encode(), content_type="text/html; charset=utf-8") == ("utf-8", "http")
    assert utf8_reading("<p>café</p>".encode(), content_type="text/html; charset=latin1") == ("utf-8", "detected")
    assert utf8_reading(b"\xef\xbb\xbf" + CHINESE.encode()) == ("utf-8", "bom")
    assert utf8_reading(_LONG_CAFE.encode()) == ("utf-8", "detected")
    assert utf8_reading(_LONG_CAFE.encode() + b"\xff") is None
    assert utf8_reading(CHINESE.encode("gbk")) is None
