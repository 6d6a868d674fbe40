"""Configuration: frozen, validated settings loaded from TOML, with CLI overrides.

Every setting lives in one dataclass below, with its default and a ``help``
line. ``config/citecrawl.toml`` mirrors these defaults with comments (a test
keeps the two equal). Loading is strict: an unknown key, a wrong type or a value
out of range raises :class:`~crawler.errors.ConfigError` with one line naming
the file, the key and what is allowed.

Relative paths in a configuration file are resolved against the folder of that
file, so a cron job behaves the same from any working directory. Paths given on
the command line are resolved against the current directory.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler import __version__
from crawler.errors import ConfigError

__all__ = [
    "BudgetConfig",
    "CollectionConfig",
    "CompareConfig",
    "Config",
    "CorpusConfig",
    "ExtractConfig",
    "IdentityConfig",
    "NetworkConfig",
    "PolitenessConfig",
    "RecrawlConfig",
    "WarcConfig",
    "default_config_path",
    "load_config",
    "parse_duration",
    "parse_resolve",
]


def _opt(default: Any, help: str, **constraints: Any) -> Any:
    """A dataclass field with its help line and constraints (min, max, choices, kind)."""
    if isinstance(default, list | tuple):
        value = tuple(default)
        return field(default_factory=lambda: value, metadata={"help": help, **constraints})
    return field(default=default, metadata={"help": help, **constraints})


#: a file name part that cannot leave its folder or hide (no separators, no leading dot)
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(text: str) -> float:
    """Seconds in a duration like ``"90s"``, ``"15m"``, ``"12h"``, ``"7d"``, ``"2w"``; ``"never"`` is infinity.

    >>> parse_duration("7d")
    604800.0
    >>> parse_duration("never")
    inf
    """
    if text.strip().lower() == "never":
        return math.inf
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 12h, 7d, 2w or never)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_resolve(text: str) -> tuple[str, int, str]:
    """``HOST:PORT:ADDRESS`` as curl's ``--resolve`` takes it; IPv6 addresses may be bracketed.

    >>> parse_resolve("example.com:443:127.0.0.2")
    ('example.com', 443, '127.0.0.2')
    >>> parse_resolve("example.com:80:[::1]")
    ('example.com', 80, '::1')
    """
    host, sep, rest = text.partition(":")
    port_s, sep2, addr = rest.partition(":")
    if not (sep and sep2 and host and port_s.isdigit() and addr):
        raise ValueError(f"not HOST:PORT:ADDRESS: {text!r}")
    addr = addr.strip("[]")
    ipaddress.ip_address(addr)  # raises ValueError with a clear text
    port = int(port_s)
    if not 0 < port < 65536:
        raise ValueError(f"port out of range in {text!r}")
    return host.lower(), port, addr


# -- sections -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorpusConfig:
    paths: tuple[str, ...] = _opt((), "folders, files or URLs to read when no PATH is given on the command line", kind="paths")
    max_document_bytes: int = _opt(20_000_000, "corpus files larger than this are reported (too-large), not read", min=1)


@dataclass(frozen=True, slots=True)
class CollectionConfig:
    out: str = _opt("collection", "the collection folder: warcs/, indexes/, state.sqlite, reports", kind="path")


@dataclass(frozen=True, slots=True)
class IdentityConfig:
    user_agent: str = _opt(
        "citecrawl/{version} (+{contact})",
        "User-Agent header; {version} and {contact} are filled in",
    )
    contact: str = _opt("https://github.com/citecrawl/citecrawl", "a URL or mail address where site owners reach the operator")
    operator: str = _opt("", "who runs this crawl, written into every WARC's warcinfo")
    robots_token: str = _opt("citecrawl", "product token matched against robots.txt User-agent groups")


@dataclass(frozen=True, slots=True)
class PolitenessConfig:
    concurrency: int = _opt(16, "requests in flight across all hosts at most", min=1, max=1000)
    per_host: int = _opt(1, "requests in flight to one host at most", min=1, max=64)
    delay: float = _opt(1.0, "seconds from the end of one response to the start of the next on a host", min=0.0, max=3600.0)
    jitter: float = _opt(0.5, "random share added to the delay (0.5 = up to +50 %); the delay stays a floor, so the rate is never exceeded", min=0.0, max=1.0)
    max_crawl_delay: float = _opt(30.0, "robots.txt Crawl-delay honoured up to this; longer defers the host to a later run", min=0.0)
    max_retry_after: float = _opt(600.0, "Retry-After honoured up to this many seconds; longer defers the URL", min=0.0)
    max_attempts: int = _opt(4, "attempts per URL for transient failures (connect, timeout, 429, 502, 503, 504)", min=1, max=20)
    backoff_base: float = _opt(2.0, "first back-off in seconds after a transient failure; doubles each time", min=0.0)
    backoff_max: float = _opt(300.0, "longest back-off in seconds", min=0.0)
    robots: bool = _opt(True, "obey robots.txt; false is an explicit choice recorded in every WARC's warcinfo")


@dataclass(frozen=True, slots=True)
class NetworkConfig:
    connect_timeout: float = _opt(10.0, "seconds to open a connection", min=0.1)
    read_timeout: float = _opt(30.0, "seconds to wait for each chunk of a response", min=0.1)
    fetch_deadline: float = _opt(120.0, "seconds for a whole fetch, headers and body; past it the record is marked truncated", min=0.1)
    max_body_bytes: int = _opt(50_000_000, "bytes kept of one body; past it the record is marked truncated", min=1)
    max_redirects: int = _opt(10, "redirect hops followed from one cited URL", min=0, max=100)
    http2: bool = _opt(False, "allow HTTP/2 (over TLS); HTTP/1.1 records are more faithful")
    accept_encoding: str = _opt("gzip, deflate", "Accept-Encoding sent; only encodings the readers can decode", choices=("gzip, deflate", "gzip", "identity", "gzip, deflate, br"))
    ca_bundle: str = _opt("", "a PEM file of CA certificates instead of the system's", kind="path")
    proxy: str = _opt("", "an HTTP(S) proxy URL; its credentials are never written to WARCs or logs")
    trust_env: bool = _opt(False, "read proxy settings from the environment (HTTP_PROXY …)")
    resolve: tuple[str, ...] = _opt((), "HOST:PORT:ADDRESS overrides, like curl --resolve", kind="resolve")
    allow_networks: tuple[str, ...] = _opt((), "CIDR ranges allowed although private or loopback (e.g. 127.0.0.0/8 for tests)", kind="cidr")


@dataclass(frozen=True, slots=True)
class WarcConfig:
    prefix: str = _opt("citecrawl", "file name prefix: {prefix}-{timestamp}-{serial}-{host}.warc.gz", kind="filename")
    gzip_level: int = _opt(6, "zlib level per record, 0 = uncompressed .warc (warcio's fixed 9 is ~2x slower for <2 % size)", min=0, max=9)
    rollover_bytes: int = _opt(1_000_000_000, "start a new file past this size (IIPC: 1 GB)", min=1_000_000)
    digest: str = _opt("sha1", "digest algorithm for WARC-Block-Digest and WARC-Payload-Digest", choices=("sha1", "sha256"))


@dataclass(frozen=True, slots=True)
class ExtractConfig:
    max_decompressed_bytes: int = _opt(20_000_000, "cap on a body after content decoding, against decompression bombs", min=1)
    min_article_chars: int = _opt(200, "below this much body text (a CJK character counts three) a page is 'not an article'", min=0)
    workers: int = _opt(0, "processes that extract and judge pages beside the crawl (0 = one per CPU; 1 = a thread of the crawling process)", min=0, max=64)


@dataclass(frozen=True, slots=True)
class CompareConfig:
    unchanged: float = _opt(0.97, "stored-text recall at or above this is 'unchanged'", min=0.0, max=1.0)
    minor: float = _opt(0.85, "recall at or above this (and below unchanged) is 'minor changes'", min=0.0, max=1.0)
    major: float = _opt(0.40, "recall at or above this is 'major changes'; below it, 'different page'", min=0.0, max=1.0)
    title_similarity: float = _opt(0.80, "title similarity below this is reported as a changed title", min=0.0, max=1.0)
    image_size_tolerance: float = _opt(0.02, "relative difference in width or height still counted as the same image", min=0.0, max=1.0)


@dataclass(frozen=True, slots=True)
class RecrawlConfig:
    article: str = _opt("7d", "recheck article pages (originalUrl, webUrl, related) this often", kind="duration")
    image: str = _opt("never", "recheck images this often once fetched", kind="duration")
    link: str = _opt("30d", "recheck other links (body.a) this often", kind="duration")
    failure_first: str = _opt("1d", "retry a failed URL after this long", kind="duration")
    failure_max: str = _opt("30d", "the retry interval of a failing URL doubles up to this", kind="duration")


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    max_urls: int = _opt(0, "fetch at most this many URLs per run (0 = no limit)", min=0)
    max_bytes: int = _opt(0, "stop fetching past this many body bytes per run (0 = no limit)", min=0)
    max_minutes: float = _opt(0.0, "stop fetching after this many minutes (0 = no limit)", min=0.0)


@dataclass(frozen=True, slots=True)
class Config:
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    collection: CollectionConfig = field(default_factory=CollectionConfig)
    identity: IdentityConfig = field(default_factory=IdentityConfig)
    politeness: PolitenessConfig = field(default_factory=PolitenessConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    warc: WarcConfig = field(default_factory=WarcConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    compare: CompareConfig = field(default_factory=CompareConfig)
    recrawl: RecrawlConfig = field(default_factory=RecrawlConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    source: str = field(default="<defaults>", compare=False)

    @property
    def user_agent(self) -> str:
        """The User-Agent header with version and contact filled in."""
        return self.identity.user_agent.replace("{version}", __version__).replace("{contact}", self.identity.contact)

    def resolve_overrides(self) -> dict[tuple[str, int], str]:
        """``resolve`` entries as ``{(host, port): address}``."""
        return {(h, p): a for h, p, a in map(parse_resolve, self.network.resolve)}

    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(c, strict=False) for c in self.network.allow_networks)

    def to_dict(self, *, redact: bool = True) -> dict[str, Any]:
        """Plain data for warcinfo and ``--json``; proxy credentials are redacted."""
        data: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "source":
                continue
            section = getattr(self, f.name)
            data[f.name] = {k.name: _plain(getattr(section, k.name)) for k in dataclasses.fields(section)}
        if redact and data["network"]["proxy"]:
            data["network"]["proxy"] = redact_url(data["network"]["proxy"])
        return data

    def with_overrides(self, **sections: Mapping[str, Any]) -> Config:
        """A copy with ``{section: {key: value}}`` replaced, validated like a file (source ``command line``)."""
        merged = self.to_dict(redact=False)
        for name, values in sections.items():
            merged[name].update({k: v for k, v in values.items() if v is not None})
        return _build(merged, source="command line", base_dir=Path.cwd(), keep_source=self.source)


def redact_url(url: str) -> str:
    """``http://user:secret@proxy:3128`` → ``http://***@proxy:3128``.

    >>> redact_url("http://u:p@proxy.example:3128")
    'http://***@proxy.example:3128'
    >>> redact_url("http://proxy.example:3128")
    'http://proxy.example:3128'
    """
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    return f"{scheme}://***@{rest.split('@', 1)[1]}"


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# -- loading ---------------------------------------------------------------------------------------


def default_config_path() -> Path | None:
    """``config/citecrawl.toml`` of a source checkout, if this package runs from one."""
    candidate = Path(__file__).resolve().parent.parent / "config" / "citecrawl.toml"
    return candidate if candidate.is_file() else None


def load_config(path: str | Path | None = None) -> Config:
    """Load and validate a configuration file; ``None`` loads the checkout's default file or the built-in defaults."""
    if path is None:
        found = default_config_path()
        if found is None:
            return Config()
        path = found
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read configuration: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: configuration is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return _build(data, source=str(p), base_dir=p.resolve().parent)


