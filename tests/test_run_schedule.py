"""`citecrawl run` as cron runs it: only what is due, conditional rechecks, one at a time, resumable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler import exitcodes
from crawler.cli import main
from crawler.lock import RunLock
from tests.origin import Origin, Route, png_bytes, serve_origin
from tests.warcfixtures import fastwarc_verify, warcio_check

HOST = "paper.example.test"
DAY = 86400.0
OLD = ["The city library extends its opening hours to ten in the evening on weekdays.",
       "Readers asked for the change in a survey last spring, the head librarian said.",
       "Weekend hours stay as they are, from nine in the morning until five."]
NEW = ["The city library will close its reading room for repairs during the whole summer.",
       "Books can still be borrowed at the counter by the entrance, the head librarian said.",
       "The repairs are paid for by a grant from the regional heritage fund."]


def page(title: str, paragraphs: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"


def write_config(tmp: Path, port: int, corpus: Path, out: Path) -> Path:
    cfg = tmp / "cron.toml"
    cfg.write_text(f"""
[corpus]
paths = ["{corpus}"]
[collection]
out = "{out}"
[politeness]
delay = 0.0
jitter = 0.0
max_attempts = 1
[network]
fetch_deadline = 5.0
allow_networks = ["127.0.0.0/8"]
resolve = ["{HOST}:{port}:127.0.0.1"]
""", encoding="utf-8")
    return cfg


def make_corpus(root: Path, port: int, n_extra: int = 0) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    base = f"http://{HOST}:{port}"
    related = "".join(f'  - title: "Extra {i}"\n    webUrl: "{base}/extra/{i}.html"\n' for i in range(n_extra))
    (root / "hub.txt").write_text(f"""---
title: "Library extends opening hours"
originalUrl: "{base}/library.html"
images:
  - url: "{base}/library.png"
    width: 40
    height: 30
