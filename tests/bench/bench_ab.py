"""Old and new code timed page by page, taking turns, on the databases ``bench_partition.py`` built (or the SQLite
warehouse ``bench_dashboard.py`` built, ``--sqlite``).

    python tests/bench/bench_ab.py --pg-url postgresql://… --old REV [--new REV] [--months 36] [--rounds 11]
                                   [--page NAME ...]
    python tests/bench/bench_ab.py --sqlite /path/bench.db --old REV [--new REV] [--rounds 11] [--page NAME ...]

This machine's speed drifts by a third within an hour, so two bench runs minutes apart compare the machine as much
as the code. Here each side is a process of its own (``soundcharts_lib`` of ``--old`` and of ``--new``, a git
revision, or the working tree when ``--new`` is left out) reading the same page of the same database one after the
other, the order swapped every round, so both see the same load. Prints each page's median wall ms per side and
their ratio (below 1: the new code is faster); asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = Path(__file__).resolve().parent
DATABASES = ("plain", "parted")

# A side: its soundcharts_lib first on the path (imported before the bench modules, which put the working tree's
# root on the path), then one page read per line of input, its wall ms printed back.
SIDE = r"""
import gc, json, sys, time
sys.path.insert(0, sys.argv[1])
from soundcharts_lib.db import make_engine
sys.path.insert(1, sys.argv[2])
from datetime import date, timedelta
urls, months = json.loads(sys.argv[3]), int(sys.argv[4])
engines = {name: make_engine(url, read_only=True) for name, url in urls.items()}
if "sqlite" in urls:
    import bench_dashboard
    from pathlib import Path
    pages = bench_dashboard.pages_of(Path(urls["sqlite"].removeprefix("sqlite:///")))
else:
    import bench_partition
    today = date.today()
    pages = bench_partition.pages(today, today - timedelta(days=30 * months - 1))
gc.freeze()
print(json.dumps(sorted(pages)), flush=True)
for line in sys.stdin:
    page, name = json.loads(line)
    t0 = time.perf_counter()
    pages[page][0](engines[name])
    print((time.perf_counter() - t0) * 1000, flush=True)
"""


def tree(rev: str | None, into: Path) -> Path:
    """A directory holding ``soundcharts_lib`` of git revision ``rev`` (the working tree's root for None)."""
    if rev is None:
        return ROOT
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "soundcharts_lib"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


class Side:
    def __init__(self, root: Path, urls: dict[str, str], months: int):
        argv = [sys.executable, "-c", SIDE, str(root), str(BENCH), json.dumps(urls), str(months)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     cwd=tempfile.gettempdir())
        self.pages = json.loads(self.proc.stdout.readline())

    def read(self, page: str, name: str) -> float:
        self.proc.stdin.write(json.dumps([page, name]) + "\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def run(pg_url: str | None, old: str, new: str | None = None, *, months: int = 36, rounds: int = 11, warm: int = 3,
        pages: list[str] | None = None, sqlite: Path | None = None) -> dict[tuple[str, str], dict[str, float]]:
    """``{(page, database): {"old": median ms, "new": median ms}}``."""
    from sqlalchemy.engine import make_url

    urls = {"sqlite": f"sqlite:///{sqlite}"} if sqlite else {
        name: make_url(pg_url).set(drivername="postgresql+psycopg", database=f"bench_{name}")
        .render_as_string(hide_password=False) for name in DATABASES}
    with tempfile.TemporaryDirectory() as old_dir, tempfile.TemporaryDirectory() as new_dir:
        sides = {key: Side(tree(rev, Path(where)), urls, months)
                 for key, rev, where in (("old", old, old_dir), ("new", new, new_dir))}
        try:
            shared = [p for p in sides["new"].pages if p in sides["old"].pages]
            out = {}
            for page in pages or shared:
                for name in urls:
                    for side in sides.values():
                        for _ in range(warm):
                            side.read(page, name)
                    times: dict[str, list[float]] = {"old": [], "new": []}
                    for i in range(rounds):
                        for key in ("old", "new") if i % 2 else ("new", "old"):
                            times[key].append(sides[key].read(page, name))
                    out[(page, name)] = {key: statistics.median(v) for key, v in times.items()}
            return out
        finally:
            for side in sides.values():
                side.close()


def report(r: dict[tuple[str, str], dict[str, float]], old: str, new: str | None) -> None:
    newer = (new or "working tree")[:12]
    print(f"{'page (median wall ms, taking turns)':42} {'database':9} {old[:12]:>12} {newer:>12} {'ratio':>6}")
    for (page, name), ms in r.items():
        print(f"{page:42} {name:9} {ms['old']:12.1f} {ms['new']:12.1f} {ms['new'] / ms['old']:6.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--pg-url")
    where.add_argument("--sqlite", type=Path, help="the warehouse bench_dashboard.py --db built")
    ap.add_argument("--old", required=True, help="git revision of the old code")
    ap.add_argument("--new", help="git revision of the new code (default: the working tree)")
    ap.add_argument("--months", type=int, default=36, help="as the databases were built with")
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--page", action="append", help="a page's name as bench_partition.py prints it (default: all)")
    args = ap.parse_args()
    report(run(args.pg_url, args.old, args.new, months=args.months, rounds=args.rounds, pages=args.page,
               sqlite=args.sqlite), args.old, args.new)


if __name__ == "__main__":
    main()
