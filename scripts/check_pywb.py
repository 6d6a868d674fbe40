"""Check our WARC output against pywb, the replay tool archivists use.

pywb does not share our virtualenv (it pins old dependencies and pulls gevent),
so it lives in its own: ``python3.11 -m venv /work/venv-warc &&
/work/venv-warc/bin/pip install pywb cdxj-indexer``. This script, run with
*our* interpreter, then

1. writes a small collection with our writer (gzip and chunked bodies, a
   redirect, a revisit);
2. has pywb's ``wb-manager`` create a collection and index our WARC itself;
3. replays every page through pywb's WSGI app (``id_`` mode: the original
   bytes, no rewriting) and compares the body with what was fetched;
4. compares our CDXJ lines with ``cdxj-indexer``'s and our SURT keys with the
   ``surt`` package's over the URLs given (and ``--warcs`` files' URLs).

Exit 0 when everything matches; prints what differs otherwise.

    /work/venv/bin/python scripts/check_pywb.py --pywb-python /work/venv-warc/bin/python
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from warcfixtures import make_exchange

from archive.cdxj import index_files
from archive.reader import (
    StoredRecord,
    find_warc_files,
    iter_records,
)
from archive.surt import surt_key
from archive.writer import open_warc_writer

PAGE = b"<!doctype html><html><head><title>Replayed</title></head><body>" + b"<p>text</p>" * 300 + b"</body></html>"
PAGES = {
    "http://example.com/plain": PAGE,
    # gzip-encoded and over 4 KB encoded: the writer stores its payload undeflated (warcfile.already_compressed)
    "http://example.com/gzip": PAGE.replace(b"Replayed", b"Gzipped").replace(
        b"</body>", b"<p>" + b"".join(hashlib.sha256(b"%d" % i).hexdigest().encode() for i in range(400)) + b"</p></body>"),
    "http://example.com/chunked": b"a\r\n0123456789\r\n0\r\n\r\n",
}

REPLAY = r"""
import json, os, sys
os.chdir(sys.argv[1])
from pywb.apps.frontendapp import FrontEndApp
from werkzeug.test import Client
app = FrontEndApp()
client = Client(app)
out = {}
for url in json.loads(sys.argv[2]):
    resp = client.get("/ours/2030id_/" + url)
    out[url] = [resp.status_code, resp.get_data().hex(), dict(resp.headers)]
print(json.dumps(out))
"""

SURTS = r"""
import json, sys, surt
urls = json.loads(sys.stdin.read())
out = {}
for u in urls:
    try:
        out[u] = surt.surt(u)
    except Exception:
        out[u] = u
print(json.dumps(out))
"""


async def write_collection(root: Path) -> Path:
    async with open_warc_writer(root / "warcs", prefix="pywbcheck") as w:
        await w.write_exchange(make_exchange("http://example.com/plain", PAGES["http://example.com/plain"],
                                             headers=((b"Content-Type", b"text/html"),)))
        gz = gzip.compress(PAGES["http://example.com/gzip"], mtime=0)
        await w.write_exchange(make_exchange("http://example.com/gzip", gz, headers=(
            (b"Content-Type", b"text/html"), (b"Content-Encoding", b"gzip"), (b"Transfer-Encoding", b"chunked"))))
        await w.write_exchange(make_exchange("http://example.com/chunked", PAGES["http://example.com/chunked"],
                                             headers=((b"Content-Type", b"text/plain"),
                                                      (b"Transfer-Encoding", b"chunked"))))
        await w.write_exchange(make_exchange("http://example.com/old", b"", status=301, reason="Moved", headers=(
            (b"Location", b"http://example.com/plain"), (b"Content-Length", b"0"))))
    [path] = list((root / "warcs").glob("*.warc.gz"))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pywb-python", default="/work/venv-warc/bin/python",
                        help="a Python with pywb and cdxj-indexer installed")
    parser.add_argument("--warcs", nargs="*", default=[], help="also compare SURT keys and CDXJ lines for these")
    args = parser.parse_args()
    py = Path(args.pywb_python)
    if not py.exists():
        print(f"no pywb interpreter at {py}", file=sys.stderr)
        return 2
    bindir = py.parent
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warc = trio.run(write_collection, root)
        pywb_root = root / "pywb"
        pywb_root.mkdir()
        for cmd in (["init", "ours"], ["add", "ours", str(warc)]):
            subprocess.run([str(bindir / "wb-manager"), *cmd], cwd=pywb_root, check=True, capture_output=True)
        # 3. replay through pywb
        proc = subprocess.run([str(py), "-c", REPLAY, str(pywb_root), json.dumps([*PAGES, "http://example.com/old"])],
                              capture_output=True, text=True, check=True)
        replayed = json.loads(proc.stdout.strip().splitlines()[-1])
        for url, want in PAGES.items():
            status, body_hex, headers = replayed[url]
            body = bytes.fromhex(body_hex)
            if headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            ok = status == 200 and body == want
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} pywb replays {url}: {status}, {len(body)} bytes"
                  f"{'' if ok else f' (want {len(want)} bytes)'}")
        status, _, headers = replayed["http://example.com/old"]
        ok = status == 301 and headers.get("Location", "").endswith("http://example.com/plain")
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} pywb replays the redirect: {status} → {headers.get('Location')}")
        # 4. CDXJ lines and SURT keys
        files = [warc, *find_warc_files(args.warcs)] if args.warcs else [warc]
        for f in files:
            ref = subprocess.run([str(bindir / "cdxj-indexer"), "--sort", str(f)], capture_output=True, text=True)
            if ref.returncode != 0:
                print(f"skip {f.name}: cdxj-indexer cannot read it")
                continue
            theirs = sorted(ref.stdout.splitlines())
            report = index_files([f])
            ours = sorted(_without_location(e.line()) for e in report.entries)
            if theirs == ours:
                print(f"ok   CDXJ of {f.name}: {len(ours)} lines, as cdxj-indexer writes them")
            elif report.broken_files and set(ours) < set(theirs):
                print(f"ok   CDXJ of {f.name}: {len(ours)} lines; cdxj-indexer also indexes "
                      f"{len(theirs) - len(ours)} incomplete record(s) of this broken file")
            else:
                failures += 1
                print(f"FAIL CDXJ of {f.name}: {len(ours)} lines differ from cdxj-indexer ({len(theirs)} lines)")
        urls = sorted({r.url for f in files for r in iter_records(f) if isinstance(r, StoredRecord) and r.url})
        proc = subprocess.run([str(py), "-c", SURTS], input=json.dumps(urls), capture_output=True, text=True, check=True)
        want_keys = json.loads(proc.stdout)
        diff = [u for u in urls if surt_key(u) != want_keys[u]]
        failures += bool(diff)
        print(f"{'ok  ' if not diff else 'FAIL'} SURT keys equal surt.surt for {len(urls) - len(diff)} of {len(urls)} URLs")
        for u in diff[:10]:
            print(f"     {u!r}: ours {surt_key(u)!r}, surt {want_keys[u]!r}")
    return 1 if failures else 0


def _without_location(line: str) -> str:
    key, ts, data = line.split(" ", 2)
    fields = json.loads(data)
    fields.pop("location", None)
    return f"{key} {ts} {json.dumps(fields)}"


if __name__ == "__main__":
    raise SystemExit(main())
