from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from crawler.config import Config, iter_settings, load_config, parse_duration, parse_resolve, redact_url
from crawler.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILE = REPO / "config" / "citecrawl.toml"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_default_file_mirrors_builtin_defaults() -> None:
    """Every setting is in the commented file, with the built-in default (paths aside)."""
    from_file = dict(((s, k), v) for s, k, v, _ in iter_settings(load_config(DEFAULT_FILE)))
    builtin = dict(((s, k), v) for s, k, v, _ in iter_settings(Config()))
    assert from_file.keys() == builtin.keys()
    differ = {key for key in builtin if from_file[key] != builtin[key]}
    assert differ == {("corpus", "paths"), ("collection", "out")}


def test_default_file_has_a_comment_for_every_setting() -> None:
    text = DEFAULT_FILE.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(text):
        if "=" in line and not line.startswith("#"):
            assert text[i - 1].startswith("#"), f"no comment above {line!r}"


def test_relative_paths_resolve_against_the_file(tmp_path: Path) -> None:
    c = load_config(write(tmp_path, '[corpus]\npaths = ["docs", "https://example.com/a"]\n[collection]\nout = "../out"\n'))
    assert c.corpus.paths == (str(tmp_path / "docs"), "https://example.com/a")
    assert c.collection.out == str(tmp_path.parent / "out")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[politness]\ndelay = 1\n", "unknown section [politness]"),
        ("[politeness]\ndelai = 1\n", "unknown setting politeness.delai; [politeness] takes: "),
        ('[politeness]\ndelay = "1s"\n', "politeness.delay must be a number, not '1s'"),
        ("[politeness]\nconcurrency = 0\n", "politeness.concurrency must be at least 1, not 0"),
        ("[politeness]\nrobots = 1\n", "politeness.robots must be true or false"),
        ("[politeness]\nconcurrency = 1.5\n", "politeness.concurrency must be an integer"),
        ('[warc]\ndigest = "md5"\n', "warc.digest must be one of 'sha1', 'sha256'; not 'md5'"),
        ('[recrawl]\narticle = "weekly"\n', "recrawl.article: not a duration: 'weekly'"),
        ('[network]\nresolve = ["example.com:443"]\n', "network.resolve: not HOST:PORT:ADDRESS"),
        ('[network]\nallow_networks = ["10.0.0.0/33"]\n', "network.allow_networks:"),
        ('[network]\nresolve = "a:1:127.0.0.1"\n', "network.resolve must be a list of strings"),
        ("[compare]\nminor = 0.99\n", "major <= minor <= unchanged"),
        ("[politeness]\nper_host = 4\nconcurrency = 2\n", "must not exceed politeness.concurrency"),
        ("politeness = 3\n", "[politeness] must be a table"),
        ("[politeness\n", "not valid TOML"),
    ],
)
def test_bad_settings_give_one_clear_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config(tmp_path / "missing.toml")
    p = tmp_path / "latin.toml"
    p.write_bytes(b'[identity]\noperator = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(p)


def test_overrides_are_validated_and_keep_the_rest() -> None:
    c = Config().with_overrides(politeness={"delay": 0, "concurrency": None})
    assert c.politeness.delay == 0.0 and c.politeness.concurrency == 16
    with pytest.raises(ConfigError, match=r"politeness\.delay must be at least 0\.0"):
        Config().with_overrides(politeness={"delay": -1})


def test_helpers() -> None:
    assert parse_duration("15m") == 900.0 and math.isinf(parse_duration("never"))
    assert parse_resolve("Example.COM:8443:[::1]") == ("example.com", 8443, "::1")
    with pytest.raises(ValueError):
        parse_resolve("example.com:443:not-an-ip")
    assert redact_url("https://user:pw@proxy:1/") == "https://***@proxy:1/"
    c = Config().with_overrides(network={"proxy": "http://u:secret@proxy:3128"})
    assert "secret" not in repr(c.to_dict()) and c.network.proxy.endswith("secret@proxy:3128")


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().politeness.delay = 3  # type: ignore[misc]
