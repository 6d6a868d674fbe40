"""A hostile HTTP origin on 127.0.0.1: raw sockets, every byte and every pause chosen by the test.

Where :mod:`tests.loopback` serves well-formed replies inside the test's own trio
loop, this origin runs in a thread of its own (so the whole ``citecrawl archive``
command, with its own ``trio.run``, can be pointed at it) and answers with a
*script*: a sequence of actions run in order on the connection:

* ``bytes``: sent as they are (a status line cut in half, a lying Content-Length, …);
* a number: sleep that many seconds (one byte per second is ``[b"H", 1.0, b"T", …]``);
* :data:`RESET`: close with ``SO_LINGER`` 0, so the client reads a TCP reset;
* :data:`CLOSE`: close normally (FIN) at this point;
* :data:`HANG`: send nothing more and keep the connection open until the client gives up.

After a script that neither closes nor hangs, the connection stays open for the next
request (keep-alive), so bytes a script sent beyond its Content-Length are still
waiting there for the next request — as on a real server. Routes are keyed by
``(host, path)`` (the Host header, port removed) with ``(None, path)`` as the fallback;
unknown paths get an empty 404. Plain HTTP listens on :attr:`HostileOrigin.port`;
every TLS context given to :func:`serve_hostile` gets a port of its own in
:attr:`HostileOrigin.tls_ports`. Every request is logged (host, path, head).
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import trio

__all__ = ["CLOSE", "HANG", "RESET", "Hit", "HostileOrigin", "Script", "head", "serve_hostile"]


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


RESET = _Marker("RESET")
CLOSE = _Marker("CLOSE")
HANG = _Marker("HANG")

Action = bytes | float | int | _Marker
Script = Callable[[bytes], Iterable[Action]]

#: a request head larger than this is answered with nothing and the connection closed
_MAX_HEAD = 1 << 20


@dataclass(frozen=True, slots=True)
class Hit:
    host: str
    path: str
    head: bytes
    port: int


@dataclass
class HostileOrigin:
    routes: dict[tuple[str | None, str], Script] = field(default_factory=dict)
    port: int = 0
    tls_ports: dict[str, int] = field(default_factory=dict)
    log: list[Hit] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def route(self, path: str, script: Script | Iterable[Action], *, host: str | None = None) -> None:
        """Answer ``path`` (on ``host``, or any host) with ``script`` (a function of the request head, or a fixed list)."""
        if callable(script):
            self.routes[(host, path)] = script
        else:
            actions = list(script)
            self.routes[(host, path)] = lambda _head: actions

    def hits(self, host: str | None = None, path: str | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.log if (host is None or h.host == host) and (path is None or h.path == path)]

    async def _serve(self, port: int, stream: trio.abc.Stream) -> None:
        """One connection; never raises (an exception here would end the whole server)."""
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = await stream.receive_some(65536)
                    if not data or len(buf) > _MAX_HEAD:
                        return
                    buf += data
                raw, _, buf = buf.partition(b"\r\n\r\n")
                request = raw + b"\r\n\r\n"
                host, path = _host_and_path(request)
                with self._lock:
                    self.log.append(Hit(host, path, request, port))
                script = self.routes.get((host, path)) or self.routes.get((None, path)) or _not_found
                if not await _play(stream, script(request)):
                    return
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, ssl.SSLError):
            return
        finally:
            with trio.CancelScope(shield=True):
                await trio.aclose_forcefully(stream)


def _not_found(_head: bytes) -> list[Action]:
    return [b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"]


def _host_and_path(request: bytes) -> tuple[str, str]:
    lines = request.split(b"\r\n")
    parts = lines[0].split(b" ")
    path = parts[1].split(b"?", 1)[0].decode("latin-1") if len(parts) > 1 else ""
    host = ""
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"host":
            host = value.strip().decode("latin-1").lower()
            host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return host, path


def _socket_of(stream: trio.abc.Stream) -> Any:
    inner: Any = stream
    if isinstance(inner, trio.SSLStream):
        inner = inner.transport_stream
    return getattr(inner, "socket", None)


async def _play(stream: trio.abc.Stream, actions: Iterable[Action]) -> bool:
    """Run a script; ``True`` if the connection stays open for another request."""
    for action in actions:
        if isinstance(action, bytes):
            await stream.send_all(action)
        elif isinstance(action, int | float):
            await trio.sleep(action)
        elif action is RESET:
            sock = _socket_of(stream)
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        elif action is CLOSE:
            return False
        elif action is HANG:
            while await stream.receive_some(65536):   # until the client hangs up
                pass
            return False
    return True


def head(status: str, headers: Iterable[tuple[str, str]] = (), *, length: int | None = None) -> bytes:
    """A response head: ``HTTP/1.1 {status}``, the headers as given, and ``Content-Length`` if ``length``."""
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers)]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@contextmanager
def serve_hostile(origin: HostileOrigin | None = None, *,
                  tls: Mapping[str, ssl.SSLContext] | None = None) -> Iterator[HostileOrigin]:
    """Serve ``origin`` in a thread (its own trio loop) on 127.0.0.1 for the duration of the block."""
    origin = origin or HostileOrigin()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def main() -> None:
        try:
            async with trio.open_nursery() as nursery:
                state["token"] = trio.lowlevel.current_trio_token()
                state["scope"] = nursery.cancel_scope
                listeners: Any = await nursery.start(partial(trio.serve_tcp, host="127.0.0.1"),
                                                     lambda s: origin._serve(origin.port, s), 0)
                origin.port = listeners[0].socket.getsockname()[1]
                for name, ctx in (tls or {}).items():
                    ls: Any = await nursery.start(partial(trio.serve_ssl_over_tcp, host="127.0.0.1"),
                                                  _tls_handler(origin, name), 0, ctx)
                    origin.tls_ports[name] = ls[0].transport_listener.socket.getsockname()[1]
                ready.set()
        except BaseException as exc:
            state["error"] = exc
            ready.set()

    thread = threading.Thread(target=trio.run, args=(main,), daemon=True, name="hostile-origin")
    thread.start()
    if not ready.wait(10) or "error" in state:
        raise RuntimeError(f"hostile origin did not start: {state.get('error')!r}")
    try:
        yield origin
    finally:
        trio.from_thread.run_sync(state["scope"].cancel, trio_token=state["token"])
        thread.join(10)


def _tls_handler(origin: HostileOrigin, name: str) -> Callable[[trio.abc.Stream], Any]:
    async def handler(stream: trio.abc.Stream) -> None:
        await origin._serve(origin.tls_ports.get(name, 0), stream)
    return handler
