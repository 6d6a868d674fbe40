"""citecrawl's archive: everything about stored bytes.

WARC records and files, CDXJ indexes, reading foreign WARCs, offline replay as
an httpx transport, article extraction, comparison with stored snapshots and
reports. This package never imports :mod:`crawler`; the crawler hands it
:class:`archive.exchange.Exchange` values.
"""

from archive.exchange import CapturedRequest, CapturedResponse, Exchange, Timings

__all__ = ["CapturedRequest", "CapturedResponse", "Exchange", "Timings"]
