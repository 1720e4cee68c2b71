"""Time grains, IN filters, comparisons and pace give what hand-written SQL gives, on DuckDB and
on the real PostgreSQL service, and every surface says what was computed."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
import sqlalchemy as sa
from rich.console import Console

from bot.chat.asked import Asked
from bot.render_text import render_answer, render_result
from bot.slack.blocks import answer_blocks, answer_text
from knowledge.answer import Answer, Period
from metrics.audience import Audience
from metrics.catalog import load_catalog
from metrics.definitions import Target
from metrics.engine import GRAINS, MetricEngine
from metrics.errors import BadRequest
from metrics.formatting import target_status
from metrics.periods import Calendar
from metrics.warehouse import open_warehouse
from tests.warehouse_support import close, postgres_warehouse

from conftest import AS_OF, ROOT
from reference_metrics import REFERENCE_METRICS, reference_value

D = dt.date
FINANCE = Audience(groups=frozenset({"finance"}))
# The moment of asking when the calendar is fixed to AS_OF (the end of that day): snapshots
# such as MRR are taken then, or at the end of their period if that comes first.
ASKED = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
# Each grain over a period, with the first day of every bucket written out by hand. Periods
# that start or end inside a bucket (this quarter's first and last weeks, this month so far,
# the last 12 months) keep the bucket's first day as its name but count only the period's days.
GRAIN_CASES = {
    "day": ("2026-10-01..2026-10-06", [D(2026, 10, d) for d in range(1, 7)]),
    "week": ("this_quarter", [D(2026, 9, 28), D(2026, 10, 5), D(2026, 10, 12), D(2026, 10, 19),
                              D(2026, 10, 26), D(2026, 11, 2), D(2026, 11, 9), D(2026, 11, 16),
                              D(2026, 11, 23), D(2026, 11, 30), D(2026, 12, 7), D(2026, 12, 14),
                              D(2026, 12, 21), D(2026, 12, 28)]),
    "month": ("ytd", [D(2026, m, 1) for m in range(1, 12)]),
    "quarter": ("last 12 months", [D(2025, 10, 1), D(2026, 1, 1), D(2026, 4, 1), D(2026, 7, 1),
                                   D(2026, 10, 1)]),
    "year": ("2024-07-01..2026-11-15", [D(2024, 1, 1), D(2025, 1, 1), D(2026, 1, 1)]),
}
# What an empty bucket shows: nothing summed or counted is 0; a ratio or average has no value.
ZERO_WHEN_EMPTY = {"bookings", "open_pipeline", "marketing_originated_revenue",
                   "marketing_influenced_revenue", "mql_count", "sql_count"}


def _engine(url: str, fiscal_start: int = 1) -> MetricEngine:
    return MetricEngine(load_catalog(ROOT / "metrics" / "definitions"), open_warehouse(url),
                        lambda: Calendar(AS_OF, fiscal_start))


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def engine(request, warehouse_url):
    if request.param == "duckdb":
        yield _engine(warehouse_url)
        return
    with postgres_warehouse(scale=5_000, seed=11, as_of=AS_OF) as url:
        yield _engine(url)


def reference(*args, **kwargs):
    """The hand-written SQL's value, asked at the same moment as the engine."""
    return reference_value(*args, now=ASKED, **kwargs)


def _spans(starts: list[dt.date], period: Period) -> list[tuple[dt.date, dt.date]]:
    """Each bucket's days inside the period: [start, end)."""
    ends = [*starts[1:], period.end]
    return [(max(s, period.start), min(e, period.end)) for s, e in zip(starts, ends, strict=True)]


def _filled(metric: str, value: float | None) -> float | None:
    return 0.0 if value is None and metric in ZERO_WHEN_EMPTY else value


