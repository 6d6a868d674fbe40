"""Options every fetching command shares, and how they override the configuration file.

:func:`add_fetch_options` runs for every ``citecrawl`` invocation (``--help`` builds every
command's parser), so this module imports :mod:`crawler.config` only when a command runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from crawler.errors import ConfigError

if TYPE_CHECKING:
    from crawler.config import Config

__all__ = ["add_fetch_options", "config_from_args"]


def add_fetch_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("configuration and politeness (override the config file for this run)")
    g.add_argument("--config", metavar="FILE", help="configuration file (default: config/citecrawl.toml of the checkout)")
    g.add_argument("--out", metavar="DIR", help="collection folder for WARCs, indexes, state and reports")
    g.add_argument("--concurrency", metavar="N", type=int, help="requests in flight across all hosts")
    g.add_argument("--per-host", metavar="N", type=int, help="requests in flight to one host")
    g.add_argument("--delay", metavar="SECONDS", type=float, help="gap between requests to one host (±jitter)")
    g.add_argument("--user-agent", metavar="TEXT", help="User-Agent header ({version} and {contact} are filled in)")
    g.add_argument("--resolve", metavar="HOST:PORT:ADDRESS", action="append", default=[],
                   help="connect HOST:PORT to ADDRESS, like curl; TLS is still checked against HOST (repeatable)")
    g.add_argument("--ca-bundle", metavar="FILE", help="PEM file of CA certificates to trust instead of the system's")
    g.add_argument("--allow-network", metavar="CIDR", action="append", default=[],
                   help="allow connecting into this private or loopback range, e.g. 127.0.0.0/8 (repeatable)")
    g.add_argument("--no-robots", action="store_true",
                   help="ignore robots.txt (recorded in every WARC's warcinfo); be sure you may")


def config_from_args(args: argparse.Namespace) -> Config:
    """The configuration file named by ``--config`` (or the default), with the flags applied."""
    from crawler.config import load_config

    config = load_config(getattr(args, "config", None))
    overrides: dict[str, dict[str, Any]] = {
        "collection": {"out": getattr(args, "out", None)},
        "politeness": {
            "concurrency": getattr(args, "concurrency", None),
            "per_host": getattr(args, "per_host", None),
            "delay": getattr(args, "delay", None),
            "robots": False if getattr(args, "no_robots", False) else None,
        },
        "identity": {"user_agent": getattr(args, "user_agent", None)},
        "network": {
            "ca_bundle": getattr(args, "ca_bundle", None),
            "resolve": [*config.network.resolve, *args.resolve] if getattr(args, "resolve", None) else None,
            "allow_networks": [*config.network.allow_networks, *args.allow_network]
            if getattr(args, "allow_network", None) else None,
        },
    }
    if overrides["politeness"]["concurrency"] is not None and overrides["politeness"]["per_host"] is None:
        # a small --concurrency must not fail against the file's per_host
        overrides["politeness"]["per_host"] = min(config.politeness.per_host, overrides["politeness"]["concurrency"])
    if not any(v is not None for section in overrides.values() for v in section.values()):
        return config
    try:
        return config.with_overrides(**overrides)
    except ConfigError as exc:
        raise ConfigError(_in_flag_terms(str(exc))) from None


#: the flag that sets each overridable setting, to name it in error messages
FLAGS = {
    "collection.out": "--out", "politeness.concurrency": "--concurrency", "politeness.per_host": "--per-host",
    "politeness.delay": "--delay", "identity.user_agent": "--user-agent", "network.ca_bundle": "--ca-bundle",
    "network.resolve": "--resolve", "network.allow_networks": "--allow-network",
}


def _in_flag_terms(message: str) -> str:
    """``command line: politeness.delay must be …`` → ``--delay must be …`` (what the user typed).

    >>> _in_flag_terms("command line: politeness.concurrency must be at least 1, not 0")
    '--concurrency must be at least 1, not 0'
    """
    if not message.startswith("command line: "):
        return message
    rest = message.removeprefix("command line: ")
    for key, flag in FLAGS.items():
        if rest.startswith(key):
            return flag + rest[len(key):]
    return message
