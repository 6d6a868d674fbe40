"""``python -m crawler`` is the same as the ``citecrawl`` command."""

from crawler.cli import main

raise SystemExit(main())