def _build(data: Mapping[str, Any], *, source: str, base_dir: Path, keep_source: str | None = None) -> Config:
    sections: dict[str, Any] = {}
    section_types = {f.name: f.type for f in dataclasses.fields(Config) if f.name != "source"}
    hints = typing.get_type_hints(Config)
    for name, value in data.items():
        if name not in section_types:
            allowed = ", ".join(sorted(section_types))
            raise ConfigError(f"{source}: unknown section [{name}]; sections are: {allowed}")
        if not isinstance(value, Mapping):
            raise ConfigError(f"{source}: [{name}] must be a table of settings")
        sections[name] = _build_section(hints[name], name, value, source=source, base_dir=base_dir)
    config = Config(**sections, source=keep_source or source)
    _check_cross(config, source)
    return config


def _build_section(cls: type, section: str, values: Mapping[str, Any], *, source: str, base_dir: Path) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        where = f"{source}: {section}.{key}"
        if key not in fields:
            allowed = ", ".join(sorted(fields))
            raise ConfigError(f"{source}: unknown setting {section}.{key}; [{section}] takes: {allowed}")
        kwargs[key] = _check_value(where, hints[key], fields[key].metadata, value, base_dir)
    return cls(**kwargs)


def _check_value(where: str, tp: Any, meta: Mapping[str, Any], value: Any, base_dir: Path) -> Any:
    origin = typing.get_origin(tp)
    if origin is tuple or isinstance(tp, types.GenericAlias):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where} must be a list of strings, not {value!r}")
        value = tuple(value)
    elif tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be true or false, not {value!r}")
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an integer, not {value!r}")
    elif tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where} must be a number, not {value!r}")
        value = float(value)
    elif tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, not {value!r}")
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and value < lo:
        raise ConfigError(f"{where} must be at least {lo}, not {value!r}")
    if hi is not None and value > hi:
        raise ConfigError(f"{where} must be at most {hi}, not {value!r}")
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where} must be one of {', '.join(map(repr, choices))}; not {value!r}")
    kind = meta.get("kind")
    try:
        if kind == "duration":
            parse_duration(value)
        elif kind == "resolve":
            for v in value:
                parse_resolve(v)
        elif kind == "cidr":
            for v in value:
                ipaddress.ip_network(v, strict=False)
        elif kind == "filename" and not _FILENAME.match(value):
            raise ValueError(f"{value!r} must be a plain file name part (letters, digits, '.', '_', '-'; "
                             "starting with a letter or digit; at most 100): no '/', '..' or spaces, "
                             "so WARC files stay inside the collection folder")
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if kind == "path" and value:
        value = str(_anchor(value, base_dir))
    elif kind == "paths":
        value = tuple(v if "://" in v else str(_anchor(v, base_dir)) for v in value)
    return value


def _anchor(value: str, base_dir: Path) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else Path(os.path.normpath(base_dir / p))


def _check_cross(config: Config, source: str) -> None:
    c = config.compare
    if not (c.major <= c.minor <= c.unchanged):
        raise ConfigError(f"{source}: compare thresholds must satisfy major <= minor <= unchanged "
                          f"(got {c.major}, {c.minor}, {c.unchanged})")
    r = config.recrawl
    if parse_duration(r.failure_first) > parse_duration(r.failure_max):
        raise ConfigError(f"{source}: recrawl.failure_first must not be longer than recrawl.failure_max")
    if config.politeness.per_host > config.politeness.concurrency:
        raise ConfigError(f"{source}: politeness.per_host ({config.politeness.per_host}) must not exceed "
                          f"politeness.concurrency ({config.politeness.concurrency})")


def iter_settings(config: Config) -> typing.Iterator[tuple[str, str, Any, str]]:
    """``(section, key, value, help)`` for every setting: the source of the commented default file."""
    for sf in dataclasses.fields(config):
        if sf.name == "source":
            continue
        section = getattr(config, sf.name)
        for f in dataclasses.fields(section):
            yield sf.name, f.name, getattr(section, f.name), f.metadata["help"]
