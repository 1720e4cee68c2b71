"""Time drawing the PNG charts the Slack app uploads beside metric answers broken down by time.

For a few real results from a small demo warehouse (the drawing does not depend on its size):
the first drawing in the process (which imports matplotlib), then the median and worst of
repeated drawings, and each PNG's size.

Run: .venv/bin/python benchmarks/bench_charts.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from metrics import charts  # noqa: E402
from metrics.catalog import load_catalog  # noqa: E402
from metrics.demo_data import generate  # noqa: E402
from metrics.engine import MetricEngine  # noqa: E402
from metrics.periods import Calendar  # noqa: E402
from metrics.warehouse import open_warehouse  # noqa: E402

AS_OF = dt.date(2026, 11, 15)
CASES = [  # (metric, period, by)
    ("bookings", "this_year", ("month",)),
    ("win_rate", "this_year", ("month", "region")),
    ("bookings", "this_year", ("week",)),
    ("bookings", "last 90 days", ("day",)),
    ("bookings", "2025-01-01..2026-12-31", ("quarter", "segment")),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "warehouse.duckdb"
        generate(path, scale=20_000, seed=42, as_of=AS_OF)
        engine = MetricEngine(load_catalog(ROOT / "metrics" / "definitions"),
                              open_warehouse(f"duckdb:///{path}"), lambda: Calendar(AS_OF))
        results = [engine.run(engine.plan(m, p, by)) for m, p, by in CASES]
        engine.warehouse.dispose()
    start = time.perf_counter()
    charts.draw(results[0])
    print(f"first chart, importing matplotlib: {(time.perf_counter() - start) * 1000:7.0f} ms")
    print(f"{'chart':<48} {'rows':>7} {'median ms':>10} {'max ms':>7} {'PNG KB':>7}")
    for (metric, period, by), result in zip(CASES, results, strict=True):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            png = charts.draw(result)
            times.append((time.perf_counter() - start) * 1000)
        name = f"{metric} {period} by {', '.join(by)}"
        print(f"{name:<48} {len(result.rows):>7} {statistics.median(times):>10.0f} "
              f"{max(times):>7.0f} {len(png) / 1024:>7.1f}")


if __name__ == "__main__":
    main()
