"""The run lock: refused at once while held (in this process or another), free again after exit or SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler import lock as lock_module
from crawler.errors import RunLocked
from crawler.lock import LOCK_FILENAME, LockHolder, RunLock, read_lock_holder

REPO = Path(__file__).resolve().parent.parent

HOLDER = """
import sys
from crawler.lock import RunLock
lock = RunLock(sys.argv[1])
lock.acquire()
print("locked", flush=True)
sys.stdin.read()          # hold until the parent closes stdin (or kills us)
lock.release()
print("released", flush=True)
"""


@contextmanager
def holder_process(collection: Path) -> Iterator[subprocess.Popen[str]]:
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(collection)], cwd=REPO, text=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "locked"
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


def test_doctests() -> None:
    import doctest
    assert doctest.testmod(lock_module).failed == 0


def test_second_lock_in_process_is_refused_then_free(tmp_path: Path) -> None:
    first = RunLock(tmp_path)
    holder = first.acquire(now=datetime(2024, 5, 1, 2, 0, tzinfo=UTC))
    assert holder == LockHolder(pid=os.getpid(), host=socket.gethostname(), started="2024-05-01T02:00:00+00:00")
    with pytest.raises(RunLocked) as info:
        RunLock(tmp_path).acquire()
    msg = str(info.value)
    assert f"pid {os.getpid()}" in msg and "started 2024-05-01T02:00:00+00:00" in msg and LOCK_FILENAME in msg
    assert read_lock_holder(tmp_path) == holder
    first.release()
    first.release()  # idempotent
    assert read_lock_holder(tmp_path) is None  # emptied on release
    with RunLock(tmp_path) as again:
        assert again.held
    assert (tmp_path / LOCK_FILENAME).exists()  # never deleted


def test_acquire_twice_on_one_object_is_a_bug(tmp_path: Path) -> None:
    with RunLock(tmp_path) as lock, pytest.raises(RuntimeError):
        lock.acquire()


def test_other_process_holds_then_exits(tmp_path: Path) -> None:
    with holder_process(tmp_path) as proc:
        with pytest.raises(RunLocked, match=rf"pid {proc.pid} on {socket.gethostname()}"):
            RunLock(tmp_path).acquire()
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.stdout is not None and proc.stdout.readline().strip() == "released"
        proc.wait(timeout=10)
    with RunLock(tmp_path):
        pass


def test_sigkill_releases_the_lock(tmp_path: Path) -> None:
    with holder_process(tmp_path) as proc:
        with pytest.raises(RunLocked):
            RunLock(tmp_path).acquire()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # the file still names the dead holder; the kernel released its lock
        stale = json.loads((tmp_path / LOCK_FILENAME).read_text())
        assert stale["pid"] == proc.pid
        assert read_lock_holder(tmp_path) is None  # dead pid on this host: not reported as running
        assert read_lock_holder(tmp_path, check_alive=False) is not None
        with RunLock(tmp_path) as lock:
            assert lock.held
            now = read_lock_holder(tmp_path)
            assert now is not None and now.pid == os.getpid()


def test_cli_maps_run_locked_to_exit_75(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A command that takes the lock while another holds it exits 75 (EX_TEMPFAIL) with one line."""
    from crawler import cli, exitcodes

    def run(args: object) -> int:
        with RunLock(tmp_path):
            return 0

    with RunLock(tmp_path):
        assert _main_with(cli, run) == exitcodes.LOCKED
    err = capsys.readouterr().err
    assert err.startswith("citecrawl: another run holds") and err.count("\n") == 1


def _main_with(cli: object, run: object) -> int:
    """``cli.main`` with a stand-in command, so the mapping of errors to exit codes is what is tested."""
    import argparse
    from unittest import mock

    parser = argparse.ArgumentParser()
    parser.set_defaults(_run=run)
    with mock.patch.object(cli, "build_parser", lambda: parser):
        return int(cli.main([]))  # type: ignore[attr-defined]


def test_unreadable_lock_file_contents(tmp_path: Path) -> None:
    (tmp_path / LOCK_FILENAME).write_text("garbage")
    assert read_lock_holder(tmp_path) is None
    assert read_lock_holder(tmp_path / "missing") is None
