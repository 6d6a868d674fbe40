"""Verification of WARC files: framing, block and payload digests, and index consistency.

Stricter than reading on purpose (see :mod:`archive.framing`): a file passes only
if every record is complete and correctly framed, every digest it declares
matches (sha1/sha256/… in base32, hex or base64), and every CDXJ line naming the
file points at a record with the same URL and payload digest, while every
indexable record has its line. Payload digests of records stored with real chunk
framing (other tools' files) are accepted over the de-chunked body (as WARC 1.1
asks) or over the raw bytes (as older tools wrote them).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from archive.cdxj import INDEXED_TYPES, CdxjEntry
from archive.framing import Frame, FramingFault, iter_frames
from archive.replay import dechunk

__all__ = ["FileVerdict", "digest_matches", "verify_file"]


@dataclass(frozen=True, slots=True)
class FileVerdict:
    path: Path
    records: int
    digests_checked: int
    index_lines_checked: int
    faults: tuple[str, ...]
    indexed: bool                 # an index was there to check against

    @property
    def ok(self) -> bool:
        return not self.faults


def _decodings(value: str) -> list[bytes]:
    """Every reading of a digest value: base32 (IIPC), hex (warcprox), base64 and URL-safe base64."""
    value = value.strip()
    out = []
    for decode in (lambda v: base64.b32decode(v.upper()), bytes.fromhex, base64.b64decode, base64.urlsafe_b64decode):
        try:
            out.append(decode(value))
        except (binascii.Error, ValueError):
            continue
    return out


def digest_matches(declared: str, data: bytes) -> bool | None:
    """Whether ``declared`` (``algo:value``) is the digest of ``data``; ``None`` if the algorithm is unknown.

    >>> digest_matches("sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ", b"")
    True
    >>> digest_matches("sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709", b"")
    True
    >>> digest_matches("sha1:2jmj7l5rSw0yVb_vlWAYkK_YBwk=", b"")
    True
    >>> digest_matches("sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ", b"x")
    False
    """
    algo, _, value = declared.partition(":")
    try:
        h = hashlib.new(algo.strip().lower().replace("-", ""), data)
    except ValueError:
        return None
    return h.digest() in _decodings(value)


def _payload(frame: Frame) -> tuple[bytes, bytes] | None:
    """HTTP head and payload of an ``application/http`` block."""
    if "application/http" not in (frame.header("Content-Type") or ""):
        return None
    head, sep, body = frame.block.partition(b"\r\n\r\n")
    if not sep:
        return None
    return head, body


def _check_frame(frame: Frame) -> tuple[list[str], int]:
    faults: list[str] = []
    checked = 0
    where = f"offset {frame.offset} ({frame.header('WARC-Type')} {frame.header('WARC-Target-URI') or ''})".rstrip()
    block_digest = frame.header("WARC-Block-Digest")
    if block_digest:
        ok = digest_matches(block_digest, frame.block)
        checked += ok is not None
        if ok is False:
            faults.append(f"{where}: WARC-Block-Digest does not match the block")
    payload_digest = frame.header("WARC-Payload-Digest")
    rtype = frame.header("WARC-Type")
    if payload_digest and rtype in ("response", "request"):
        parts = _payload(frame)
        if parts is not None:
            head, body = parts
            candidates = [body]
            if b"transfer-encoding: chunked" in head.lower():
                plain = dechunk(body)
                if plain is not None:
                    candidates.insert(0, plain)
            results = [digest_matches(payload_digest, c) for c in candidates]
            checked += results[0] is not None
            if results[0] is not None and not any(results):
                faults.append(f"{where}: WARC-Payload-Digest does not match the payload")
    elif payload_digest and rtype == "resource":
        ok = digest_matches(payload_digest, frame.block)
        checked += ok is not None
        if ok is False:
            faults.append(f"{where}: WARC-Payload-Digest does not match the block")
    return faults, checked


def _indexable(frame: Frame) -> bool:
    rtype = frame.header("WARC-Type") or ""
    if rtype not in INDEXED_TYPES or not frame.header("WARC-Target-URI"):
        return False
    return not (rtype in ("resource", "metadata") and frame.header("Content-Type") == "application/warc-fields")


def verify_file(path: str | os.PathLike[str], *, index: Sequence[CdxjEntry] | None = None) -> FileVerdict:
    """Check one WARC file; ``index`` holds the CDXJ lines to hold against it (any file's; others are ignored)."""
    p = Path(path)
    faults: list[str] = []
    frames: dict[int, Frame] = {}
    checked = 0
    if p.name.endswith(".open"):
        faults.append("file left open by a run that did not finish (the next run recovers it)")
    try:
        with p.open("rb") as fh:
            for item in iter_frames(fh):
                if isinstance(item, FramingFault):
                    faults.append(f"offset {item.offset}: {item.message}")
                    break
                frames[item.offset] = item
                f, c = _check_frame(item)
                faults += f
                checked += c
    except OSError as exc:
        faults.append(f"cannot read: {exc.strerror or exc}")
    lines = 0
    if index is not None:
        mine = [e for e in index if e.fields.get("filename") == p.name]
        pointed = set()
        for e in mine:
            lines += 1
            offset = int(e.fields.get("offset", "-1"))
            frame = frames.get(offset)
            if frame is None:
                faults.append(f"index line for {e.url} points at offset {offset}, where no record starts")
                continue
            pointed.add(offset)
            if frame.header("WARC-Target-URI") != e.url:
                faults.append(f"index line for {e.url} at offset {offset} finds {frame.header('WARC-Target-URI')}")
            digest = e.fields.get("digest")
            if digest and frame.header("WARC-Payload-Digest") and digest != frame.header("WARC-Payload-Digest"):
                faults.append(f"index line for {e.url} at offset {offset} has digest {digest}, "
                              f"the record {frame.header('WARC-Payload-Digest')}")
        for offset, frame in frames.items():
            if offset not in pointed and _indexable(frame):
                faults.append(f"offset {offset} ({frame.header('WARC-Target-URI')}) is missing from the index")
    return FileVerdict(p, len(frames), checked, lines, tuple(faults), index is not None)
