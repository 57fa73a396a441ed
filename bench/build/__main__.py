import sys

from bench.build.run import main

sys.exit(main())
