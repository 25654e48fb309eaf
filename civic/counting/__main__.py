"""Entry point of `python -m civic.counting`."""

import sys

from civic.counting.cli import main

sys.exit(main())
