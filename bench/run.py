"""Run the benchmarks and print their figures: `make bench` (or python bench/run.py --help).

Each `bench/bench_<name>.py` module exposes `run(seconds=...)`; they run in name order on a fresh
database (bench/bench.sqlite3, or BENCH_DATABASE_URL), each printing figures and the ratios to a
baseline it measures in the same run.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", nargs="*", choices=available(), help="benchmarks to run (default: all)"
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per figure")
    args = parser.parse_args()

    from bench.common import setup_django

    setup_django(fresh=True)
    from django.db import connection

    print(
        f"Confiance benchmarks: Python {platform.python_version()}, "
        f"{connection.vendor}, {platform.machine()}"
    )
    for name in args.only or available():
        print(f"\n== {name}")
        started = time.perf_counter()
        importlib.import_module(f"bench.bench_{name}").run(seconds=args.seconds)
        print(f"({name}: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