@pytest.mark.parametrize("grain", GRAINS)
def test_each_grain_matches_hand_written_sql_for_every_metric(engine, grain):
    period_name, starts = GRAIN_CASES[grain]
    wrong = []
    with engine.warehouse.connect() as conn:
        for metric in REFERENCE_METRICS:
            if not engine.catalog.periodic(engine.catalog[metric]) or (
                    metric == "revenue_growth_rate"):  # its own test below
                continue
            result = engine.run(engine.plan(metric, period_name, [grain], audience=FINANCE))
            assert result.dimensions == (grain,) and result.grain == grain
            got = [(row.dimensions[grain], row.value) for row in result.rows]
            assert [day for day, _ in got] == [s.isoformat() for s in starts], metric
            expected = [_filled(metric, reference(conn, metric, *span))
                        for span in _spans(starts, result.period)]
            total = reference(conn, metric, result.period.start, result.period.end)
            if not all(close(v, e) for (_, v), e in zip(got, expected, strict=True)):
                wrong.append((metric, got, expected))
            if not close(result.value, total):
                wrong.append((metric, "total", result.value, total))
    assert wrong == []


# Each bucket compared with the one before it; a bucket the period ends inside is compared
# with the same days one grain earlier (this November so far with October 1-15).
GROWTH_CASES = [
    ("quarter", "2026", [((D(2026, 1, 1), D(2026, 4, 1)), (D(2025, 10, 1), D(2026, 1, 1))),
                         ((D(2026, 4, 1), D(2026, 7, 1)), (D(2026, 1, 1), D(2026, 4, 1))),
                         ((D(2026, 7, 1), D(2026, 10, 1)), (D(2026, 4, 1), D(2026, 7, 1))),
                         ((D(2026, 10, 1), D(2027, 1, 1)), (D(2026, 7, 1), D(2026, 10, 1)))]),
    ("month", "2026-09-01..2026-11-15",
     [((D(2026, 9, 1), D(2026, 10, 1)), (D(2026, 8, 1), D(2026, 9, 1))),
      ((D(2026, 10, 1), D(2026, 11, 1)), (D(2026, 9, 1), D(2026, 10, 1))),
      ((D(2026, 11, 1), D(2026, 11, 16)), (D(2026, 10, 1), D(2026, 10, 16)))]),
]


@pytest.mark.parametrize(("grain", "period", "buckets"), GROWTH_CASES,
                         ids=[c[0] for c in GROWTH_CASES])
def test_growth_by_a_grain_compares_each_bucket_with_the_one_before(engine, grain, period,
                                                                    buckets):
    result = engine.run(engine.plan("revenue_growth_rate", period, [grain, "type"]))
    with engine.warehouse.connect() as conn:
        expected = {}
        for (start, end), (before_start, before_end) in buckets:
            now = reference(conn, "bookings", start, end, by="type")
            before = reference(conn, "bookings", before_start, before_end, by="type")
            for kind in {*now, *before}:
                a, b = now.get(kind), before.get(kind)
                expected[(start.isoformat(), kind)] = (
                    None if a is None or not b else a / b - 1)
    got = {(row.dimensions[grain], row.dimensions["type"]): row.value for row in result.rows}
    assert got.keys() == expected.keys()
    assert all(close(got[k], expected[k]) for k in got), (got, expected)
    assert [k[0] for k in got] == sorted(k[0] for k in got)


# A grain with another dimension, with and without an IN filter.
WITH_DIMENSIONS = [
    ("bookings", "month", "region", {"region": ("EMEA", "APAC")}, "this_quarter",
     [D(2026, 10, 1), D(2026, 11, 1), D(2026, 12, 1)]),
    ("win_rate", "quarter", "segment", {"region": ("NA", "LATAM")}, "2026",
     [D(2026, 1, 1), D(2026, 4, 1), D(2026, 7, 1), D(2026, 10, 1)]),
    ("mql_to_sql_conversion_rate", "week", "source", {}, "2026-10-07..2026-10-27",
     [D(2026, 10, 5), D(2026, 10, 12), D(2026, 10, 19), D(2026, 10, 26)]),
    ("pipeline_coverage", "month", "region", {}, "this_quarter",
     [D(2026, 10, 1), D(2026, 11, 1), D(2026, 12, 1)]),
    ("pipeline_velocity", "month", "segment", {"type": ("new_business", "expansion")},
     "last_quarter", [D(2026, 7, 1), D(2026, 8, 1), D(2026, 9, 1)]),
]


