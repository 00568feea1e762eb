"""``python -m soundcharts_lib.localapi --port P --seed N``."""

import argparse
import sys

from .cli import add_arguments, run_from_args

parser = argparse.ArgumentParser(prog="python -m soundcharts_lib.localapi",
                                 description="Local SoundCharts-compatible API server (127.0.0.1 only).")
add_arguments(parser)
sys.exit(run_from_args(parser.parse_args()))
