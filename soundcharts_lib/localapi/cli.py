"""Command-line wiring: ``soundcharts localapi ...`` and ``python -m soundcharts_lib.localapi``."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading

from .config import FAULT_KINDS, LocalApiConfig
from .server import make_server
from .timefmt import parse_ymd

DEFAULT_PORT = 8765


def _kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in text.split(",") if kind.strip())
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown:
        choices = ",".join(FAULT_KINDS)
        raise argparse.ArgumentTypeError(f"unknown fault kinds {unknown}; choose from {choices}")
    return kinds


def _date(text: str) -> dt.date:
    try:
        return parse_ymd(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text[:40]!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The local server's options (all optional)."""
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (0 = any free)")
    parser.add_argument("--seed", type=int, default=1, help="catalog seed (same seed, same data)")
    parser.add_argument("--today", type=_date, default=None,
                        help="the catalog's current date, YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--history-days", type=int, default=400, help="days of chart and audience history")
    parser.add_argument("--quota", type=int, default=None, help="billed requests allowed (default: no limit)")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests/minute (default: no limit)")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail (0..1)")
    parser.add_argument("--fault-kinds", type=_kinds, default=FAULT_KINDS,
                        help=f"comma-separated fault kinds (default: {','.join(FAULT_KINDS)})")
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the fault sequence")
    parser.add_argument("--timeout-seconds", type=float, default=5.0, help="delay of a 'timeout' fault")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay added to every response")
    parser.add_argument("--token-ttl", type=float, default=3600, help="OAuth token lifetime in seconds")
    parser.add_argument("--tidy", action="store_true",
                        help="serve the tidy catalog (default: as untidy as the contract allows: nulls, empty values, "
                             "odd names, histories starting before the served window)")


def config_from_args(args: argparse.Namespace) -> LocalApiConfig:
    return LocalApiConfig(port=args.port, seed=args.seed, today=args.today, history_days=args.history_days,
                          quota=args.quota, rate_limit_per_minute=args.rate_limit, fault_rate=args.fault_rate,
                          fault_kinds=args.fault_kinds, fault_seed=args.fault_seed,
                          timeout_seconds=args.timeout_seconds, latency_ms=args.latency_ms,
                          token_ttl=args.token_ttl, tidy=args.tidy)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_from_args(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C, SIGTERM or SIGHUP; returns the exit code (0; 2 for a bad option or a busy port)."""
    try:
        server = make_server(config_from_args(args))
    except (ValueError, OSError) as exc:
        print(f"localapi: {exc}", file=sys.stderr)
        return 2
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):  # a service manager, a closed terminal: as Ctrl-C
            signal.signal(sig, _stop)
    print(f"Local SoundCharts API on {server.base_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