related:
  - title: "Pool reopens"
    webUrl: "{base}/pool.html"
  - title: "Museum"
    webUrl: "{base}/museum.html"
{related}---
""", encoding="utf-8")
    (root / "library.txt").write_text("Library extends opening hours\n\n" + "\n\n".join(OLD) + "\n", encoding="utf-8")
    return root


def serve(origin: Origin, n_extra: int = 0, delay: float = 0.0) -> None:
    origin.add(HOST, "/library.html", Route(body=page("Library extends opening hours", OLD).encode(),
                                            headers=[("Content-Type", "text/html; charset=utf-8")], delay=delay))
    origin.add(HOST, "/pool.html", Route(body=page("Pool reopens", OLD).encode(), etag='"pool-v1"',
                                         headers=[("Content-Type", "text/html; charset=utf-8")], delay=delay))
    origin.add(HOST, "/museum.html", Route(body=page("Museum", OLD).encode(), delay=delay,
                                           headers=[("Content-Type", "text/html; charset=utf-8")]))
    origin.add(HOST, "/library.png", Route(body=png_bytes(40, 30), headers=[("Content-Type", "image/png")]))
    for i in range(n_extra):
        origin.add(HOST, f"/extra/{i}.html", Route(body=page(f"Extra {i}", OLD).encode(), delay=delay,
                                                   headers=[("Content-Type", "text/html; charset=utf-8")]))


def run_json(cfg: Path, now: float, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    code = main(["run", "--config", str(cfg), "--json", "--now", str(now)])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1])


def fetched_paths(origin: Origin, since: int) -> list[str]:
    return [x.path for x in origin.log[since:] if x.path != "/robots.txt"]


def warc_records(out: Path) -> list[tuple[str, str, str | None]]:
    from warcio.archiveiterator import ArchiveIterator

    records = []
    for path in sorted((out / "warcs").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                records.append((rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"),
                                rec.rec_headers.get_header("WARC-Profile")))
    return records


def test_three_scheduled_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.time()
    with serve_origin() as origin:
        serve(origin)
        corpus, out = make_corpus(tmp_path / "corpus", origin.port), tmp_path / "collection"
        cfg = write_config(tmp_path, origin.port, corpus, out)

        code, first = run_json(cfg, t0, capsys)
        assert code == exitcodes.OK, first
        assert first["due"] == 4 and first["fetched"] == 4
        assert sorted(fetched_paths(origin, 0)) == ["/library.html", "/library.png", "/museum.html", "/pool.html"]

        seen = len(origin.log)
        code, second = run_json(cfg, t0 + DAY, capsys)
        assert code == exitcodes.OK and second["due"] == 0 and second["fetched"] == 0
        assert fetched_paths(origin, seen) == []          # a day later nothing is due

        # a week later: the library page changed, the pool page answers 304 to its ETag
        serve(origin)
        origin.routes[(HOST, "/library.html")].body = page("Library extends opening hours", NEW).encode()
        seen = len(origin.log)
        code, third = run_json(cfg, t0 + 8 * DAY, capsys)
        assert third["due"] == 3                           # articles weekly, the image never again
        assert sorted(fetched_paths(origin, seen)) == ["/library.html", "/museum.html", "/pool.html"]
        pool = next(x for x in origin.log[seen:] if x.path == "/pool.html")
        assert pool.headers.get("If-None-Match") == '"pool-v1"' and pool.status == 304
        assert code == exitcodes.ATTENTION                 # the library page says something else now
        changed = {c["url"].rsplit("/", 1)[1]: c for c in third["changes"]}
        assert changed["library.html"]["kind"] == "changed"

    report = [json.loads(x) for x in (out / "report.jsonl").read_text(encoding="utf-8").splitlines()]
    verdicts = {r["url"].rsplit("/", 1)[1]: r["verdict"] for r in report if r["record"] == "url"}
    assert verdicts["library.png"] == "image_ok"            # carried over from the first run
    assert verdicts["pool.html"] == "unchanged"                # 304: as it was
    assert verdicts["library.html"] in {"different_page", "major_changes"}
    records = warc_records(out)
    profiles = [p for t, u, p in records if t == "revisit" and u.endswith("/pool.html")]
    assert profiles == ["http://netpreserve.org/warc/1.1/revisit/server-not-modified"]
    same = [p for t, u, p in records if t == "revisit" and u.endswith("/museum.html")]
    assert same == ["http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"]
    assert verdicts["museum.html"] == "unchanged"
    assert sum(1 for t, u, _ in records if t == "response" and u.endswith("/library.html")) == 2
    for warc in sorted((out / "warcs").glob("*.warc.gz")):
        assert warcio_check(warc)[0] == 0


def test_overlapping_run_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "collection"
    out.mkdir()
    corpus = make_corpus(tmp_path / "corpus", 9)
    cfg = write_config(tmp_path, 9, corpus, out)
    with RunLock(out):
        code = main(["run", "--config", str(cfg)])
    assert code == exitcodes.LOCKED
    err = capsys.readouterr().err
    assert "another" in err.lower() or "lock" in err.lower()
    assert not (out / "warcs").exists() or not list((out / "warcs").iterdir())


@pytest.mark.slow
def test_killed_run_resumes_without_fetching_twice(tmp_path: Path) -> None:
    n_extra = 12
    with serve_origin() as origin:
        serve(origin, n_extra=n_extra, delay=0.15)
        corpus, out = make_corpus(tmp_path / "corpus", origin.port, n_extra), tmp_path / "collection"
        cfg = write_config(tmp_path, origin.port, corpus, out)
        cmd = [sys.executable, "-m", "crawler", "run", "--config", str(cfg), "--json"]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len([x for x in origin.log if x.path != "/robots.txt"]) < 5:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed_after = len(origin.log)
        assert killed_after < n_extra + 4, "the run finished before it was killed; slow the origin down"

        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode in (exitcodes.OK, exitcodes.ATTENTION), done.stderr
    urls = {f"/extra/{i}.html" for i in range(n_extra)} | {"/library.html", "/pool.html", "/library.png",
                                                          "/museum.html"}
    records = warc_records(out)
    responses = [u.split(":", 2)[2].split("/", 1)[1] for t, u, _ in records if t == "response"
                 and not u.endswith("/robots.txt")]
    # every URL archived exactly once across the killed run and the resumed one
    assert sorted("/" + r for r in responses) == sorted(urls)
    fetched = [x.path for x in origin.log if x.path != "/robots.txt"]
    assert len(fetched) - len(set(fetched)) <= 1          # at most the one in flight at the kill
    for warc in sorted((out / "warcs").glob("*.warc.gz")):
        assert warcio_check(warc)[0] == 0
        assert all(block for _, block, _ in fastwarc_verify(warc))
    assert not list((out / "warcs").glob("*.open"))


def test_budget_leaves_the_rest_due(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t0 = time.time()
    with serve_origin() as origin:
        serve(origin, n_extra=4)
        corpus, out = make_corpus(tmp_path / "corpus", origin.port, 4), tmp_path / "collection"
        cfg = write_config(tmp_path, origin.port, corpus, out)
        cfg.write_text(cfg.read_text(encoding="utf-8") + "[budget]\nmax_urls = 3\n", encoding="utf-8")
        code, first = run_json(cfg, t0, capsys)
        assert (first["due"], first["fetched"]) == (3, 3)
        code, second = run_json(cfg, t0 + 60, capsys)
        assert (second["due"], second["fetched"]) == (3, 3)
        code, third = run_json(cfg, t0 + 120, capsys)
        assert (third["due"], third["fetched"]) == (2, 2)       # 8 URLs in all
        code, fourth = run_json(cfg, t0 + 180, capsys)
        assert fourth["due"] == 0 and code == exitcodes.OK
    fetched = [x.path for x in origin.log if x.path != "/robots.txt"]
    assert len(fetched) == len(set(fetched)) == 8


def test_byte_budget_stops_the_run_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with serve_origin() as origin:
        serve(origin, n_extra=6)
        corpus, out = make_corpus(tmp_path / "corpus", origin.port, 6), tmp_path / "collection"
        cfg = write_config(tmp_path, origin.port, corpus, out)
        text = cfg.read_text(encoding="utf-8").replace("delay = 0.0", "delay = 0.05")
        cfg.write_text(text + "[budget]\nmax_bytes = 1\n", encoding="utf-8")
        code, first = run_json(cfg, time.time(), capsys)
        assert code in (exitcodes.OK, exitcodes.ATTENTION) and first["partial"] is False
        assert 1 <= first["fetched"] < 10                          # stopped after the first body
        code, second = run_json(cfg, time.time() + 60, capsys)
        assert second["due"] == 10 - first["fetched"]             # the rest stays due


def test_archive_takes_the_lock_and_sweeps_a_killed_runs_spool(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "collection"
    stale = out / ".report-tmp" / "run-killed"
    stale.mkdir(parents=True)
    (stale / "urls.spool").write_bytes(b"x" * 100)
    corpus = make_corpus(tmp_path / "corpus", 9)
    cfg = write_config(tmp_path, 9, corpus, out)
    with RunLock(out):
        assert main(["archive", "--config", str(cfg), "--quiet"]) == exitcodes.LOCKED
    assert stale.exists()                      # nothing touched while another run holds the lock
    with serve_origin() as origin:
        serve(origin)
        corpus = make_corpus(tmp_path / "corpus2", origin.port)
        cfg = write_config(tmp_path, origin.port, corpus, out)
        assert main(["archive", "--config", str(cfg), "--quiet"]) == exitcodes.OK
    assert not (out / ".report-tmp").exists()


def test_the_change_list_is_written_as_it_is_read(capsys: pytest.CaptureFixture[str]) -> None:
    """``run --json`` streams its changes; the text is what json.dumps of the whole object gives."""
    from types import SimpleNamespace

    from crawler.commands.run import _print
    from crawler.state import UrlChange

    result = SimpleNamespace(bytes=12, partial=False, fetched=3, counts={"gone": 1}, summary=SimpleNamespace(attention=1),
                             reports=SimpleNamespace(jsonl=Path("r/report.jsonl"), html=Path("r/report.html")))
    changes = [UrlChange("http://a.example/é", "gone", "ok 200", "http_error 404"),
               UrlChange("http://b.example/", "moved", "http://b.example/", "http://c.example/")]
    _print(result, ("d/1.md",), iter(changes), 3, due=3, as_json=True, elapsed=1.23456, code=1)  # type: ignore[arg-type]
    expected = json.dumps({
        "exit": 1, "partial": False, "due": 3, "fetched": 3, "bytes": 12, "seconds": 1.235, "url_verdicts": {"gone": 1},
        "new_documents": ["d/1.md"], "report": "r/report.jsonl",
        "changes": [{"url": c.url, "kind": c.kind, "before": c.before, "after": c.after} for c in changes],
    }, sort_keys=True)
    assert capsys.readouterr().out == expected + "\n"

    _print(result, ("d/1.md",), iter([]), 1, due=3, as_json=True, elapsed=1.0, code=0)  # type: ignore[arg-type]
    assert json.loads(capsys.readouterr().out)["changes"] == []

    many = (UrlChange(f"http://a.example/{i}", "unreachable", "ok 200", "dns") for i in range(60))
    _print(result, ("d/1.md",), many, 61, due=3, as_json=False, elapsed=1.0, code=1)  # type: ignore[arg-type]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("citecrawl run: 3 due, 3 fetched, 61 changes")
    assert lines[1] == "  new document: d/1.md" and lines[2] == "  unreachable: http://a.example/0 (ok 200 -> dns)"
    assert len(lines) == 1 + 50 + 1 and lines[-1] == "  … and 11 more in r/report.jsonl"
