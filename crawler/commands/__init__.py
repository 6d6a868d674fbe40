"""One module per ``citecrawl`` sub-command: ``NAME``, ``HELP``, ``add_arguments``, ``run``."""
