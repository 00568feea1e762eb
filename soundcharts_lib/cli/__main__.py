"""``python -m soundcharts_lib.cli``: the ``soundcharts`` command."""

import sys

from soundcharts_lib.cli.main import main

sys.exit(main())
