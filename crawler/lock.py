"""The run lock: one ``citecrawl run`` per collection at a time, refused at once, never waited for.

``fcntl.flock`` on ``collection/.citecrawl.lock``. The kernel drops the lock
when the holder's file is closed, which includes exit, a crash and SIGKILL, so
there is no stale lock to clean up by hand. The holder writes its pid, host
and start time into the file for the refusal message; the file itself is never
deleted (deleting a lock file lets two processes lock two different inodes).

flock locks belong to the open file description: a second :class:`RunLock` in
the same process is refused too. flock is unreliable on some network file
systems (old NFS); keep collections on a local disk.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from crawler.errors import RunLocked

__all__ = ["LOCK_FILENAME", "LockHolder", "RunLock", "read_lock_holder"]

LOCK_FILENAME = ".citecrawl.lock"


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who took the lock, as written in the lock file."""

    pid: int
    host: str
    started: str  # ISO 8601, UTC

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started}"


class RunLock:
    """A non-blocking exclusive lock on a collection folder; a context manager.

    >>> import tempfile
    >>> with RunLock(tempfile.mkdtemp()) as lock:
    ...     lock.held
    True
    """

    def __init__(self, collection: str | Path) -> None:
        self.path = Path(collection) / LOCK_FILENAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, now: datetime | None = None) -> LockHolder:
        """Take the lock or raise :class:`RunLocked` naming the holder; returns what was written."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path}: this RunLock is already held")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = read_lock_holder(self.path.parent, check_alive=False)
            who = holder.describe() if holder else "a process that has not written its name yet"
            raise RunLocked(f"another run holds {self.path} ({who}); not starting") from None
        except BaseException:
            os.close(fd)
            raise
        holder = LockHolder(pid=os.getpid(), host=socket.gethostname(),
                            started=(now or datetime.now(UTC)).isoformat(timespec="seconds"))
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps({"pid": holder.pid, "host": holder.host, "started": holder.started})
                           + "\n").encode(), 0)
        except BaseException:
            os.close(fd)  # closing releases the lock
            raise
        self._fd = fd
        return holder

    def release(self) -> None:
        """Release the lock (idempotent). The file stays, emptied, for the next run."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def read_lock_holder(collection: str | Path, *, check_alive: bool = True) -> LockHolder | None:
    """Who the lock file names, without touching the lock (``status`` must never block a run).

    With ``check_alive`` a holder on this host whose pid no longer exists is
    taken for stale (killed, the kernel released its lock) and ``None`` returned.
    """
    try:
        data = json.loads((Path(collection) / LOCK_FILENAME).read_text(encoding="utf-8"))
        holder = LockHolder(pid=int(data["pid"]), host=str(data["host"]), started=str(data["started"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if check_alive and holder.host == socket.gethostname() and not _alive(holder.pid):
        return None
    return holder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
