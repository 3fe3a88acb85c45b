"""Run the benchmarks and print their figures: `make bench` (or python bench/run.py --help)."""

from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engagements", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per figure")
    args = parser.parse_args()

    from bench.common import setup_django

    setup_django(fresh=True)
    from django.db import connection

    print(
        f"Confiance benchmarks: Python {platform.python_version()}, "
        f"{connection.vendor}, {platform.machine()}"
    )
    from bench import bench_pages

    bench_pages.run(engagements=args.engagements, seconds=args.seconds)


if __name__ == "__main__":
    main()