@pytest.mark.parametrize(("metric", "grain", "dim", "where", "period", "starts"),
                         WITH_DIMENSIONS, ids=[c[0] for c in WITH_DIMENSIONS])
def test_a_grain_with_a_dimension_has_every_bucket_for_every_value(engine, metric, grain, dim,
                                                                   where, period, starts):
    # Asked dimension first: the grain still leads the breakdown.
    result = engine.run(engine.plan(metric, period, [dim, grain], where, FINANCE))
    assert result.dimensions == (grain, dim)
    with engine.warehouse.connect() as conn:
        per_bucket = [reference(conn, metric, *span, by=dim, where=where)
                      for span in _spans(starts, result.period)]
        total = reference(conn, metric, result.period.start, result.period.end,
                                where=where)
    values = sorted({v for bucket in per_bucket for v in bucket},
                    key=lambda v: (v is None, v or ""))
    expected = [((s.isoformat(), v), _filled(metric, bucket.get(v)))
                for s, bucket in zip(starts, per_bucket, strict=True) for v in values]
    got = [((row.dimensions[grain], row.dimensions[dim]), row.value) for row in result.rows]
    assert [k for k, _ in got] == [k for k, _ in expected]
    assert all(close(a, b) for (_, a), (_, b) in zip(got, expected, strict=True)), (got,
                                                                                    expected)
    assert close(result.value, total)
    if where:
        assert set(values) <= set(where.get(dim, values))


def test_bookings_by_month_over_a_year_is_one_group_by_query(engine):
    if engine.warehouse.dialect.name == "duckdb":
        pytest.skip("DuckDB statements go straight to the driver; counted on PostgreSQL")
    sent: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:
        sent.append(statement)

    sa.event.listen(engine.warehouse, "before_cursor_execute", record)
    try:
        result = engine.run(engine.plan("bookings", "2025", ["month"]))
    finally:
        sa.event.remove(engine.warehouse, "before_cursor_execute", record)
    assert len(result.rows) == 12
    [query] = [q for q in sent if "opportunities" in q]
    assert query.upper().count("GROUP BY") == 1


@pytest.mark.parametrize(("metric", "where"), [
    ("bookings", {"region": ["emea", "APAC"]}),
    ("mql_to_sql_conversion_rate", {"source": ["inbound", "paid", "event"]}),
    ("win_rate", {"segment": ["SMB", "Mid-Market"], "region": ["NA", "EMEA"]}),
])
def test_several_values_of_a_dimension_keep_any_of_them(engine, metric, where):
    plan = engine.plan(metric, "last_quarter", ["region"], where)
    result = engine.run(plan)
    stored = {d: tuple(engine.dimension_values(plan.metric, d)[v.lower()] for v in vs)
              for d, vs in where.items()}
    assert result.filters == stored
    with engine.warehouse.connect() as conn:
        total = reference(conn, metric, plan.period.start, plan.period.end, where=stored)
        rows = reference(conn, metric, plan.period.start, plan.period.end, by="region",
                               where=stored)
    assert close(result.value, total)
    assert {row.dimensions["region"]: row.value for row in result.rows}.keys() == rows.keys()
    listed = ", ".join(stored[next(iter(stored))])
    assert f"{next(iter(stored))} in {listed}" in result.interpretation


def test_an_unknown_value_among_several_is_refused_by_name(metric_engine):
    with pytest.raises(BadRequest, match="'Germany' is not a region in the warehouse; region "
                                         "values: APAC, EMEA, LATAM, NA"):
        metric_engine.plan("bookings", where={"region": ["EMEA", "Germany"]})
    assert metric_engine.plan("bookings", where={"region": ["emea", "EMEA"]}).where == {
        "region": ("EMEA",)}


