"""The clients' TLS context made in a thread while a run starts (crawler.tls), and only when needed."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest
import trustme

from crawler import tls
from crawler.clients import ClientFactory
from crawler.config import Config


def bundle_of(tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def test_a_prepared_context_trusts_the_bundle_and_is_taken_once(tmp_path: Path) -> None:
    bundle = bundle_of(tmp_path)
    tls.prepare(bundle)
    first = tls.client_context(bundle)
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
    assert first.cert_store_stats()["x509_ca"] == 1      # the bundle's CA, not the system's
    second = tls.client_context(bundle)                   # taken: the next call makes its own
    assert second is not first and second.cert_store_stats()["x509_ca"] == 1


def test_what_making_it_raised_is_raised_to_whoever_takes_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such.pem")
    tls.prepare(missing)
    with pytest.raises(FileNotFoundError):
        tls.client_context(missing)


def test_without_prepare_a_context_is_made_on_the_spot(tmp_path: Path) -> None:
    assert tls.client_context(bundle_of(tmp_path)).cert_store_stats()["x509_ca"] == 1


def test_a_replayed_run_makes_no_context() -> None:
    factory = ClientFactory(Config(), transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    factory.new_client(connections=1)
    assert "ssl_context" not in vars(factory)
    factory.ssl_context                                   # noqa: B018 (asked for: made then)
    assert "ssl_context" in vars(factory)
