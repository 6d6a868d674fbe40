"""The crawler's error tree.

Failures of a URL (404, timeout, robots, DNS) are *values* (see
:mod:`crawler.outcomes`), never exceptions. Exceptions are for the user's
mistakes and for bugs::

    CitecrawlError                 base of everything we raise on purpose
    ├── ConfigError                a wrong key, type or value in a config file or flag
    ├── UsageError                 command-line arguments that cannot work together
    ├── RunLocked                  another run holds the collection's lock (cron overlap)
    └── StateError                 the state store is missing, unreadable, or newer than this code

Each carries a one-line message meant for a person; the CLI prints it without a
traceback and exits with the code given in :mod:`crawler.exitcodes`.
"""

from __future__ import annotations

import errno
import sqlite3


class CitecrawlError(Exception):
    """Base of the errors citecrawl raises on purpose."""


class ConfigError(CitecrawlError):
    """A configuration file or flag is wrong; the message names file, key and what is allowed."""


class UsageError(CitecrawlError):
    """Command-line arguments that cannot work together."""


class RunLocked(CitecrawlError):
    """Another ``citecrawl run`` holds the collection's lock."""


class StateError(CitecrawlError):
    """The state store (``state.sqlite``) cannot be used: missing, corrupt, or from a newer citecrawl."""


#: errno values that mean "the storage is full or gone", not a bug
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


def storage_failure(exc: BaseException) -> str | None:
    """A one-line description if ``exc`` (or an exception inside it: trio's groups, causes,
    contexts) is the disk failing under us — full, over quota, read-only — else ``None``.

    >>> storage_failure(OSError(errno.ENOSPC, "No space left on device"))
    'No space left on device'
    >>> storage_failure(ExceptionGroup("g", [sqlite3.OperationalError("database or disk is full")]))
    'state store: database or disk is full'
    >>> storage_failure(ValueError("a bug")) is None
    True
    """
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        cur = todo.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in _STORAGE_ERRNOS:
            where = f" ({cur.filename})" if cur.filename else ""
            return f"{cur.strerror or cur}{where}"
        if isinstance(cur, sqlite3.OperationalError) and ("disk is full" in str(cur) or "disk I/O" in str(cur)):
            return f"state store: {cur}"
        if isinstance(cur, BaseExceptionGroup):
            todo.extend(cur.exceptions)
        todo.extend(x for x in (cur.__cause__, cur.__context__) if x is not None)
    return None


__all__ = ["CitecrawlError", "ConfigError", "RunLocked", "StateError", "UsageError", "storage_failure"]
