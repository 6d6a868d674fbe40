"""The httpx clients a crawl uses: one per host, each with its own small pool and cookie jar.

Why one per host: httpcore's pool scans its connections under one lock on
every request, so one shared client with hundreds of connections spends its CPU
there (the notes measured 261 pages/s shared against 848 per host with 100
tasks; ``scripts/bench_fetch.py --shared-client`` measures it here). Per-host
clients also give each host its own cookie jar, so no cookie crosses hosts,
while a redirect chain that sets a cookie and comes back still works.

Every client: HTTP/1.1 unless ``network.http2``, an explicit ``Accept-Encoding``
and ``User-Agent``, ``trust_env`` from the configuration, the CA bundle, the
proxy, no automatic redirects, and (on the real network) the address guard of
:mod:`crawler.addresses` inside its connection pool.
"""

from __future__ import annotations

import functools
import os
import ssl
from types import TracebackType

import httpcore
import httpx

from crawler.addresses import GuardedBackend
from crawler.config import Config
from crawler.tls import client_context

__all__ = ["ClientFactory", "GuardedTransport", "SetCookieJar", "SharedTransport"]


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose httpcore pool connects through a :class:`GuardedBackend`.

    httpx does not take a network backend, so this builds the httpcore pool
    itself (the same arguments httpx passes) and keeps httpx's request/response
    mapping and error translation, which live in ``handle_async_request``.
    """

    def __init__(
        self,
        *,
        backend: GuardedBackend,
        ssl_context: ssl.SSLContext,
        limits: httpx.Limits,
        http2: bool = False,
        proxy: str | None = None,
    ) -> None:
        common = {
            "ssl_context": ssl_context,
            "max_connections": limits.max_connections,
            "max_keepalive_connections": limits.max_keepalive_connections,
            "keepalive_expiry": limits.keepalive_expiry,
            "http1": True,
            "http2": http2,
            "network_backend": backend,
        }
        pool: httpcore.AsyncConnectionPool
        if proxy:
            p = httpx.Proxy(url=proxy)
            pool = httpcore.AsyncHTTPProxy(
                proxy_url=httpcore.URL(scheme=p.url.raw_scheme, host=p.url.raw_host, port=p.url.port,
                                       target=p.url.raw_path),
                proxy_auth=p.raw_auth, proxy_headers=p.headers.raw, proxy_ssl_context=p.ssl_context,
                **common,  # type: ignore[arg-type]
            )
        else:
            pool = httpcore.AsyncConnectionPool(**common)  # type: ignore[arg-type]
        self._pool = pool


class SharedTransport(httpx.AsyncBaseTransport):
    """A transport given to the crawler (a mock, a WARC replay) shared by the per-host clients.

    Closing a per-host client must not close it: its owner does.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def __aexit__(self, exc_type: type[BaseException] | None = None,
                        exc_value: BaseException | None = None, traceback: TracebackType | None = None) -> None:
        return None

    async def aclose(self) -> None:
        return None


class ClientFactory:
    """Builds the clients of one crawl from its configuration (one SSL context for all)."""

    def __init__(self, config: Config, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        net = config.network
        self.config = config
        self.transport = transport
        self.proxy = net.proxy or (_env_proxy() if net.trust_env else None)
        trusted: list[tuple[str, int]] = []
        if self.proxy:
            u = httpx.URL(self.proxy)
            trusted.append((u.host, u.port or (443 if u.scheme == "https" else 80)))
        self.backend = GuardedBackend(allowed=config.allowed_networks(), overrides=config.resolve_overrides(),
                                      trusted=trusted)
        self.timeout = httpx.Timeout(net.read_timeout, connect=net.connect_timeout, pool=net.fetch_deadline)
        self.headers = {"User-Agent": config.user_agent, "Accept-Encoding": net.accept_encoding}

    @functools.cached_property
    def ssl_context(self) -> ssl.SSLContext:
        """Made when the first client to the network is (a replayed run needs none): the one
        :func:`crawler.tls.prepare` started, if the run did."""
        return client_context(self.config.network.ca_bundle)

    def new_client(self, *, connections: int) -> httpx.AsyncClient:
        """A client for one host with at most ``connections`` open connections."""
        net = self.config.network
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections,
                              keepalive_expiry=30.0)
        transport: httpx.AsyncBaseTransport
        if self.transport is not None:
            transport = SharedTransport(self.transport)
        else:
            transport = GuardedTransport(backend=self.backend, ssl_context=self.ssl_context, limits=limits,
                                         http2=net.http2, proxy=self.proxy)
        client = httpx.AsyncClient(
            transport=transport,
            headers=self.headers,
            timeout=self.timeout,
            follow_redirects=False,
            trust_env=net.trust_env,
        )
        # httpx takes no jar class, and its ``cookies`` setter copies into a plain jar
        client._cookies = SetCookieJar()
        return client


class SetCookieJar(httpx.Cookies):
    """A client's cookie jar that reads only the responses that set a cookie.

    httpx hands every response to the jar, which first builds urllib stand-ins of the
    request and the response (about 34 us each time) to look for ``Set-Cookie``; few
    responses of a crawl set one. What is kept and sent back is unchanged.
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            super().extract_cookies(response)


def _env_proxy() -> str | None:
    """The first of ``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY`` (only with ``trust_env``; no NO_PROXY)."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        value = os.environ.get(name)
        if value:
            return value
    return None
