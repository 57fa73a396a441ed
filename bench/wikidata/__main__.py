"""`python -m bench.wikidata` lands here: it exists only so the package runs as a script,
with the command line and everything else in bench.wikidata.run."""

from __future__ import annotations

import sys

from bench.wikidata.run import main

if __name__ == "__main__":
    sys.exit(main())
