"""A raw HTTP/1.1 origin on 127.0.0.1, port 0, for integration tests: exact bytes in and out.

Routes map a path to a handler that returns the full response bytes, or an
async iterator of byte pieces (sent as they come, for dribbling bodies). Every
request head is recorded byte for byte in ``requests``; ``connections`` counts
accepted connections (the address guard must keep it at 0).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import trio

Reply = bytes | AsyncIterator[bytes]
Route = Callable[[bytes], Reply | Awaitable[Reply]]


class Origin:
    def __init__(self, routes: dict[str, Route], *, ssl_context: ssl.SSLContext | None = None) -> None:
        self.routes = routes
        self.ssl_context = ssl_context
        self.requests: list[bytes] = []
        self.connections = 0
        self.port = 0

    async def start(self, nursery: trio.Nursery) -> Origin:
        if self.ssl_context is not None:
            listeners: list[Any] = await nursery.start(
                trio.serve_ssl_over_tcp, self._serve, 0, self.ssl_context)  # type: ignore[arg-type]
            sock = listeners[0].transport_listener.socket
        else:
            listeners = await nursery.start(trio.serve_tcp, self._serve, 0)  # type: ignore[arg-type]
            sock = listeners[0].socket
        self.port = sock.getsockname()[1]
        return self

    async def _serve(self, stream: trio.abc.Stream) -> None:
        self.connections += 1
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = await stream.receive_some(65536)
                    if not data:
                        return
                    buf += data
                head, _, buf = buf.partition(b"\r\n\r\n")
                head += b"\r\n\r\n"
                self.requests.append(head)
                path = head.split(b" ", 2)[1].split(b"?", 1)[0].decode()
                route = self.routes.get(path)
                reply: Any = route(head) if route else b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                if hasattr(reply, "__await__"):
                    reply = await reply
                if isinstance(reply, bytes):
                    await stream.send_all(reply)
                    if b"Connection: close" in reply.split(b"\r\n\r\n", 1)[0]:
                        return
                else:
                    async with contextlib.aclosing(reply) as pieces:
                        async for piece in pieces:
                            await stream.send_all(piece)
                    return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            await trio.aclose_forcefully(stream)


def response(status: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None,
             *, chunked: bool = False) -> bytes:
    """``HTTP/1.1 {status}`` with the headers as given (case and order) and the body."""
    lines = [f"HTTP/1.1 {status}"] + [f"{k}: {v}" for k, v in headers or []]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        size = 1000
        pieces = [body[i:i + size] for i in range(0, len(body), size)]
        payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
