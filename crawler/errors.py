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


__all__ = ["CitecrawlError", "ConfigError", "RunLocked", "StateError", "UsageError"]
