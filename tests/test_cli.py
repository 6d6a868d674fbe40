"""The command line as a person meets it: one clear line and exit 2 for mistakes, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler import __version__
from crawler.cli import COMMANDS, main


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
