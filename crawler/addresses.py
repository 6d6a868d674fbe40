"""The address guard: which IP addresses we connect to, checked where we connect.

By default a crawl connects only to public unicast addresses: loopback,
private, link-local, multicast, reserved and unspecified addresses (IPv4, IPv6
and IPv4-mapped IPv6) are refused unless inside an allowed network
(``network.allow_networks``). The check runs on the address actually connected
to, inside httpcore's connection step (:class:`GuardedBackend`), so a name that
resolves to 10.0.0.1 — or rebinds to it between two lookups — is refused too.
``network.resolve`` overrides (like curl's ``--resolve``) are applied in the same
place, so they are guarded as well; TLS is still verified against the host name
(httpcore calls ``start_tls(server_hostname=host)`` on the stream we return).

A refusal raises :class:`AddressRefused` and a failed lookup :class:`NameNotResolved`;
neither is an httpcore error, so they pass through httpx unchanged and
:mod:`crawler.fetch` turns them into the outcomes ``address_refused`` and ``dns``.
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
import typing
from collections.abc import Iterable, Mapping

import httpcore
import trio
from httpcore._backends.base import SOCKET_OPTION
from httpcore._backends.trio import TrioBackend, TrioStream

__all__ = ["AddressRefused", "GuardedBackend", "NameNotResolved", "Network", "literal_ip", "refusal"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(Exception):
    """Every address of the host is one we may not connect to."""

    def __init__(self, host: str, reasons: list[str]) -> None:
        super().__init__(f"{host}: refused to connect: {'; '.join(reasons)}")
        self.host = host


class NameNotResolved(Exception):
    """The host name did not resolve to any address."""

    def __init__(self, host: str, detail: str) -> None:
        super().__init__(f"{host}: name not resolved: {detail}")
        self.host = host


def refusal(address: str | Address, allowed: Iterable[Network] = ()) -> str | None:
    """Why we may not connect to ``address`` (``None``: we may).

    >>> refusal("93.184.215.14") is None
    True
    >>> refusal("127.0.0.1")
    '127.0.0.1 is loopback'
    >>> refusal("127.0.0.1", [ipaddress.ip_network("127.0.0.0/8")]) is None
    True
    >>> refusal("::ffff:10.1.2.3")
    '::ffff:10.1.2.3 is private'
    >>> refusal("169.254.169.254")
    '169.254.169.254 is link-local'
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    nets = tuple(allowed)
    if any(ip.version == n.version and ip in n for n in nets):
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4 inside IPv6: mapped (::ffff:a.b.c.d) and 6to4 (2002:AABB:CCDD::) are judged by the IPv4 in them
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            if any(embedded.version == n.version and embedded in n for n in nets):
                return None
            inner = refusal(embedded, nets)
            if inner is not None:
                why = inner.split(" is ", 1)[1]
                return f"{address} is {why}" if ip.ipv4_mapped else f"{address} is {why} (IPv4 {embedded} inside)"
            if ip.ipv4_mapped:
                return None
    check: Address = ip
    for kind, flag in (
        ("unspecified", check.is_unspecified),
        ("loopback", check.is_loopback),
        ("link-local", check.is_link_local),
        ("multicast", check.is_multicast),
        ("reserved", check.is_reserved),
        ("private", check.is_private),
    ):
        if flag:
            return f"{address} is {kind}"
    if not check.is_global:
        return f"{address} is not a public address"
    return None


_INET_ATON = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)


def literal_ip(host: str) -> Address | None:
    """The IP address ``host`` spells, in any form a resolver takes as a literal; ``None`` for a name.

    Besides the canonical forms, ``inet_aton`` (and so getaddrinfo, curl and browsers) reads
    decimal, octal and hexadecimal parts and fewer than four of them, and a trailing dot is
    ignored: the guard must see these as the addresses they are.

    >>> [str(literal_ip(h)) for h in ("2130706433", "0x7f.1", "0177.0.0.1", "127.1", "127.0.0.1.", "[::1]")]
    ['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1', '::1']
    >>> literal_ip("example.com") is None
    True
    """
    name = host.strip("[]").split("%", 1)[0]
    if name.endswith(".") and not name.endswith(".."):
        name = name[:-1]
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if _INET_ATON.match(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


class GuardedBackend(TrioBackend):
    """httpcore's trio backend with our own name resolution, ``resolve`` overrides and the guard.

    ``trusted`` endpoints (the configured proxy) skip the guard: the operator
    named them. Every other connection goes to an address that passed
    :func:`refusal`; addresses are tried in resolver order.
    """

    def __init__(
        self,
        *,
        allowed: Iterable[Network] = (),
        overrides: Mapping[tuple[str, int], str] | None = None,
        trusted: Iterable[tuple[str, int]] = (),
    ) -> None:
        self.allowed = tuple(allowed)
        self.overrides = dict(overrides or {})
        self.trusted = frozenset((h.lower(), p) for h, p in trusted)

    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses for ``host``: an override, a literal, or getaddrinfo's answer."""
        name = host.lower().strip("[]")
        override = self.overrides.get((name, port))
        if override is not None:
            return [override]
        literal = literal_ip(name)
        if literal is not None:
            return [str(literal)]
        try:
            infos = await trio.socket.getaddrinfo(name, port, type=trio.socket.SOCK_STREAM)
        except (trio.socket.gaierror, UnicodeError) as exc:
            raise NameNotResolved(host, str(exc)) from None
        seen: dict[str, None] = {}
        for *_, sockaddr in infos:
            seen.setdefault(str(sockaddr[0]).split("%", 1)[0], None)
        if not seen:
            raise NameNotResolved(host, "no addresses")
        return list(seen)

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: typing.Iterable[SOCKET_OPTION] | None = None,
    ) -> TrioStream:
        with trio.move_on_after(math.inf if timeout is None else timeout) as scope:
            addresses = await self.resolve(host, port)
            if (host.lower(), port) in self.trusted:
                candidates = addresses
            else:
                reasons = [r for r in (refusal(a, self.allowed) for a in addresses) if r]
                candidates = [a for a in addresses if refusal(a, self.allowed) is None]
                if not candidates:
                    raise AddressRefused(host, reasons)
            last: Exception | None = None
            for address in candidates:
                try:
                    stream = await super().connect_tcp(
                        address, port, timeout=None, local_address=local_address, socket_options=socket_options)
                except httpcore.ConnectError as exc:
                    last = exc
                    continue
                assert isinstance(stream, TrioStream)
                return stream
            assert last is not None
            raise last
        assert scope.cancelled_caught
        raise httpcore.ConnectTimeout(f"{host}:{port}: no connection within {timeout} s")
