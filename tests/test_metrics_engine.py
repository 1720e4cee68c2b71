"""Every governed metric returns what its meaning gives, checked against hand-written SQL on the
same demo warehouse, on DuckDB and on the real PostgreSQL service."""

from __future__ import annotations

import datetime as dt

import pytest

from metrics.audience import Audience
from metrics.catalog import load_catalog
from metrics.engine import MetricEngine
from metrics.periods import Calendar, resolve
from metrics.warehouse import open_warehouse
from tests.warehouse_support import close, postgres_warehouse

from conftest import AS_OF, ROOT
from reference_metrics import REFERENCE_METRICS, reference_value

FINANCE = Audience(groups=frozenset({"finance"}))
# The engine's moment of asking when its calendar is fixed to AS_OF: the end of that day.
ASKED = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
PERIODS = ["this_quarter", "last_quarter", "2026-05", "ytd", "2025-01-01..2025-12-31"]
# Where the period before each one starts, written out by hand: a month, quarter or year is
# compared with the one before it; anything else with as many days just before.
PREVIOUS = {"this_quarter": dt.date(2026, 7, 1), "last_quarter": dt.date(2026, 4, 1),
            "2026-05": dt.date(2026, 4, 1), "ytd": dt.date(2026, 1, 1) - dt.timedelta(days=319),
            "2025-01-01..2025-12-31": dt.date(2024, 1, 2)}
BREAKDOWNS = [
    ("win_rate", "segment", {}), ("bookings", "region", {}), ("mql_count", "source", {}),
    ("mql_to_sql_conversion_rate", "segment", {}), ("pipeline_coverage", "segment", {}),
    ("lead_handoff_sla_attainment", "region", {}), ("revenue_growth_rate", "type", {}),
    ("pipeline_velocity", "segment", {}), ("sales_cycle_length", "source", {}),
    ("bookings", None, {"region": "EMEA"}), ("win_rate", "segment", {"region": "EMEA"}),
    ("mql_count", None, {"source": "inbound"}), ("pipeline_coverage", None, {"region": "NA"}),
    ("lead_to_customer_conversion_rate", "source", {"segment": "Enterprise"}),
    ("marketing_influenced_revenue", "type", {"segment": "SMB"}),
    ("clv", "region", {}),
]


def _engine(url: str) -> MetricEngine:
    return MetricEngine(load_catalog(ROOT / "metrics" / "definitions"), open_warehouse(url),
                        lambda: Calendar(AS_OF))


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def engine(request, warehouse_url, tmp_path_factory):
    if request.param == "duckdb":
        yield _engine(warehouse_url)
        return
    with postgres_warehouse(scale=5_000, seed=7, as_of=AS_OF) as url:
        yield _engine(url)


def test_every_required_metric_has_a_reference():
    catalog = load_catalog(ROOT / "metrics" / "definitions")
    assert {m.id for m in catalog} == set(REFERENCE_METRICS)


@pytest.mark.parametrize("period", PERIODS)
def test_each_metric_matches_its_hand_written_sql(engine, period):
    window = resolve(period, Calendar(AS_OF))
    wrong = []
    with engine.warehouse.connect() as conn:
        for metric in engine.catalog:
            result = engine.run(engine.plan(metric.id, period, audience=FINANCE))
            expected = reference_value(conn, metric.id, window.start, window.end,
                                       previous_start=PREVIOUS[period], now=ASKED)
            if not close(result.value, expected):
                wrong.append((metric.id, result.value, expected))
    assert wrong == []


@pytest.mark.parametrize(("period", "previous"), [
    ("2026-Q2", (dt.date(2026, 1, 1), dt.date(2026, 4, 1))),   # a quarter: Q1
    ("2026-05", (dt.date(2026, 4, 1), dt.date(2026, 5, 1))),   # a month: April
    ("2025", (dt.date(2024, 1, 1), dt.date(2025, 1, 1))),      # a year: the year before
    ("2026-01-10..2026-02-08", (dt.date(2025, 12, 11), dt.date(2026, 1, 10))),  # 30 days
])
def test_growth_compares_with_the_period_before_of_the_same_grain(engine, period, previous):
    result = engine.run(engine.plan("revenue_growth_rate", period))
    window = resolve(period, Calendar(AS_OF))
    with engine.warehouse.connect() as conn:
        now = reference_value(conn, "bookings", window.start, window.end)
        before = reference_value(conn, "bookings", *previous)
        growth = reference_value(conn, "revenue_growth_rate", window.start, window.end,
                                 previous_start=previous[0])
    assert close(result.value, now / before - 1) and close(result.value, growth)


@pytest.mark.parametrize(("metric", "by", "where"), BREAKDOWNS,
                         ids=[f"{m}-{b}-{w}" for m, b, w in BREAKDOWNS])
def test_breakdowns_and_filters_match_hand_written_sql(engine, metric, by, where):
    window = resolve("last_quarter", Calendar(AS_OF))
    plan = engine.plan(metric, "last_quarter", [by] if by else [], where, FINANCE)
    result = engine.run(plan)
    with engine.warehouse.connect() as conn:
        before = PREVIOUS["last_quarter"]
        expected = reference_value(conn, metric, window.start, window.end, by=by,
                                   where=plan.where, previous_start=before)
        total = reference_value(conn, metric, window.start, window.end, where=plan.where,
                                previous_start=before)
    assert close(result.value, total)
    if by:
        got = {row.dimensions[by]: row.value for row in result.rows}
        assert got.keys() == expected.keys()
        assert all(close(got[k], expected[k]) for k in got), (got, expected)
        assert len(got) >= 2


def test_values_that_matter_to_people_are_plausible(engine):
    run = {m: engine.run(engine.plan(m, "last_quarter", audience=FINANCE)).value
           for m in ("win_rate", "duplicate_rate", "opportunity_completeness", "bookings")}
    assert 0 < run["win_rate"] < 1
    assert 0 < run["duplicate_rate"] < 0.5
    assert 0.5 < run["opportunity_completeness"] < 1
    assert run["bookings"] > 0
