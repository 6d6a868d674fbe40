"""The TLS context of a run's clients, made in a thread of its own while the run starts.

Loading the CA store into a context (``ssl.create_default_context``) takes ~50 ms, inside
OpenSSL with the GIL released. A run starts it (:func:`prepare`) before it imports its modules
and takes it (:func:`client_context`) when it builds its clients: by then it is ready, and the
50 ms are off the run's start. Without :func:`prepare`, :func:`client_context` makes one there
and then. Light on purpose: only ``ssl`` and ``threading``.
"""

from __future__ import annotations

import ssl
import threading

__all__ = ["client_context", "prepare"]


class _Making:
    """A context being made in a thread: :meth:`result` waits for it (and raises what making it raised)."""

    def __init__(self, ca_bundle: str | None) -> None:
        self.done = threading.Event()
        self.context: ssl.SSLContext | None = None
        self.error: BaseException | None = None
        threading.Thread(target=self._make, args=(ca_bundle,), name="citecrawl-tls", daemon=True).start()

    def _make(self, ca_bundle: str | None) -> None:
        try:
            self.context = _new_context(ca_bundle)
        except BaseException as exc:  # given to the caller of result(), with its traceback
            self.error = exc
        finally:
            self.done.set()

    def result(self) -> ssl.SSLContext:
        self.done.wait()
        if self.error is not None:
            raise self.error
        assert self.context is not None
        return self.context


_lock = threading.Lock()
_prepared: dict[str | None, _Making] = {}


def prepare(ca_bundle: str | None) -> None:
    """Start making the context :func:`client_context` will return for ``ca_bundle`` (None: the system's CAs)."""
    with _lock:
        if ca_bundle not in _prepared:
            _prepared[ca_bundle] = _Making(ca_bundle)


def client_context(ca_bundle: str | None) -> ssl.SSLContext:
    """A client context trusting ``ca_bundle`` (None: the system's CAs): the one :func:`prepare`
    started, once (a later call makes a new one), else a new one."""
    with _lock:
        making = _prepared.pop(ca_bundle, None)
    return making.result() if making is not None else _new_context(ca_bundle)


def _new_context(ca_bundle: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else ssl.create_default_context()