@pytest.mark.parametrize(("metric", "period", "compare", "unit", "previous"), [
    ("bookings", "last_quarter", "2026-Q2", "%", (None, None)),
    ("win_rate", "2026", "2025", "pp", (None, None)),
    ("mql_count", "this_quarter", "same_quarter_last_year", "%", (None, None)),
    # Growth in Q2 (over Q1) against growth in Q1 (over Q4 2025).
    ("revenue_growth_rate", "2026-Q2", "2026-Q1", "pp", (D(2026, 1, 1), D(2025, 10, 1))),
])
def test_a_comparison_gives_both_values_and_the_change(engine, metric, period, compare, unit,
                                                       previous):
    where = {"region": ("EMEA", "NA")}
    result = engine.run(engine.plan(metric, period, where=where, compare=compare))
    other = result.comparison
    with engine.warehouse.connect() as conn:
        now = reference(conn, metric, result.period.start, result.period.end, where=where,
                              previous_start=previous[0])
        before = reference(conn, metric, other.period.start, other.period.end,
                                 where=where, previous_start=previous[1])
    assert close(result.value, now) and close(other.value, before)
    if unit == "pp":  # a rate changes in percentage points
        change = (now - before) * 100
        assert other.change_formatted == f"{change:+.1f} pp"
    else:
        change = (now / before - 1) * 100
        assert other.change_formatted == f"{change:+.1f}%"
    assert close(other.change, change)
    assert result.interpretation.endswith(f" · vs {other.period.label}")


def test_pace_compares_a_period_in_progress_with_the_target_to_date(engine):
    # Q4 2026 on November 15: 46 of its 92 days have passed, today included.
    mql = engine.run(engine.plan("mql_count", "this_quarter"))
    target = mql.target
    assert target.value == 1500 and target.expected_to_date == pytest.approx(750)
    with engine.warehouse.connect() as conn:
        value = reference(conn, "mql_count", D(2026, 10, 1), D(2027, 1, 1))
    assert mql.value == value and target.on_track == (value >= 750)
    assert target.met == (True if value >= 1500 else None)
    assert target.formatted == "at least 750 to date (of 1,500 for Q4 2026)"
    done = engine.run(engine.plan("mql_count", "2026-Q3")).target
    assert done.expected_to_date is None and done.on_track is None and isinstance(done.met, bool)
    coverage = engine.run(engine.plan("pipeline_coverage")).target  # a ratio: compared as is
    assert coverage.expected_to_date is None and isinstance(coverage.met, bool)
    assert "to date" not in coverage.formatted


def test_two_thirds_into_a_quarter_two_thirds_of_its_target_is_on_track():
    q4 = Period(start=D(2026, 10, 1), end=D(2027, 1, 1), label="Q4 2026", months=3)
    monthly = Target(value=500, direction="at_least", per="month")
    pace = target_status(monthly, 1100, q4, "count", today=D(2026, 11, 30), additive=True)
    assert pace.expected_to_date == pytest.approx(1500 * 61 / 92)
    assert pace.on_track is True and pace.met is None
    assert pace.formatted == "at least 995 to date (of 1,500 for Q4 2026)"
    behind = target_status(monthly, 900, q4, "count", today=D(2026, 11, 30), additive=True)
    assert behind.on_track is False
    as_is = target_status(monthly, 1100, q4, "count", today=D(2026, 11, 30), additive=False)
    assert as_is.met is False and as_is.expected_to_date is None
    not_begun = target_status(monthly, 0, q4, "count", today=D(2026, 9, 30), additive=True)
    assert not_begun.met is None and not_begun.on_track is None


