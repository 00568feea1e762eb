"""Sustained client throughput against the local server, both limited to the same calls per minute.

    python tests/bench/bench_client.py [--seconds 20] [--limit 600] [--threads 4]

Prints calls/min, its ratio to the limit (goal >= 0.95) and the 429s received (goal 0). The client runs
with ``max_retries=0`` so every 429 surfaces as an error and is counted instead of being waited out.
``run(...)`` is importable; ``quick()`` is the ~5-second variant used by tests/api/test_bench_client.py.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass

from soundcharts_lib.api.client import SoundchartsClient
from soundcharts_lib.errors import RateLimited
from soundcharts_lib.localapi import LocalApiConfig, running


@dataclass(frozen=True)
class BenchResult:
    seconds: float
    limit: int
    calls: int
    rate_limited: int
    server_rate_limited: int

    @property
    def per_minute(self) -> float:
        return self.calls / self.seconds * 60

    @property
    def ratio(self) -> float:
        return self.per_minute / self.limit

    def report(self) -> str:
        return (f"{self.calls} calls in {self.seconds:.1f} s = {self.per_minute:.0f} calls/min; "
                f"ratio to the limit {self.ratio:.3f} (goal >= 0.95); "
                f"429s received {self.rate_limited} (server counted {self.server_rate_limited}; goal 0)")


def run(seconds: float = 20.0, limit: int = 600, threads: int = 4) -> BenchResult:
    """Call the API from ``threads`` threads for ``seconds``; client and server both at ``limit``/min."""
    calls = rate_limited = 0
    lock = threading.Lock()
    with running(LocalApiConfig(seed=1, rate_limit_per_minute=limit)) as srv, \
            SoundchartsClient(srv.base_url, "soundcharts", "soundcharts", rate_limit_per_minute=limit,
                              max_retries=0) as client:
        started = time.monotonic()
        deadline = started + seconds

        def worker() -> None:
            nonlocal calls, rate_limited
            while time.monotonic() < deadline:
                try:
                    client.request("/api/v2/referential/platforms", {"offset": 0, "limit": 1})
                    with lock:
                        calls += 1
                except RateLimited:
                    with lock:
                        rate_limited += 1

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        elapsed = time.monotonic() - started
        server_429 = srv.stats()["rate_limited"]
    return BenchResult(elapsed, limit, calls, rate_limited, server_429)


def quick() -> BenchResult:
    return run(seconds=5.0, limit=600, threads=4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--limit", type=int, default=600)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    print(run(args.seconds, args.limit, args.threads).report())


if __name__ == "__main__":
    main()
