"""Cheap start-up: building the ``citecrawl`` parser, ``--help`` and ``status`` import no pipeline.

Every invocation builds the parser of every command, so a command module that imports trio,
httpx, selectolax, warcio or rich at its top level costs each ``citecrawl --help``, ``--version``
and ``status`` (called from cron or monitoring every minute) about 0.6 s of CPU. These tests look
at ``sys.modules`` in a fresh interpreter, never at a clock: a module set, not a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.cli import COMMANDS
from crawler.state import Citation, DocumentSeen, open_state_store

REPO = Path(__file__).resolve().parent.parent

#: third-party packages only a command's work needs (top-level names)
HEAVY_PACKAGES = ("trio", "httpx", "httpcore", "anyio", "selectolax", "warcio", "fastwarc", "rich",
                  "tenacity", "protego", "brotli")
#: our own modules that pull those in, or cost much on their own
HEAVY_MODULES = ("crawler.pipeline", "crawler.crawl", "crawler.corpus", "crawler.display", "archive.extract",
                 "archive.replay", "archive.verdicts", "archive.writer", "archive.reader")

#: run in a fresh interpreter from the checkout: the code to test, then print what it imported
PROBE = """
import contextlib, io, json, sys
sys.argv = ["citecrawl"]
import crawler
assert crawler.__file__.startswith({repo!r}), crawler.__file__
{body}
heavy = {packages!r}
print(json.dumps(sorted(m for m, module in sys.modules.items()   # (crawler's stand-in for httpx's CLI: no file)
                        if (m.split(".")[0] in heavy or m in {modules!r}) and getattr(module, "__file__", None))))
"""


def imported_by(body: str, *, packages: tuple[str, ...] = HEAVY_PACKAGES,
                modules: tuple[str, ...] = HEAVY_MODULES) -> list[str]:
    """The heavy modules (``packages`` and ``modules``) in ``sys.modules`` after *body* runs in a fresh interpreter."""
    code = PROBE.format(repo=str(REPO), body=body, packages=packages, modules=modules)
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result: list[str] = json.loads(proc.stdout.splitlines()[-1])
    return result


def test_the_probe_sees_a_heavy_import() -> None:
    """The check below can fail: importing the pipeline shows up."""
    found = imported_by("import crawler.pipeline")
    assert {"trio", "httpx", "crawler.pipeline"} <= set(found)


def test_httpx_is_imported_without_its_command_line_client() -> None:
    """``import httpx`` after ``import crawler`` leaves out httpx's CLI (click, pygments, rich's
    syntax highlighting) even where click is installed; ``httpx.main`` still loads it when called."""
    found = imported_by("import httpx, crawler.fetch", packages=("click", "pygments", "rich", "httpx"))
    assert "httpx" in found
    assert not [m for m in found if m.split(".")[0] in ("click", "pygments", "rich")], found
    if subprocess.run([sys.executable, "-c", "import click"], capture_output=True).returncode != 0:
        pytest.skip("click is not installed: httpx never imports its CLI anyway")
    code = HTTPX_CLI.format(repo=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


HTTPX_CLI = """
import contextlib, io, sys
sys.path.insert(0, {repo!r})
import crawler, httpx
assert "_without_httpx_cli" in httpx.main.__qualname__ and "click" not in sys.modules
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
    httpx.main(["--help"])
assert "Usage" in out.getvalue(), out.getvalue()
assert sys.modules["httpx._main"].__file__.endswith("_main.py")
"""


def test_building_the_parser_imports_no_pipeline() -> None:
    assert imported_by("from crawler.cli import build_parser\nbuild_parser()") == []


@pytest.mark.parametrize("argv", [["--help"], ["--version"], *([name, "--help"] for name in COMMANDS)],
                         ids=lambda argv: " ".join(argv))
def test_help_and_version_import_no_pipeline(argv: list[str]) -> None:
    body = f"""
from crawler.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main({argv!r})
    except SystemExit as exc:
        assert exc.code == 0, exc.code
assert "usage:" in out.getvalue() or "citecrawl " in out.getvalue(), out.getvalue()
"""
    assert imported_by(body) == []


def test_status_imports_no_pipeline(tmp_path: Path) -> None:
    """Monitoring calls ``status`` every minute: it reads the state store and nothing more."""
    coll = tmp_path / "coll"
    store = open_state_store(coll)
    now = time.time()
    store.upsert_documents([DocumentSeen("000.txt", "h")], now=now)
    store.replace_citations({"000.txt": [Citation("https://news.example/1", "webUrl")]}, now=now)
    store.close()
    body = f"""
from crawler.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["status", "--out", {str(coll)!r}, "--json"])
assert code == 0, code
assert json.loads(out.getvalue())["due"]["total"] == 1, out.getvalue()
"""
    assert imported_by(body) == []


def test_a_judging_process_imports_what_judging_needs_and_no_crawler() -> None:
    """The run's judging processes start from crawler.judging: no trio, httpx or WARC writer to import."""
    found = set(imported_by("import crawler.judging, crawler.__main__; crawler.judging.preload()"))
    assert {"selectolax", "archive.extract", "archive.verdicts"} <= found    # it does judge
    assert not found & {"trio", "httpx", "httpcore", "tenacity", "warcio", "rich", "crawler.pipeline",
                        "crawler.crawl", "archive.writer"}


#: what reading pages and parsing snapshots needs: the judging processes' and the scan's, not the crawl's
PAGE_READING = ("selectolax", "rapidfuzz", "yaml", "charset_normalizer")
PAGE_READING_MODULES = ("archive.extract", "archive.compare", "archive.boilerplate",
                        "crawler.documents", "crawler.frontmatter")


def test_a_runs_crawling_process_imports_no_page_reading() -> None:
    """The crawl hands pages to judging processes and its scan to a child: the extraction, comparison
    and snapshot-parsing stack stays out of it (~0.15 s of every run's start)."""
    body = ("import crawler.pipeline, crawler.commands.archive, crawler.commands.run, crawler.display, "
            "crawler.state, crawler.scan_process, archive.report_spool")
    assert imported_by(body, packages=PAGE_READING, modules=PAGE_READING_MODULES) == []
    # the probe sees them where they are used
    found = imported_by("import crawler.judging; crawler.judging.preload()", packages=PAGE_READING,
                        modules=PAGE_READING_MODULES)
    assert {"selectolax", "rapidfuzz", "yaml", "archive.extract", "crawler.documents"} <= set(found)
