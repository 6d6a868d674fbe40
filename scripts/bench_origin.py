"""The loopback origin of the benchmarks: generated pages on 20 hosts, served by nginx or by Python.

One module for every benchmark script (``scripts/bench``, ``scripts/bench_fetch.py``); nothing
here is imported by the packages. The hosts are 127.0.0.2 … 127.0.0.21 on one port, so each
address is its own politeness unit (the crawler keys politeness on the host name).

Paths, the same on both servers:

* ``/page/<n>.html``: an article page of 60–120 KB (seeded words in a realistic layout:
  navigation, article paragraphs, related links, footer), gzip-encoded when the client accepts
  it; ``n`` picks one of a pool of distinct pages (the last two digits);
* ``/small/<n>.html``: a ~2 KB page (the scale runs: the origin must answer quickly);
* ``/robots.txt``: 404 (allow all);
* ``/huge/<bytes>`` (Python origin only): that many bytes of text generated on the fly, never
  stored anywhere, with a Content-Length;
* ``/__log`` (Python origin only): the access log as JSON, then cleared.

The access log has one ``(host, start, end, path)`` per request, wall-clock seconds: the
politeness audit reads it. nginx writes it itself (``$msec`` is the end, ``$request_time``
gives the start); the Python origin keeps it in memory.

The Python origin is a raw HTTP/1.1 server on asyncio protocols (keep-alive, answers built in
advance, a ``delay`` before each head to stand in for network latency, ~0.1 ms of CPU a
request); nginx is used when it is installed, as a non-daemon child with a generated
configuration, and stopped at the end.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "HOSTS",
    "POOL",
    "free_port",
    "nginx_binary",
    "nginx_origin",
    "page_pool",
    "python_origin",
    "read_log",
    "serve",
    "small_page",
]

HOSTS = [f"127.0.0.{i}" for i in range(2, 22)]
#: distinct article pages; /page/<n>.html serves page n % POOL
POOL = 100
_WORDS_TEXT = ("harbour data centre computing power grid river city council budget research model chip factory "
          "port bridge climate school hospital railway market energy solar wind water farm network satellite "
          "museum archive library election court policy trade export festival storm flood drought university "
          "startup robot vaccine clinic tunnel airport minister company report announced said would")
_WORDS = tuple(_WORDS_TEXT.split())


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 22))).capitalize() + "."


def article_page(rng: random.Random, n: int) -> bytes:
    """One article page of 60–120 KB: chrome around an article, as news sites have it."""
    target = rng.randint(60_000, 120_000)
    title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 9))).capitalize()
    nav = "".join(f'<li><a href="/section/{w}">{w.title()}</a></li>' for w in rng.sample(_WORDS, 12))
    head = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Bench News</title>'
            f'<meta property="og:title" content="{title}">'
            f'<meta property="article:published_time" content="2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T08:00:00Z">'
            '<link rel="stylesheet" href="/static/site.css"><script>window.dataLayer=[];</script></head>'
            f'<body><header class="site-header"><nav><ul>{nav}</ul></nav></header>'
            f'<main><article class="story"><h1>{title}</h1><p class="byline">By Bench Reporter, page {n}</p>')
    tail_links = "".join(f'<li><a href="/page/{rng.randrange(10**6)}.html">{_sentence(rng)}</a></li>'
                         for _ in range(15))
    tail = (f'</article><aside class="related"><h2>Related</h2><ul>{tail_links}</ul></aside></main>'
            '<footer><p>Copyright Bench News. All rights reserved.</p></footer></body></html>')
    parts = [head]
    size = len(head) + len(tail)
    while size < target:
        para = "<p>" + " ".join(_sentence(rng) for _ in range(rng.randint(3, 7))) + "</p>\n"
        if rng.random() < 0.1:
            para += f'<figure><img src="/img/{rng.randrange(10**6)}.jpg" alt=""><figcaption>{_sentence(rng)}</figcaption></figure>\n'
        parts.append(para)
        size += len(para)
    parts.append(tail)
    return "".join(parts).encode("utf-8")


def small_page(n: int) -> bytes:
    """A ~2 KB page (scale runs)."""
    rng = random.Random(n)
    body = "".join(f"<p>{_sentence(rng)} {_sentence(rng)}</p>" for _ in range(8))
    return (f"<!doctype html><html><head><meta charset=utf-8><title>small {n}</title></head>"
            f"<body><article><h1>Small page {n}</h1>{body}</article></body></html>").encode()


def page_pool(seed: int = 8) -> list[bytes]:
    """The POOL distinct article pages (seeded: the same bytes every run)."""
    rng = random.Random(seed)
    return [article_page(rng, n) for n in range(POOL)]


def _pool_index(path: bytes) -> int | None:
    """``/page/123.html`` → 23 (the last two digits), ``None`` for anything else."""
    stem = path.rsplit(b"/", 1)[-1].split(b".", 1)[0]
    return int(stem[-2:]) if stem.isdigit() else None


# -- the Python origin (run in its own process: ``serve``) ---------------------------------------------


def serve(port: int, *, delay: float = 0.0, hosts: list[str] = HOSTS, seed: int = 8) -> None:
    """Serve until killed; print ``ready`` once every host listens.

    asyncio protocols, not trio streams: this process stands in for servers that are elsewhere,
    so the less of the machine's CPU it takes from the crawler, the truer the run. Answers are
    built in advance; a delayed answer is one ``call_later``: ~0.10 ms of CPU a request, where the
    trio server it replaces took 0.19–0.23 ms (1,000 requests on 20 keep-alive connections).
    """
    import asyncio

    pages = page_pool(seed)
    gzipped = [gzip.compress(p, compresslevel=6, mtime=0) for p in pages]
    smalls = [small_page(n) for n in range(POOL)]
    log: list[tuple[str, float, float, str]] = []
    chunk = (b"".join(_sentence(random.Random(i)).encode() + b"\n" for i in range(400)) * 40)[: 1 << 20]

    def head(status: str, length: int, extra: str = "") -> bytes:
        return (f"HTTP/1.1 {status}\r\nContent-Length: {length}\r\n{extra}\r\n").encode()

    html = "Content-Type: text/html; charset=utf-8\r\n"
    not_found = head("404 Not Found", 0)
    answers = {
        (b"page", False): [head("200 OK", len(p), html) + p for p in pages],
        (b"page", True): [head("200 OK", len(p), html + "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n") + p
                          for p in gzipped],
        (b"small", False): [head("200 OK", len(p), html) + p for p in smalls],
    }
    answers[(b"small", True)] = answers[(b"small", False)]

    class Connection(asyncio.Protocol):
        """One keep-alive connection: requests answered in order, one at a time."""

        def __init__(self) -> None:
            self.buf = b""
            self.busy = False           # an answer is delayed or still streaming
            self.paused = False
            self.huge_left = 0
            self.after_huge: tuple[float, str] | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: asyncio.Transport = transport  # type: ignore[assignment]
            self.host = transport.get_extra_info("sockname")[0]

        def data_received(self, data: bytes) -> None:
            self.buf += data
            self.next_request()

        def next_request(self) -> None:
            if self.busy or b"\r\n\r\n" not in self.buf or self.transport.is_closing():
                return
            start = time.time()
            req, _, self.buf = self.buf.partition(b"\r\n\r\n")
            path = req.split(b" ", 2)[1]
            if path == b"/__log":
                body = json.dumps(log).encode()
                log.clear()
                self.transport.write(head("200 OK", len(body), "Connection: close\r\n") + body)
                self.transport.close()
                return
            gz = b"gzip" in req.lower().partition(b"accept-encoding:")[2].split(b"\r\n", 1)[0]
            self.busy = True
            if delay:
                loop.call_later(delay, self.answer, path, gz, start)
            else:
                self.answer(path, gz, start)

        def answer(self, path: bytes, gz: bool, start: float) -> None:
            if self.transport.is_closing():
                return
            kind = path.split(b"/")[1] if path.count(b"/") >= 2 else b""
            idx = _pool_index(path)
            if kind == b"huge" and path.rsplit(b"/", 1)[-1].isdigit():
                self.huge_left = int(path.rsplit(b"/", 1)[-1])
                self.after_huge = (start, path.decode("latin-1"))
                self.transport.write(head("200 OK", self.huge_left, "Content-Type: text/plain\r\n"))
                self.stream_huge()
                return
            pool = answers.get((kind, gz))
            self.transport.write(pool[idx] if pool is not None and idx is not None else not_found)
            self.done(start, path.decode("latin-1"))

        def done(self, start: float, path: str) -> None:
            log.append((self.host, start, time.time(), path))
            self.busy = False
            self.next_request()

        def stream_huge(self) -> None:        # never more than the transport's buffer limit in memory
            while self.huge_left > 0 and not self.paused and not self.transport.is_closing():
                piece = chunk if self.huge_left >= len(chunk) else chunk[: self.huge_left]
                self.transport.write(piece)
                self.huge_left -= len(piece)
            if self.huge_left == 0 and self.after_huge is not None:
                start, path = self.after_huge
                self.after_huge = None
                self.done(start, path)

        def pause_writing(self) -> None:
            self.paused = True

        def resume_writing(self) -> None:
            self.paused = False
            self.stream_huge()

    async def main() -> None:
        for host in hosts:
            await loop.create_server(Connection, host, port, backlog=1024, reuse_address=True)
        print("ready", flush=True)
        await asyncio.Event().wait()

    loop = asyncio.new_event_loop()
    loop.run_until_complete(main())


def free_port(hosts: list[str] = HOSTS) -> int:
    """A port free on every host address."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = s.getsockname()[1]
        try:
            for host in hosts:
                with socket.socket() as t:
                    t.bind((host, port))
            return port
        except OSError:
            continue
    raise SystemExit(f"no port free on all {len(hosts)} loopback addresses")


