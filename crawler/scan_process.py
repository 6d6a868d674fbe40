"""A run's corpus scan in a process of its own, while this process imports what the run needs.

``citecrawl archive`` and ``citecrawl run`` begin with two things that do not need each other:
importing the pipeline (trio, httpx, selectolax, warcio …: 0.5–0.8 s of CPU) and scanning the
corpus (~0.7 ms a document). :func:`start_scan` starts a child process (``python -c``, the same
``crawler`` package) that scans into a named scan store (:mod:`crawler.scanstore`) in the
collection's folder and prints the corpus root; the caller imports meanwhile, then
:meth:`PendingScan.result` waits for the child and opens the store, whose file is unlinked at
once (nothing stays on disk; SQLite keeps reading the open file).

The child is worth its start (~0.15 s of CPU on the other core) only with a second core and a
folder to scan: otherwise (one core, files or URLs only, not POSIX) :meth:`~PendingScan.result`
scans here, as before.

Errors: the arguments are checked here first (a path that does not exist is the same
:class:`~crawler.errors.UsageError`, before anything starts). Any failure of the child (a bug,
killed, out of memory) makes the scan run again here, where it raises what it meets with its
own traceback. Leaving the ``with`` before the result (Ctrl-C, an error) kills the child and
removes its file; a run killed outright leaves the file, which the next run removes under the
collection's lock (:func:`remove_stale`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from crawler import child_command
from crawler.inputs import split_inputs

if TYPE_CHECKING:
    from crawler.corpus import ScanResult

__all__ = ["SCAN_DIR", "PendingScan", "child", "remove_stale", "start_scan"]

#: the folder of a collection where a child's scan store is written
SCAN_DIR = ".scan-tmp"
#: the child (:func:`child`)
_BOOT = "from crawler.scan_process import child; child(sys.argv[1], sys.argv[2])"


def remove_stale(collection: str | os.PathLike[str]) -> None:
    """Remove what a killed run's scan left in ``collection`` (hold the collection's lock)."""
    shutil.rmtree(Path(collection) / SCAN_DIR, ignore_errors=True)


def start_scan(paths: Sequence[str], collection: str | os.PathLike[str]) -> PendingScan:
    """Start scanning ``paths`` (as :func:`crawler.corpus.scan`) beside this process; a context manager.

    Raises :class:`~crawler.errors.UsageError` at once for a path that does not exist.
    """
    _, fs_paths = split_inputs(paths)
    pending = PendingScan(paths)
    if os.name == "posix" and (os.cpu_count() or 1) >= 2 and any(p.is_dir() for p in fs_paths):
        pending.start(Path(collection) / SCAN_DIR)
    return pending


class PendingScan:
    """A scan under way in a child process (or to be made here): :meth:`result` gives it."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)
        self.process: subprocess.Popen[bytes] | None = None
        #: whether :meth:`result` came from the child (else it was made here)
        self.by_child = False
        self._store_path: Path | None = None

    def start(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix="scan-", suffix=".sqlite")
        os.close(fd)
        os.unlink(name)                     # the child makes the database: a name no one else takes
        self._store_path = Path(name)
        self.process = subprocess.Popen(
            child_command(_BOOT, name, json.dumps(self.paths)),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def result(self) -> ScanResult:
        """The scan: the child's once it has ended well, else one made here."""
        from crawler.corpus import ScanResult, scan
        from crawler.scanstore import ScanStore

        proc, path = self.process, self._store_path
        if proc is None or path is None:
            return scan(self.paths)
        out, _ = proc.communicate()
        self.process = None
        try:
            if proc.returncode == 0:
                store = ScanStore(str(path), finished=True)
                self.by_child = True
                return ScanResult(store, json.loads(out)["root"])
        finally:
            self._remove()
        return scan(self.paths)            # the child failed: here the failure shows as it is

    def __enter__(self) -> PendingScan:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        proc = self.process
        if proc is not None:            # left before the result: an error, Ctrl-C
            self.process = None
            proc.kill()
            proc.communicate()
        self._remove()

    def _remove(self) -> None:
        path, self._store_path = self._store_path, None
        if path is not None:
            path.unlink(missing_ok=True)
            try:
                path.parent.rmdir()         # unless another file is left there
            except OSError:
                pass


def child(store_path: str, paths_json: str) -> None:
    """The child process: scan into ``store_path``, print ``{"root": ...}``, end without tearing its
    interpreter down (exit 1 with a traceback on an error)."""
    from crawler.cli import exit_now
    from crawler.corpus import scan

    result = scan(json.loads(paths_json), store_path=store_path)
    result.close()
    sys.stdout.write(json.dumps({"root": result.root}))
    exit_now(0)
