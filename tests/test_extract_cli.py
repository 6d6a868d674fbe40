"""``citecrawl extract``: HTML files, .gz files and WARC files (written here with warcio)."""

from __future__ import annotations

import argparse
import gzip
import io
import json
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.commands import extract as command
from crawler.errors import UsageError

PARA = ("The council voted on Tuesday to approve the new budget, which raises spending on schools, "
        "roads and public transport by a combined four percent over last year.")
HTML = (f"<html lang='en'><head><meta charset='utf-8'><title>Council approves budget | Planet</title></head>"
        f"<body><nav><a href='/'>Home</a></nav><article><p>{PARA}</p><p>{PARA} Again.</p></article></body></html>")
GBK_HTML = "<html><head><title>朱镕基考察上海</title></head><body><div class='content'><p>" + \
    "国务院总理朱镕基今天在上海考察了浦东新区的建设情况，并与当地干部群众进行了座谈。" * 3 + "</p></div></body></html>"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    code = command.run(parser.parse_args(list(argv)))
    return code, capsys.readouterr().out


def lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def write_warc(path: Path, records: list[tuple[str, list[tuple[str, str]], bytes]]) -> None:
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, headers, body in records:
            http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          length=len(body), http_headers=http))


def test_html_file_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "page.html"
    f.write_text(HTML, encoding="utf-8")
    code, out = run(capsys, str(f), "--jsonl")
    (rec,) = lines(out)
    assert code == 0
    assert rec["source"] == str(f) and rec["url"] is None and rec["title"] == "Council approves budget"
    assert rec["text"] == f"{PARA}\n\n{PARA} Again." and rec["language"] == "en" and rec["is_article"]
    assert {"published", "authors", "canonical_url", "encoding", "body_source", "paragraphs"} <= rec.keys()


def test_gz_file_without_headers_in_gbk(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "page.html.gz"
    f.write_bytes(gzip.compress(GBK_HTML.encode("gbk")))
    _, out = run(capsys, str(f), "--jsonl")
    (rec,) = lines(out)
    assert rec["title"] == "朱镕基考察上海" and "朱镕基" in str(rec["text"]) and rec["encoding"] == "gb18030"


def test_warc_every_html_response(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "x.warc.gz"
    write_warc(f, [
        ("https://planet.example/a", [("Content-Type", "text/html; charset=utf-8"),
                                      ("Content-Encoding", "gzip")], gzip.compress(HTML.encode())),
        ("https://planet.example/logo.png", [("Content-Type", "image/png")], b"\x89PNG...."),
        ("https://planet.example/cn", [("Content-Type", "text/html; charset=gb2312")], GBK_HTML.encode("gbk")),
        ("https://planet.example/chunked", [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")],
         b"%x\r\n%s\r\n0\r\n\r\n" % (len(HTML.encode()), HTML.encode())),
    ])
    _, out = run(capsys, str(f), "--jsonl")
    recs = lines(out)
    assert [r["url"] for r in recs] == ["https://planet.example/a", "https://planet.example/cn",
                                        "https://planet.example/chunked"]
    assert all(str(r["source"]).startswith(f"{f}#") for r in recs)
    offsets = [int(str(r["source"]).rsplit("#", 1)[1]) for r in recs]
    assert offsets[0] == 0 and offsets == sorted(offsets)
    assert recs[0]["title"] == "Council approves budget" and recs[0]["status"] == 200
    assert "朱镕基" in str(recs[1]["text"]) and recs[1]["encoding_source"] == "http"
    assert recs[2]["text"] == recs[0]["text"]


def test_warc_bomb_is_an_error_line_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[extract]\nmax_decompressed_bytes = 100000\n", encoding="utf-8")
    f = tmp_path / "bomb.warc.gz"
    write_warc(f, [
        ("https://bomb.example/", [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
         gzip.compress(b"<html>" + b" " * 5_000_000)),
        ("https://ok.example/", [("Content-Type", "text/html")], HTML.encode()),
        ("https://bad.example/", [("Content-Type", "text/html"), ("Content-Encoding", "gzip")], b"\x1f\x8b\x08 broken"),
    ])
    code, out = run(capsys, str(f), "--jsonl", "--config", str(cfg))
    recs = lines(out)
    assert code == 0 and len(recs) == 3
    assert "more than 100000 bytes" in str(recs[0]["error"])
    assert recs[1]["title"] == "Council approves budget"
    assert "gzip" in str(recs[2]["error"])


def test_readable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "page.htm"
    f.write_text(HTML, encoding="utf-8")
    code, out = run(capsys, str(f))
    assert code == 0 and "Council approves budget" in out and "The council voted" in out and "language" in out


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="no such file"):
        run(capsys, str(tmp_path / "nope.html"))


def test_command_module_contract() -> None:
    assert command.NAME == "extract" and "examples:" in command.EPILOG and command.HELP
