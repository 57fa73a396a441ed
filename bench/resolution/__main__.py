"""`python -m bench.resolution` lands here: it exists only so the package runs as a script,
with the command line and everything else in bench.resolution.run."""

from __future__ import annotations

import sys

from bench.resolution.run import main

if __name__ == "__main__":
    sys.exit(main())
