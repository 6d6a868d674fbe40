"""A loopback origin for end-to-end tests: many virtual hosts on one port, exact bytes.

Routes are keyed by ``(host, path)``; the Host header picks the virtual host, so
tests point several hostnames at 127.0.0.1 with ``resolve`` overrides. The
server runs in threads (it must answer while trio's loop is busy), writes an
access log (time, host, path, headers) that tests read to prove politeness and
conditional requests, and can delay a response to trip the client's deadline.
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["LogLine", "Origin", "Route", "png_bytes", "serve_origin"]


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0          # seconds before the head is sent
    gzip: bool = False          # Content-Encoding: gzip
    etag: str | None = None     # answer If-None-Match with 304


@dataclass(frozen=True)
class LogLine:
    at: float
    host: str
    path: str
    headers: dict[str, str]
    status: int


class Origin:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.log: list[LogLine] = []
        self.port = 0
        self._lock = threading.Lock()

    def add(self, host: str, path: str, route: Route) -> None:
        self.routes[(host, path)] = route

    def html(self, host: str, path: str, html: str | bytes, *, content_type: str = "text/html; charset=utf-8",
             **kw: object) -> None:
        body = html.encode("utf-8") if isinstance(html, str) else html
        self.add(host, path, Route(body=body, headers=[("Content-Type", content_type)], **kw))  # type: ignore[arg-type]

    def redirect(self, host: str, path: str, location: str, status: int = 301) -> None:
        self.add(host, path, Route(status=status, headers=[("Location", location)]))

    def requests_to(self, host: str, path: str | None = None) -> list[LogLine]:
        with self._lock:
            return [x for x in self.log if x.host == host and (path is None or x.path == path)]

    def _record(self, line: LogLine) -> None:
        with self._lock:
            self.log.append(line)


def _handler(origin: Origin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            route = origin.routes.get((host, self.path))
            headers = {k: v for k, v in self.headers.items()}
            if route is None:
                route = Route(status=404, body=b"<html><body><h1>Not found</h1></body></html>",
                              headers=[("Content-Type", "text/html")])
            if route.delay:
                time.sleep(route.delay)
            status, body, extra = route.status, route.body, list(route.headers)
            if route.etag:
                extra.append(("ETag", route.etag))
                if self.headers.get("If-None-Match") == route.etag:
                    status, body = 304, b""
            if route.gzip and body:
                body = gzip.compress(body, mtime=0)
                extra.append(("Content-Encoding", "gzip"))
            origin._record(LogLine(time.monotonic(), host, self.path, headers, status))
            try:
                self.send_response(status)
                for k, v in extra:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


@contextmanager
def serve_origin(origin: Origin | None = None) -> Iterator[Origin]:
    """Serve ``origin`` on 127.0.0.1 on a free port for the duration of the block."""
    origin = origin or Origin()

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        address_family = socket.AF_INET

    server = Server(("127.0.0.1", 0), _handler(origin))
    origin.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()


def png_bytes(width: int, height: int) -> bytes:
    """A valid, tiny grey PNG of the given size (the header carries the size; the data is one row repeated)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
