"""``python -m tests.fakegraph --port 0 --pages pages.json``: serve until SIGTERM/SIGINT.

The first line on stdout is the fake's URL; see :func:`tests.fakegraph.cli.main`
for the options.
"""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
