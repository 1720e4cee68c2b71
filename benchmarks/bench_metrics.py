"""Measure the metric engine against hand-written SQL on a large demo warehouse, in one run.

For every governed metric: the engine's time (plan, compile, execute, render the SQL) as a ratio
to the independent hand-written SQL of tests/reference_metrics.py, on the same DuckDB connection
pool, interleaved, median of several runs, after checking both give the same value; then
bookings by month over a year against one hand-written GROUP BY, and a comparison with the
quarter before against the two hand-written values. Also the
absolute time of pipeline_coverage and the time `demo-data` takes to build the warehouse.

A new kind of request is one more `Case` in `cases()`: a label, the engine call and the
hand-written call it is compared with.

Run: .venv/bin/python benchmarks/bench_metrics.py [--scale 10000000] [--keep PATH]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from sqlalchemy import text  # noqa: E402

from metrics.audience import Audience  # noqa: E402
from metrics.breaker import Breaker  # noqa: E402
from metrics.catalog import load_catalog  # noqa: E402
from metrics.demo_data import generate  # noqa: E402
from metrics.engine import MetricEngine  # noqa: E402
from metrics.periods import Calendar, resolve  # noqa: E402
from metrics.warehouse import open_warehouse  # noqa: E402

from reference_metrics import reference_value  # noqa: E402

AS_OF = dt.date(2026, 11, 15)
# The engine's moment of asking with its calendar fixed to AS_OF: the end of that day.
ASKED = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
ALL = Audience(groups=frozenset({"finance"}))
PERIOD = "this_quarter"
# Bookings by month over a year, as an analyst would write it: one scan, one GROUP BY.
BOOKINGS_BY_MONTH = text(
    "SELECT date_trunc('month', close_date) AS month, sum(amount) FROM opportunities "
    "WHERE is_won AND close_date >= :start AND close_date < :end GROUP BY 1 ORDER BY 1")


@dataclass(frozen=True)
class Case:
    """One request: what the engine runs, and the hand-written SQL giving the same value."""

    label: str
    engine: Callable[[], object]
    hand: Callable[[], object]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cases(engine: MetricEngine, conn, only: list[str] | None) -> Iterator[Case]:
    """Every governed metric for this quarter; more kinds of request are added here."""
    window = resolve(PERIOD, Calendar(AS_OF))
    for metric in sorted(engine.catalog, key=lambda m: m.id):
        if only and metric.id not in only:
            continue
        yield Case(
            metric.id,
            lambda m=metric.id: engine.run(engine.plan(m, PERIOD, audience=ALL)).value,
            lambda m=metric.id: reference_value(conn, m, window.start, window.end, now=ASKED))
    if only:
        return
    year = resolve("this_year", Calendar(AS_OF))
    yield Case(
        "bookings by month, this year",
        # Months still ahead are rows of 0 in the answer and absent from a GROUP BY.
        lambda: [r.value for r in engine.run(engine.plan("bookings", "this_year",
                                                         by=["month"])).rows if r.value],
        lambda: [float(v) for _, v in conn.execute(
            BOOKINGS_BY_MONTH, {"start": year.start, "end": year.end})])
    last = resolve("last_quarter", Calendar(AS_OF))
    yield Case(
        "bookings this quarter vs last",
        lambda: _compared(engine.run(engine.plan("bookings", PERIOD, compare="last_quarter"))),
        lambda: (reference_value(conn, "bookings", window.start, window.end),
                 reference_value(conn, "bookings", last.start, last.end)))


def _compared(result) -> tuple:
    return result.value, result.comparison.value


def same(a: object, b: object) -> bool:
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def measure(case: Case, runs: int) -> float:
    """Print the case's median times and their ratio; the ratio."""
    ours_value, theirs_value = case.engine(), case.hand()  # also the warm-up
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(timed(case.engine))
        theirs.append(timed(case.hand))
    ratio = statistics.median(ours) / statistics.median(theirs)
    check = "" if same(ours_value, theirs_value) else (
        f"  DIFFERENT: {ours_value!r} vs {theirs_value!r}")
    print(f"{case.label:34} {statistics.median(ours) * 1000:10.1f} "
          f"{statistics.median(theirs) * 1000:10.1f} {ratio:6.2f}×{check}", flush=True)
    return ratio


def build(path: Path, scale: int) -> None:
    seconds = timed(lambda: generate(path, scale=scale, seed=42, as_of=AS_OF))
    print(f"demo-data --scale {scale:,}: {seconds:.1f} s (target <= 120 s), "
          f"{path.stat().st_size / 2**20:,.0f} MiB", flush=True)


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
        build(path, args.scale)

    # Speed is measured here, not the answering path's give-up time: no breaker timeout.
    engine = MetricEngine(load_catalog(ROOT / "metrics" / "definitions"),
                          open_warehouse(f"duckdb:///{path}"), lambda: Calendar(AS_OF),
                          breaker=Breaker(timeout_s=600))
    print(f"period {resolve(PERIOD, Calendar(AS_OF)).label}; median of {args.runs} "
          "interleaved runs after one warm-up")
    print(f"{'request':34} {'engine ms':>10} {'hand ms':>10} {'ratio':>7}")
    with engine.warehouse.connect() as conn:
        ratios = [measure(case, args.runs) for case in cases(engine, conn, args.only)]
    coverage = [timed(lambda: engine.run(engine.plan("pipeline_coverage")))
                for _ in range(args.runs)]
    print(f"worst ratio {max(ratios):.2f}× (target <= 1.2×), "
          f"median {statistics.median(ratios):.2f}×")
    print(f"pipeline_coverage this quarter: {statistics.median(coverage) * 1000:.0f} ms "
          "(target <= 500 ms)")


if __name__ == "__main__":
    main()
