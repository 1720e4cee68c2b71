"""Measure the metric engine against hand-written SQL on a large demo warehouse, in one run.

For every required metric: the engine's time (plan, compile, execute, render the SQL) as a ratio
to the independent hand-written SQL of tests/reference_metrics.py, on the same DuckDB connection
pool, interleaved, median of several runs. Also the absolute time of pipeline_coverage and the
time `demo-data` takes to build the warehouse.

Run: .venv/bin/python benchmarks/bench_metrics.py [--scale 10000000] [--keep PATH]
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
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from metrics.audience import Audience  # noqa: E402
from metrics.catalog import load_catalog  # noqa: E402
from metrics.demo_data import generate  # noqa: E402
from metrics.engine import MetricEngine  # noqa: E402
from metrics.periods import Calendar, resolve  # noqa: E402
from metrics.warehouse import open_warehouse  # noqa: E402

from reference_metrics import reference_value  # noqa: E402

AS_OF = dt.date(2026, 11, 15)
ALL = Audience(groups=frozenset({"finance"}))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Reuse or keep the warehouse at this path.")
    parser.add_argument("--only", nargs="*", help="Measure only these metrics.")
    args = parser.parse_args()

    scratch = tempfile.TemporaryDirectory()
    path = args.keep or Path(scratch.name) / "warehouse.duckdb"
    if not path.exists():
        seconds = timed(lambda: generate(path, scale=args.scale, seed=42, as_of=AS_OF))
        print(f"demo-data --scale {args.scale:,}: {seconds:.1f} s (target <= 120 s), "
              f"{path.stat().st_size / 2**20:,.0f} MiB")

    engine = MetricEngine(load_catalog(ROOT / "metrics" / "definitions"),
                          open_warehouse(f"duckdb:///{path}"), lambda: Calendar(AS_OF))
    period = resolve("this_quarter", Calendar(AS_OF))
    print(f"period {period.label}; median of {args.runs} interleaved runs after one warm-up")
    print(f"{'metric':34} {'engine ms':>10} {'hand ms':>10} {'ratio':>7}")
    ratios = []
    with engine.warehouse.connect() as conn:
        for metric in sorted(engine.catalog, key=lambda m: m.id):
            if args.only and metric.id not in args.only:
                continue
            def run_engine(metric_id=metric.id):
                engine.run(engine.plan(metric_id, "this_quarter", audience=ALL))

            def run_hand(metric_id=metric.id):
                reference_value(conn, metric_id, period.start, period.end)

            run_engine(), run_hand()
            ours, theirs = [], []
            for _ in range(args.runs):
                ours.append(timed(run_engine))
                theirs.append(timed(run_hand))
            ratio = statistics.median(ours) / statistics.median(theirs)
            ratios.append(ratio)
            print(f"{metric.id:34} {statistics.median(ours) * 1000:10.1f} "
                  f"{statistics.median(theirs) * 1000:10.1f} {ratio:6.2f}×")
    coverage = [timed(lambda: engine.run(engine.plan("pipeline_coverage")))
                for _ in range(args.runs)]
    print(f"worst ratio {max(ratios):.2f}× (target <= 1.2×), "
          f"median {statistics.median(ratios):.2f}×")
    print(f"pipeline_coverage this quarter: {statistics.median(coverage) * 1000:.0f} ms "
          "(target <= 500 ms)")


if __name__ == "__main__":
    main()
