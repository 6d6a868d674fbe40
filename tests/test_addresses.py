"""The address guard's decisions (pure) and its name resolution (overrides, literals)."""

from __future__ import annotations

import doctest
import ipaddress

import pytest

import crawler.addresses
from crawler.addresses import GuardedBackend, refusal


def test_doctests() -> None:
    assert doctest.testmod(crawler.addresses).failed == 0


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"), ("127.9.9.9", "loopback"), ("::1", "loopback"),
        ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"), ("fd00::1", "private"),
        ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"), ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::ffff:127.0.0.1", "loopback"), ("::ffff:192.168.0.1", "private"),
        ("100.64.0.1", "not a public address"),        # carrier-grade NAT
    ],
)
def test_refused(address: str, kind: str) -> None:
    reason = refusal(address)
    assert reason is not None and kind in reason


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1"])
def test_public_allowed(address: str) -> None:
    assert refusal(address) is None


def test_allow_list_opens_ranges_including_mapped() -> None:
    nets = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.0.0.0/8")]
    assert refusal("127.0.0.5", nets) is None
    assert refusal("::ffff:10.2.3.4", nets) is None
    assert refusal("192.168.0.1", nets) is not None
    assert refusal("::1", nets) is not None         # 127.0.0.0/8 does not open IPv6 loopback


async def test_resolve_override_and_literal() -> None:
    b = GuardedBackend(overrides={("example.com", 443): "10.0.0.7"})
    assert await b.resolve("Example.COM", 443) == ["10.0.0.7"]
    assert await b.resolve("192.0.2.1", 80) == ["192.0.2.1"]
    assert await b.resolve("[::1]", 80) == ["::1"]