class Origin:
    """A running origin: its port, how to read (and clear) its access log, and the CPU it has used."""

    def __init__(self, kind: str, port: int, log_path: Path | None = None, pid: int | None = None) -> None:
        self.kind, self.port, self.log_path, self.pid = kind, port, log_path, pid
        self._log_pos = 0

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the server process and its children (nginx's workers) so far;
        ``None`` where ``/proc`` does not tell (not Linux)."""
        return tree_cpu_seconds(self.pid) if self.pid is not None else None

    def url(self, i: int, kind: str = "page", host: str | None = None) -> str:
        return f"http://{host or HOSTS[i % len(HOSTS)]}:{self.port}/{kind}/{i}.html"

    def read_log(self) -> list[tuple[str, float, float, str]]:
        """Requests since the last call: ``(host, start, end, path)``."""
        if self.log_path is None:
            return read_log(self.port)
        with self.log_path.open("rb") as f:
            f.seek(self._log_pos)
            data = f.read()
            self._log_pos += len(data)
        out = []
        for line in data.decode("latin-1").splitlines():
            host, end, took, _status, path = line.split(" ", 4)
            out.append((host, float(end) - float(took), float(end), path))
        return out


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` and its live descendants, from ``/proc``."""
    try:
        stats: dict[int, tuple[int, int]] = {}      # pid: (parent, CPU ticks)
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    with open(f"/proc/{entry.name}/stat", "rb") as f:
                        fields = f.read().rsplit(b")", 1)[1].split()
                except OSError:          # the process ended while we looked
                    continue
                # after the command's ")": state, ppid, ... utime and stime are the 12th and 13th
                stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    except OSError:
        return None
    if pid not in stats:
        return None
    family, ticks = {pid}, stats[pid][1]
    grew = True
    while grew:                 # children, then theirs (a child's pid is not always above its parent's)
        grew = False
        for p, (parent, used) in stats.items():
            if parent in family and p not in family:
                family.add(p)
                ticks += used
                grew = True
    return ticks / os.sysconf("SC_CLK_TCK")


def read_log(port: int, host: str = HOSTS[0]) -> list[tuple[str, float, float, str]]:
    """The Python origin's access log (then cleared there)."""
    with socket.create_connection((host, port)) as s:
        s.sendall(b"GET /__log HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(1 << 20):
            data += chunk
    return [tuple(x) for x in json.loads(data.split(b"\r\n\r\n", 1)[1])]


@contextmanager
def python_origin(*, delay: float = 0.0, seed: int = 8) -> Iterator[Origin]:
    """The Python origin in a child process (its CPU is not the crawler's)."""
    port = free_port()
    here = Path(__file__).resolve()
    proc = subprocess.Popen([sys.executable, "-c",
                             f"import sys; sys.path.insert(0, {str(here.parent)!r}); import bench_origin; "
                             f"bench_origin.serve({port}, delay={delay!r}, seed={seed})"],
                            stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            raise SystemExit("the Python origin did not start")
        yield Origin("python", port, pid=proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)


_NGINX_CONF = """\
# generated by scripts/bench_origin.py: loopback benchmark origin
{user}
worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    log_format bench '$server_addr $msec $request_time $status $request_uri';
    access_log {root}/access.log bench;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    types {{ text/html html; }}
    default_type application/octet-stream;
    charset utf-8;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    sendfile on;
    gzip on;
    gzip_static on;
    gzip_vary on;
    server {{
{listen}
        root {root}/www;
        location = /robots.txt {{ return 404; }}
        location /page/ {{ rewrite "^/page/\\d*?(\\d?\\d)\\.html$" /pool/$1.html break; }}
        location /small/ {{ rewrite "^/small/\\d*?(\\d?\\d)\\.html$" /smallpool/$1.html break; }}
    }}
}}
"""


@contextmanager
def nginx_origin(workdir: Path, *, seed: int = 8) -> Iterator[Origin]:
    """nginx (Debian's) on the 20 hosts, pages pre-compressed (``gzip_static``), as a non-daemon child."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed")
    root = workdir / "nginx"
    for sub in ("www/pool", "www/smallpool", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for n, page in enumerate(page_pool(seed)):
        for name in (f"{n}.html", f"{n:02d}.html"):
            (root / "www/pool" / name).write_bytes(page)
            (root / "www/pool" / (name + ".gz")).write_bytes(gzip.compress(page, compresslevel=6, mtime=0))
        for name in (f"{n}.html", f"{n:02d}.html"):
            (root / "www/smallpool" / name).write_bytes(small_page(n))
    for path in [workdir, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    root.chmod(0o755)
    port = free_port()
    listen = "\n".join(f"        listen {h}:{port};" for h in HOSTS)
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    conf = root / "nginx.conf"
    conf.write_text(_NGINX_CONF.format(user=user, root=root, listen=listen))
    (root / "access.log").touch()
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(root), "-e", str(root / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                with socket.create_connection((HOSTS[-1], port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    raise RuntimeError(f"nginx did not start: {err}") from None
                time.sleep(0.05)
        yield Origin("nginx", port, root / "access.log", pid=proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
