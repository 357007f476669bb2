"""``python -m xds.cli``: the same as the ``xds`` console script."""

import sys

from xds.cli.main import main

sys.exit(main())