def test_a_fiscal_calendar_puts_quarters_and_years_where_the_fiscal_year_starts(warehouse_url):
    fiscal = _engine(warehouse_url, fiscal_start=2)  # FY2026 = February 2025 - January 2026
    result = fiscal.run(fiscal.plan("bookings", "FY2026", ["quarter"]))
    starts = [D(2025, 2, 1), D(2025, 5, 1), D(2025, 8, 1), D(2025, 11, 1)]
    assert [row.dimensions["quarter"] for row in result.rows] == [s.isoformat() for s in starts]
    years = fiscal.run(fiscal.plan("win_rate", "2025-01-01..2026-12-31", ["year"]))
    year_starts = [D(2024, 2, 1), D(2025, 2, 1), D(2026, 2, 1)]
    assert [row.dimensions["year"] for row in years.rows] == [s.isoformat() for s in year_starts]
    with fiscal.warehouse.connect() as conn:
        for row, span in zip(result.rows, _spans(starts, result.period), strict=True):
            assert close(row.value, reference(conn, "bookings", *span))
        for row, span in zip(years.rows, _spans(year_starts, years.period), strict=True):
            assert close(row.value, reference(conn, "win_rate", *span))


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"by": ["month", "week"]}, "one time grain at a time"),
    ({"metric_id": "duplicate_rate", "by": ["month"]}, "cannot be broken down by month"),
    ({"metric_id": "duplicate_rate", "compare": "last_quarter"}, "compared with another"),
    ({"by": ["fortnight"]}, "day, week, month, quarter, year"),
    ({"period": "2020-01-01..2026-11-15", "by": ["day"]}, "at most 1,500"),
    ({"metric_id": "pipeline_velocity", "period": "2026", "by": ["day"]},
     "one day at a time"),
    ({"compare": "someday"}, "not a period"),
])
def test_grain_and_comparison_mistakes_are_refused_clearly(metric_engine, kwargs, words):
    asked = {"metric_id": "bookings", **kwargs}
    with pytest.raises(BadRequest, match=words):
        metric_engine.plan(**asked)


def _text(renderable) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


def test_every_surface_shows_the_interpretation_comparison_pace_and_time_rows(metric_engine):
    result = metric_engine.run(metric_engine.plan(
        "mql_count", "this_quarter", ["month"], {"region": ["EMEA", "APAC"]},
        compare="last_quarter"))
    line = ("MQL count · Q4 2026 (Oct 1 – Dec 31) · region in EMEA, APAC · by month · "
            "vs Q3 2026")
    assert result.interpretation == line
    shown = _text(render_result(result))
    months = [shown.index(f"2026-{m}-01") for m in ("10", "11", "12")]
    assert months == sorted(months)
    for words in (line, "vs Q3 2026", result.comparison.change_formatted,
                  "to date (of 1,500 for Q4 2026)", "region in EMEA, APAC"):
        assert words in shown
    assert line in _text(render_answer(Answer(kind="metric", name="MQL count", result=result)))
    answer = Answer(kind="metric", name="MQL count", result=result)
    slack = json.dumps([block.to_dict() for block in answer_blocks(
        answer, Asked(via="metric", text="mql by month"))], ensure_ascii=False)
    for words in (line, "vs Q3 2026", result.comparison.change_formatted, "to date",
                  "on track" if result.target.on_track else "off track", "2026-12-01"):
        assert words in slack
    assert answer_text(answer).startswith(line)


def test_the_metric_command_takes_a_grain_several_values_and_a_comparison(warehouse_url):
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "WAREHOUSE_URL": warehouse_url, "SSOT_AS_OF": AS_OF.isoformat(),
           "COLUMNS": "200"}
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ssot"), "metric", "bookings", "--by", "month",
         "--period", "2026-Q3", "--where", "region=EMEA,apac", "--where", "region=NA",
         "--compare", "2026-Q2", "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert [row["month"] for row in data["rows"]] == ["2026-07-01", "2026-08-01", "2026-09-01"]
    assert data["interpretation"] == ("Bookings · Q3 2026 (Jul 1 – Sep 30) · region in EMEA, "
                                      "APAC, NA · by month · vs Q2 2026")
    assert data["comparison"]["period"]["label"] == "Q2 2026"
    assert data["comparison"]["change_formatted"].endswith("%")
    assert sum(row["value"] for row in data["rows"]) == pytest.approx(data["value"])
