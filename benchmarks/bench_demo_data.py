"""Time `ssot demo-data` at a given scale and the hand-written reference SQL of every metric on it.

    python benchmarks/bench_demo_data.py --scale 10000000 [--out /tmp/w.duckdb] [--keep]

Prints the generation time per table and in total, the file size, then for the quarter that
contains the as-of date the best of three runs of each metric's reference SQL on one connection.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics.demo_data import generate
from metrics.demo_plan import add_months, quarter_start
from tests.reference_metrics import REFERENCE_METRICS, reference_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10_000_000)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 28))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="Keep the generated file.")
    parser.add_argument("--skip-generate", action="store_true", help="Reuse --out as is.")
    args = parser.parse_args()
    out = args.out or Path(tempfile.gettempdir()) / f"bench-warehouse-{args.scale}.duckdb"
    try:
        if not args.skip_generate:
            _generate(out, args.scale, args.as_of)
        _time_references(out, args.as_of)
    finally:
        if not args.keep and not args.skip_generate:
            out.unlink(missing_ok=True)


def _generate(out: Path, scale: int, as_of: dt.date) -> None:
    last = [time.perf_counter()]

    def progress(table: str, done: int, total: int) -> None:
        now = time.perf_counter()
        print(f"  {table:<28} {now - last[0]:6.1f} s", flush=True)
        last[0] = now

    report = generate(out, scale=scale, as_of=as_of, on_progress=progress)
    print(f"demo-data --scale {scale:,}: {report.seconds:.1f} s, "
          f"{out.stat().st_size / 1e9:.2f} GB, {sum(report.rows.values()):,} rows")


def _time_references(out: Path, as_of: dt.date) -> None:
    start = quarter_start(as_of)
    end = add_months(start, 3)
    engine = create_engine(f"duckdb:///{out}", connect_args={"read_only": True})
    print(f"reference SQL, quarter {start}..{end} (best of 3):")
    with engine.connect() as conn:
        for metric in REFERENCE_METRICS:
            times, value = [], None
            for _ in range(3):
                began = time.perf_counter()
                value = reference_value(conn, metric, start, end)
                times.append(time.perf_counter() - began)
            shown = "None" if value is None else f"{value:,.3f}"
            print(f"  {metric:<34} {min(times) * 1000:9.1f} ms   {shown}")
    engine.dispose()


if __name__ == "__main__":
    main()
