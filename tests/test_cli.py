"""The command line as a person meets it: one clear line and exit 2 for mistakes, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler import __version__
from crawler.cli import COMMANDS, main
from crawler.state import open_state_store


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["archive", "--concurrency", "0", "x"], "--concurrency must be at least 1, not 0"),
        (["archive", "--delay", "-1", "x"], "--delay must be at least 0.0"),
        (["archive", "--resolve", "example.com:443", "x"], "--resolve: not HOST:PORT:ADDRESS"),
        (["archive", "--allow-network", "10.0.0.0/33", "x"], "--allow-network:"),
        (["run", "--per-host", "5", "--concurrency", "2"], "--per-host (5) must not exceed"),
        (["archive", "/no/such/corpus"], "/no/such/corpus: no such file or folder"),
    ],
)
def test_mistakes_give_one_line_and_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text("[politeness]\ndelay = 'fast'\n", encoding="utf-8")
    assert main(["archive", "--config", str(cfg), "x"]) == 2
    assert f"{cfg}: politeness.delay must be a number, not 'fast'" in capsys.readouterr().err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"citecrawl {__version__}"
    for command in COMMANDS:
        with pytest.raises(SystemExit) as done:
            main([command, "--help"])
        out = capsys.readouterr().out
        assert done.value.code == 0 and "examples:" in out and "citecrawl " + command in out, command


# -- the process's end: output flushed, then no interpreter teardown (crawler.cli.exit_now) ---------------

REPO = Path(__file__).resolve().parent.parent


def _citecrawl(*argv: str) -> subprocess.CompletedProcess[bytes]:
    # buffered as a user's shell has it (this sandbox's PYTHONUNBUFFERED would hide a missing flush)
    env = {k: v for k, v in os.environ.items() if k not in ("COVERAGE_PROCESS_START", "PYTHONUNBUFFERED")}
    return subprocess.run([sys.executable, "-m", "crawler", *argv], cwd=REPO, capture_output=True, timeout=60,
                          env=env)


def test_output_written_to_a_pipe_is_complete_at_exit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """stdout to a pipe is block-buffered: ending the process without a flush would lose it all."""
    open_state_store(tmp_path).close()
    assert main(["status", "--out", str(tmp_path), "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    proc = _citecrawl("status", "--out", str(tmp_path), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout).keys() == expected.keys()


def test_exit_code_and_error_line_survive_the_quick_exit(tmp_path: Path) -> None:
    proc = _citecrawl("scan", str(tmp_path / "missing"))
    assert proc.returncode == 2
    assert proc.stderr.decode().strip() == f"citecrawl: error: {tmp_path / 'missing'}: no such file or folder"


def test_a_reader_that_stops_early_is_no_error(tmp_path: Path) -> None:
    """`citecrawl scan --jsonl | head -1`: more lines than a pipe holds, the reader gone after one."""
    for n in range(300):
        (tmp_path / f"doc-{n}.md").write_text(
            f"---\ntitle: Story {n}\noriginalUrl: https://news.example/{n}\nrelated:\n"
            + "".join(f"  - webUrl: https://other.example/{n}/{k}/{'x' * 150}\n" for k in range(3))
            + "---\nText.\n", encoding="utf-8")
    with subprocess.Popen([sys.executable, "-m", "crawler", "scan", str(tmp_path), "--jsonl"], cwd=REPO,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 0 and first.startswith(b"{")
    assert b"Traceback" not in err and b"Exception ignored" not in err
