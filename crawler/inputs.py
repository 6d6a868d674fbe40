"""What a command's ``PATH|URL`` arguments are: URLs to fetch, and files and folders to scan.

Light on purpose (no parsing, no third-party import): :mod:`crawler.scan_process` checks the
arguments with it before the rest of a run is imported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from crawler.errors import UsageError

__all__ = ["split_inputs"]

_URL_ARG = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^(?:javascript|mailto|data|tel):", re.IGNORECASE)


def split_inputs(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[str], list[Path]]:
    """The URL arguments and the filesystem paths, each in order; :class:`UsageError` for a path
    that does not exist. A string that looks like a URL is one unless a file of that name exists.

    >>> split_inputs(["https://example.com/a", "."])
    (['https://example.com/a'], [PosixPath('.')])
    """
    url_args: list[str] = []
    fs_paths: list[Path] = []
    for item in paths:
        text = os.fspath(item)
        if isinstance(item, str) and _URL_ARG.match(text) and not os.path.exists(text):
            url_args.append(text)
            continue
        p = Path(text)
        if not os.path.lexists(p):
            raise UsageError(f"{text}: no such file or folder")
        fs_paths.append(p)
    return url_args, fs_paths
