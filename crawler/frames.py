"""Length-prefixed pickles over a byte stream: the judging processes' wire format.

A frame is a 4-byte big-endian length, then that many bytes of pickle. Pure: the
parent reads its pipes on the event loop and feeds what arrives to a
:class:`FrameBuffer`; a judging process reads its stdin with :func:`read_frame`.

>>> buf = FrameBuffer()
>>> data = encode_frame(("a", 1)) + encode_frame([2, 3])
>>> buf.feed(data[:5]), buf.feed(data[5:])
([], [('a', 1), [2, 3]])
"""

from __future__ import annotations

import pickle
import struct
from typing import IO, Any

__all__ = ["MAX_FRAME_BYTES", "FrameBuffer", "FrameError", "encode_frame", "read_frame"]

_LENGTH = struct.Struct(">I")
#: the largest frame accepted (a judged body is at most 8 MiB; its verdict much less)
MAX_FRAME_BYTES = 64 << 20


class FrameError(Exception):
    """The stream broke the framing: a length over :data:`MAX_FRAME_BYTES`, a cut frame, or bytes that do not unpickle."""


def _loads(payload: bytes | bytearray) -> Any:
    try:
        return pickle.loads(payload)
    except Exception as exc:        # unpickling raises almost anything on bytes that are not a pickle
        raise FrameError(f"a frame that does not unpickle ({type(exc).__name__}: {exc})") from exc


def encode_frame(obj: Any) -> bytes:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    if len(payload) > MAX_FRAME_BYTES:
        raise FrameError(f"a frame of {len(payload)} bytes is over the {MAX_FRAME_BYTES}-byte limit")
    return _LENGTH.pack(len(payload)) + payload


class FrameBuffer:
    """Bytes in, whole unpickled frames out, in order; a partial frame waits for the rest."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes | bytearray) -> list[Any]:
        self._data += data
        out: list[Any] = []
        start = 0
        view = self._data
        while len(view) - start >= 4:
            (length,) = _LENGTH.unpack_from(view, start)
            if length > MAX_FRAME_BYTES:
                raise FrameError(f"a frame of {length} bytes announced, over the {MAX_FRAME_BYTES}-byte limit")
            end = start + 4 + length
            if len(view) < end:
                break
            out.append(_loads(view[start + 4:end]))
            start = end
        if start:
            del self._data[:start]
        return out

    @property
    def pending(self) -> int:
        """Bytes of a frame not complete yet."""
        return len(self._data)


def read_frame(stream: IO[bytes]) -> Any:
    """The next frame from a blocking binary stream; raises :class:`EOFError` at a clean end."""
    head = stream.read(4)
    if not head:
        raise EOFError
    if len(head) < 4:
        raise FrameError("the stream ended inside a frame's length")
    (length,) = _LENGTH.unpack(head)
    if length > MAX_FRAME_BYTES:
        raise FrameError(f"a frame of {length} bytes announced, over the {MAX_FRAME_BYTES}-byte limit")
    payload = stream.read(length)
    if len(payload) < length:
        raise FrameError(f"the stream ended {length - len(payload)} bytes before the end of a frame")
    return _loads(payload)
