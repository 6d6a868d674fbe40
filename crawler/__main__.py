"""``python -m crawler`` is the same as the ``citecrawl`` command."""

from crawler.cli import entry

if __name__ == "__main__":  # not when a worker process imports this module (multiprocessing spawn)
    entry()
