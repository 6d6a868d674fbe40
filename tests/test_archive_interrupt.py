"""Ctrl-C during `citecrawl archive`, and `citecrawl compare` over WARC files that already exist."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler import exitcodes
from crawler.cli import main
from tests.origin import Route, serve_origin
from tests.warcfixtures import fastwarc_verify, warcio_check

HOST = "slowpaper.example.test"
REPO = Path(__file__).resolve().parent.parent
TEXT = ["A long enough paragraph about the harbour, the ferries and the people who work on them all year.",
        "Another paragraph follows, so that the page reads as an article and not as a stub of a page.",
        "A third one closes the story with a quote from the harbour master about the coming winter season."]


def article(i: int) -> bytes:
    paras = "".join(f"<p>{p} ({i})</p>" for p in TEXT)
    return f"<html><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1>{paras}</article></body></html>".encode()


def corpus_for(root: Path, port: int, n: int) -> Path:
    root.mkdir(parents=True)
    related = "".join(f'  - title: "Story {i}"\n    webUrl: "http://{HOST}:{port}/story/{i}.html"\n' for i in range(n))
    (root / "hub.txt").write_text(f"---\ntitle: Hub\nrelated:\n{related}---\n", encoding="utf-8")
    return root


def config_for(tmp: Path, port: int) -> Path:
    cfg = tmp / "c.toml"
    cfg.write_text(f"""
[politeness]
delay = 0.0
jitter = 0.0
[network]
allow_networks = ["127.0.0.0/8"]
resolve = ["{HOST}:{port}:127.0.0.1"]
""", encoding="utf-8")
    return cfg


@pytest.mark.slow
def test_ctrl_c_keeps_complete_records_and_writes_a_partial_report(tmp_path: Path) -> None:
    n = 30
    with serve_origin() as origin:
        for i in range(n):
            origin.add(HOST, f"/story/{i}.html", Route(body=article(i), delay=0.1,
                                                       headers=[("Content-Type", "text/html; charset=utf-8")]))
        corpus, out = corpus_for(tmp_path / "corpus", origin.port, n), tmp_path / "out"
        cmd = [sys.executable, "-m", "crawler", "archive", str(corpus), "--config", str(config_for(tmp_path, origin.port)),
               "--out", str(out), "--json"]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(origin.log) < 6:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == exitcodes.INTERRUPTED, stderr
    assert "stopping" in stderr
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["partial"] is True
    lines = [json.loads(x) for x in (out / "report.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines[0]["partial"] is True
    verdicts = [x["verdict"] for x in lines if x["record"] == "url"]
    assert len(verdicts) == n
    done = [v for v in verdicts if v not in ("pending", "deferred")]
    assert 0 < len(done) < n and ("pending" in verdicts or "deferred" in verdicts)
    warcs = sorted((out / "warcs").glob("*.warc.gz"))
    assert warcs and not list((out / "warcs").glob("*.open"))
    for warc in warcs:
        assert warcio_check(warc)[0] == 0
        assert all(block for _, block, _ in fastwarc_verify(warc))


def test_compare_judges_existing_warcs_without_fetching(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serve_origin() as origin:
        for i in range(3):
            origin.add(HOST, f"/story/{i}.html", Route(body=article(i),
                                                       headers=[("Content-Type", "text/html; charset=utf-8")]))
        corpus, out = corpus_for(tmp_path / "corpus", origin.port, 4), tmp_path / "out"
        assert main(["archive", str(corpus), "--config", str(config_for(tmp_path, origin.port)), "--out", str(out),
                     "--quiet"]) == 0
        served = len(origin.log)
        capsys.readouterr()
        code = main(["compare", "--corpus", str(corpus), "--warcs", str(out / "warcs"), "--out",
                     str(tmp_path / "compared"), "--json", "--quiet"])
        assert len(origin.log) == served            # nothing fetched
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["url_verdicts"] == {"unchanged": 3, "gone": 1}
    assert summary["warcs"] == []


@pytest.mark.skipif(shutil.which("wget") is None, reason="wget is not installed")
def test_compare_reads_wget_warcs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serve_origin() as origin:
        for i in range(2):
            origin.add("127.0.0.1", f"/story/{i}.html", Route(body=article(i),
                                                              headers=[("Content-Type", "text/html; charset=utf-8")]))
        urls = [f"http://127.0.0.1:{origin.port}/story/{i}.html" for i in range(2)]
        wget = subprocess.run(["wget", "-q", "--no-config", f"--warc-file={tmp_path / 'wget'}", "--delete-after",
                               "-P", str(tmp_path / "dl"), *urls], capture_output=True, text=True, timeout=60)
        assert (tmp_path / "wget.warc.gz").exists(), wget.stderr
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    related = "".join(f'  - title: "Story {i}"\n    webUrl: "{u}"\n' for i, u in enumerate(urls))
    (corpus / "hub.txt").write_text(f"---\ntitle: Hub\nrelated:\n{related}---\n", encoding="utf-8")
    code = main(["compare", "--corpus", str(corpus), "--warcs", str(tmp_path / "wget.warc.gz"), "--out",
                 str(tmp_path / "compared"), "--json", "--quiet"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["url_verdicts"] == {"unchanged": 2}
