"""Deals won, quota attainment, the billing metrics and the data-health metrics answer what their
definitions say: against hand-written SQL on the demo warehouse (DuckDB and PostgreSQL), and on
a small hand-made warehouse whose answers are worked out by hand."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pytest
import sqlalchemy as sa

from metrics.audience import Audience
from metrics.catalog import check_definitions, load_catalog
from metrics.demo_schema import TABLES, create_table_sql
from metrics.engine import MetricEngine
from metrics.errors import BadRequest
from metrics.periods import Calendar, resolve
from metrics.warehouse import open_warehouse
from tests.warehouse_support import close, postgres_warehouse

from conftest import AS_OF, ROOT
from reference_metrics import NEW_METRIC_DIMS, reference_value

FINANCE = Audience(groups=frozenset({"finance"}))
# The engine's moment of asking when its calendar is fixed to AS_OF: the end of that day.
ASKED = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time())
# (metric, period, breakdown, filters): every new metric broken down, several over a period
# still running on AS_OF (this quarter, this month, this year, year to date).
CASES = [
    ("deals_won", "this_quarter", "owner", {}),
    ("deals_won", "last_quarter", "type", {"region": ("EMEA", "APAC")}),
    ("quota_attainment", "last_quarter", "owner", {}),
    ("quota_attainment", "this_quarter", "region", {"segment": ("SMB", "Enterprise")}),
    ("mrr", "this_quarter", "segment", {}),
    ("arr", "ytd", "region", {"segment": ("Enterprise",)}),
    ("net_revenue_retention", "last 12 months", "segment", {}),
    ("net_revenue_retention", "this_quarter", "region", {}),
    ("gross_revenue_retention", "this_year", "segment", {"region": ("NA",)}),
    ("churn_rate", "this_quarter", "region", {}),
    ("churn_rate", "2025", "segment", {}),
    ("freshness", "this_quarter", "source_system", {}),
    ("freshness", "2026-05", "source_system", {}),
    ("sync_error_rate", "this_month", "source_system",
     {"target_system": ("data_warehouse", "crm")}),
    ("sync_error_rate", "last_quarter", "target_system", {}),
    ("match_rate", "this_quarter", "source", {}),
    ("stage_consistency_rate", None, "type", {"region": ("EMEA",)}),
]


def _engine(url: str, today: dt.date = AS_OF) -> MetricEngine:
    return MetricEngine(load_catalog(ROOT / "metrics" / "definitions"), open_warehouse(url),
                        lambda: Calendar(today))


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def engine(request, warehouse_url):
    if request.param == "duckdb":
        yield _engine(warehouse_url)
        return
    with postgres_warehouse(scale=3_000, seed=11, as_of=AS_OF) as url:
        yield _engine(url)


def test_every_new_metric_is_checked_here():
    assert {case[0] for case in CASES} == set(NEW_METRIC_DIMS)


@pytest.mark.parametrize(("metric", "period", "by", "where"), CASES,
                         ids=[f"{m}-{p}-{b}" for m, p, b, _ in CASES])
def test_new_metrics_match_hand_written_sql(engine, metric, period, by, where):
    result = engine.run(engine.plan(metric, period, [by], where, FINANCE))
    window = resolve(period or "this_quarter", Calendar(AS_OF))
    with engine.warehouse.connect() as conn:
        total = reference_value(conn, metric, window.start, window.end, where=where, now=ASKED)
        expected = reference_value(conn, metric, window.start, window.end, by=by, where=where,
                                   now=ASKED)
    assert close(result.value, total), (result.value, total)
    got = {row.dimensions[by]: row.value for row in result.rows}
    assert got.keys() == expected.keys()
    assert all(close(got[k], expected[k]) for k in got), (got, expected)
    assert len([v for v in got.values() if v is not None]) >= 2


def test_snapshots_of_a_running_period_are_taken_now_not_at_its_end(engine):
    """Billing holds lines that start after today and notices of ends after today: the MRR of
    this quarter is today's, which is what the quarter's hand-written SQL at its end is not."""
    quarter = resolve("this_quarter", Calendar(AS_OF))
    mrr = engine.run(engine.plan("mrr", "this_quarter")).value
    with engine.warehouse.connect() as conn:
        at_quarter_end = reference_value(conn, "mrr", quarter.start, quarter.end)
        now = reference_value(conn, "mrr", quarter.start, quarter.end, now=ASKED)
    assert close(mrr, now) and not close(mrr, at_quarter_end)
    assert close(engine.run(engine.plan("mrr", "today")).value, mrr)
    assert close(engine.run(engine.plan("arr", "this_quarter")).value, 12 * mrr)


@pytest.mark.parametrize("asked", ["next_quarter", "next month", "next_year"])
def test_a_snapshot_of_a_period_not_started_is_refused(metric_engine, asked):
    with pytest.raises(BadRequest, match="has not started yet: there is no value for it"):
        metric_engine.plan("arr", asked)
    assert metric_engine.plan("bookings", asked).period.start > AS_OF  # events: 0 so far


def test_new_metric_values_are_plausible(metric_engine):
    def value(metric: str, period: str | None = "last_quarter") -> float:
        return metric_engine.run(metric_engine.plan(metric, period)).value

    assert 0.9 <= value("net_revenue_retention", "last 12 months") <= 1.35
    assert 0.8 <= value("gross_revenue_retention", "last 12 months") <= 0.98
    assert 0.01 <= value("churn_rate", "last 12 months") <= 0.15
    assert value("gross_revenue_retention") <= value("net_revenue_retention")
    assert 0.7 <= value("match_rate") < 0.95  # below the 95% target: the KPI is red
    assert 0.98 <= value("stage_consistency_rate", None) < 1
    assert 0.0005 <= value("sync_error_rate") <= 0.005
    assert value("deals_won") > 100
    assert 0.6 <= value("quota_attainment") <= 1.6
    # The billing load has been failing for five hours at the end of the history.
    by_source = metric_engine.run(metric_engine.plan("freshness", "today", ["source_system"]))
    hours = {row.dimensions["source_system"]: row.value for row in by_source.rows}
    assert hours["billing"] > 5 and hours["crm"] < 0.5 and by_source.value == hours["billing"]


# ---- a hand-made warehouse: every answer below is worked out by hand ----

ACCOUNTS = [(1, "SMB", "NA"), (2, "SMB", "EMEA"), (3, "Enterprise", "NA"),
            (4, "Enterprise", "EMEA"), (5, "SMB", "NA")]
# (id, account, start, end (first day not running), mrr)
SUBSCRIPTIONS = [
    (1, 1, "2025-01-10", None, 1000),          # a customer all along
    (2, 1, "2026-08-01", None, 500),           # ... that expands in Q3
    (3, 2, "2025-03-01", "2026-07-01", 2000),  # last day June 30: lost in Q3
    (4, 3, "2024-06-01", "2026-09-01", 3000),  # steps down in Q3 ...
    (5, 3, "2026-09-01", "2026-12-15", 2000),  # ... and has given notice for December 15
    (6, 4, "2026-07-15", None, 4000),          # a new customer in Q3
    (7, 5, "2026-02-01", "2026-11-01", 500),   # lost in Q4, before today (November 15) ...
    (8, 5, "2026-11-20", None, 800),           # ... and signed again, starting after today
]
USERS = [(1, "Ann Lee", "NA", "SMB"), (2, "Bob Ray", "EMEA", "SMB")]
QUOTAS = [(1, "2026-07-01", 10_000), (2, "2026-07-01", 20_000)]
# (id, owner, close_date, stage, amount, is_closed, is_won); segment, region and type as below
OPPORTUNITIES = [
    (1, 1, "2026-08-10", "Closed Won", 12_000, True, True),
    (2, 2, "2026-09-01", "Closed Won", 5_000, True, True),
    (3, 2, "2026-09-05", "Closed Lost", 9_000, True, False),
    (4, 1, "2026-12-20", "Proposal", 7_000, False, False),
    (5, 1, "2026-09-20", "Closed Lost", 3_000, True, False),
]
# (opportunity, order, stage, entered_at)
HISTORY = [
    (1, 1, "Discovery", "2026-06-01"), (1, 2, "Negotiation", "2026-07-20"),
    (1, 3, "Closed Won", "2026-08-10"),
    # reopened after Closed Won: breaks the rules
    (2, 1, "Proposal", "2026-06-01"), (2, 2, "Closed Won", "2026-07-01"),
    (2, 3, "Negotiation", "2026-07-10"), (2, 4, "Closed Won", "2026-09-01"),
    # reopened 30 days after Closed Lost: allowed
    (3, 1, "Solution", "2026-05-01"), (3, 2, "Closed Lost", "2026-06-01"),
    (3, 3, "Proposal", "2026-07-01"), (3, 4, "Closed Lost", "2026-09-05"),
    # reopened 120 days after Closed Lost: breaks the rules
    (4, 1, "Discovery", "2026-03-01"), (4, 2, "Closed Lost", "2026-04-01"),
    (4, 3, "Proposal", "2026-07-30"),
    # Closed Lost twice: breaks the rules
    (5, 1, "Qualification", "2026-08-01"), (5, 2, "Closed Lost", "2026-09-01"),
    (5, 3, "Closed Lost", "2026-09-20"),
]
# (run, source, target, finished_at, status, sent, failed)
SYNC_RUNS = [
    (1, "crm", "data_warehouse", "2026-11-15 23:40:00", "success", 1000, 2),
    (2, "billing", "data_warehouse", "2026-11-15 18:00:00", "success", 100, 0),
    (3, "billing", "data_warehouse", "2026-11-15 23:00:00", "failed", 0, 0),
    (4, "marketing_automation", "data_warehouse", "2026-11-15 23:05:00", "success", 300, 0),
    (5, "marketing_automation", "crm", "2026-11-15 23:55:00", "success", 400, 4),
    (6, "crm", "data_warehouse", "2026-10-31 22:00:00", "success", 500, 1),
]
# (marketing contact, source, created_at, linked CRM contact, link status)
MARKETING = [(1, "form", "2026-10-02", 10, "confirmed"), (2, "form", "2026-10-03", 11,
                                                          "pending_review"),
             (3, "list_import", "2026-10-04", 99, "confirmed"),  # its CRM contact is gone
             (4, "list_import", "2026-10-05", None, None), (5, "form", "2026-06-01", 10,
                                                             "confirmed")]


@pytest.fixture(scope="module")
def known(tmp_path_factory) -> MetricEngine:
    path = tmp_path_factory.mktemp("known") / "known.duckdb"
    with duckdb.connect(str(path)) as con:
        for table in TABLES:
            con.execute(create_table_sql(table, "duckdb"))
        fill = {
            "accounts (account_id, segment, region)": ACCOUNTS,
            "subscriptions (subscription_id, account_id, start_date, end_date, mrr)":
                SUBSCRIPTIONS,
            "users (user_id, name, region, segment)": USERS,
            "quotas (owner_id, period_start, amount)": QUOTAS,
            "opportunities (opportunity_id, owner_id, close_date, stage, amount, is_closed, "
            "is_won)": OPPORTUNITIES,
            "opportunity_stage_history (opportunity_id, stage_order, stage, entered_at)":
                HISTORY,
            "sync_runs (sync_run_id, source_system, target_system, finished_at, status, "
            "records_sent, records_failed)": SYNC_RUNS,
            "contacts (contact_id)": [(10,), (11,)],
            "ma_contacts (ma_contact_id, source, created_at)": [m[:3] for m in MARKETING],
            "identity_map (ma_contact_id, crm_contact_id, status)":
                [(m[0], m[3], m[4]) for m in MARKETING if m[3]],
        }
        for into, rows in fill.items():
            marks = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO {into} VALUES ({marks})", rows)
        con.execute("UPDATE sync_runs SET started_at = finished_at - INTERVAL 5 MINUTE")
        con.execute("UPDATE opportunities SET segment = 'SMB', region = 'NA', "
                    "type = 'new_business'")
        con.execute("INSERT INTO source_systems VALUES ('crm', 'CRM', 15), "
                    "('billing', 'Billing', 60), ('marketing_automation', 'MA', 60)")
    engine = _engine(f"duckdb:///{path}", today=AS_OF)
    yield engine
    engine.warehouse.dispose()


def _value(engine: MetricEngine, metric: str, period: str | None = "2026-Q3",
           by: str | None = None) -> float | dict:
    result = engine.run(engine.plan(metric, period, [by] if by else []))
    if by:
        return {row.dimensions[by]: row.value for row in result.rows}
    return result.value


def test_billing_metrics_on_known_subscriptions(known):
    # Q3: customers at its start are accounts 1, 2, 3, 5 with 1,000 + 2,000 + 3,000 + 500.
    assert _value(known, "mrr") == 1_500 + 2_000 + 4_000 + 500
    assert _value(known, "mrr", by="segment") == {"Enterprise": 6_000, "SMB": 2_000}
    assert _value(known, "arr") == 8_000 * 12
    assert _value(known, "net_revenue_retention") == pytest.approx(4_000 / 6_500)
    assert _value(known, "gross_revenue_retention") == pytest.approx(3_500 / 6_500)
    assert _value(known, "churn_rate") == pytest.approx(1 / 4)
    # This quarter, asked on November 15: account 5 has left and not started again yet, and
    # account 3's notice for December 15 has not taken effect.
    assert _value(known, "mrr", "this_quarter") == 1_500 + 2_000 + 4_000
    assert _value(known, "net_revenue_retention", "this_quarter") == pytest.approx(7_500 / 8_000)
    assert _value(known, "churn_rate", "this_quarter") == pytest.approx(1 / 4)
    # A quarter that has not started has no snapshot yet, rather than today's.
    for metric in ("churn_rate", "mrr"):
        with pytest.raises(BadRequest, match="Q1 2027 has not started yet"):
            _value(known, metric, "next_quarter")
    assert _value(known, "mrr", "this_year", by="month")["2026-12-01"] is None
    assert _value(known, "mrr", "this_year", by="month")["2026-11-01"] == 7_500


def test_sales_metrics_on_known_deals(known):
    assert _value(known, "deals_won") == 2
    assert _value(known, "deals_won", by="owner") == {"Ann Lee": 1, "Bob Ray": 1}
    assert _value(known, "quota_attainment") == pytest.approx(17_000 / 30_000)
    assert _value(known, "quota_attainment", by="owner") == {
        "Ann Lee": pytest.approx(1.2), "Bob Ray": pytest.approx(0.25)}
    # Deals 1 and 3 follow the stage rules; 2 was reopened after Closed Won, 4 reopened 120
    # days after Closed Lost and 5 went from Closed Lost to Closed Lost.
    assert _value(known, "stage_consistency_rate", None) == pytest.approx(2 / 5)


def test_data_health_metrics_on_known_runs(known):
    hours = _value(known, "freshness", "today", by="source_system")
    assert hours == {"billing": pytest.approx(6.0), "crm": pytest.approx(20 / 60),
                     "marketing_automation": pytest.approx(55 / 60)}
    assert _value(known, "freshness", "today") == pytest.approx(6.0)  # the stalest source
    assert _value(known, "freshness", "2026-10", by="source_system") == {
        "crm": pytest.approx(2.0)}
    assert _value(known, "sync_error_rate", "today", by="source_system") == {
        "billing": 0.0, "crm": pytest.approx(2 / 1000),
        "marketing_automation": pytest.approx(4 / 700)}
    # Only the confirmed link to a CRM contact that exists counts.
    assert _value(known, "match_rate", "this_quarter") == pytest.approx(1 / 4)


@pytest.mark.parametrize(("old", "new", "field", "words"), [
    ("  expr: end_mrr\n", "  expr: end_mrr\n  time: start_date\n", "numerator.time",
     "'customers_at_period_start' is computed for the asked period already"),
    ("  table: customers_at_period_start\n  agg: sum\n  expr: end_mrr",
     "  table: customer_at_period_start\n  agg: sum\n  expr: end_mrr", "numerator.table",
     "tables: accounts, campaigns, contacts, customers_at_period_start"),
    ("  expr: end_mrr\n", "  expr: ending_mrr\n", "numerator.expr",
     "table 'customers_at_period_start' has no column 'ending_mrr'"),
])
def test_period_table_mistakes_name_file_line_and_field(tmp_path, old, new, field, words):
    target = tmp_path / "metrics" / "definitions"
    shutil.copytree(ROOT / "metrics" / "definitions", target)
    path = target / "net_revenue_retention.yml"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    catalog, issues = check_definitions(target)
    assert catalog is None
    before, after = text.splitlines(), path.read_text().splitlines()
    changed = next(i for i, (a, b) in enumerate(zip(before, after, strict=False), 1)
                   if a != b)
    assert [(i.field, i.line) for i in issues if words in i.message] == [(field, changed)]
    assert all(i.path == "metrics/definitions/net_revenue_retention.yml" for i in issues)


def test_billing_follows_won_opportunities(metric_engine):
    """Billing is the system of record for revenue, and it agrees with the CRM's wins."""
    with metric_engine.warehouse.connect() as con:
        def one(sql: str):
            return con.execute(sa.text(sql)).scalar_one()

        # every first line is a won new-business or expansion deal of the same account,
        # starting 0-14 days after it closed, at a twelfth of its amount
        assert one("""SELECT count(*) FROM subscriptions s JOIN opportunities o USING
                      (opportunity_id) WHERE s.subscription_id % 2 = 0 AND NOT (
                      o.is_won AND o.type IN ('new_business', 'expansion')
                      AND o.account_id = s.account_id
                      AND (o.close_date IS NULL OR s.start_date - o.close_date BETWEEN 0 AND 14)
                      AND (o.amount IS NULL OR s.mrr = round(o.amount / 12, 2)))""") == 0
        assert one("""SELECT count(*) FROM opportunities WHERE is_won AND type <> 'renewal'
                      AND opportunity_id NOT IN (SELECT opportunity_id FROM subscriptions)""") == 0
        assert one("SELECT count(*) FROM subscriptions WHERE end_date <= start_date") == 0
        # a step-down continues its line the day it ends, smaller
        assert one("""SELECT count(*) FROM subscriptions a JOIN subscriptions b
                      ON b.subscription_id = a.subscription_id + 1
                      WHERE a.subscription_id % 2 = 0
                        AND (b.start_date <> a.end_date OR b.mrr >= a.mrr)""") == 0
        # stage history is numbered 1, 2, 3, ... for every opportunity
        assert one("""SELECT count(*) FROM (SELECT opportunity_id FROM opportunity_stage_history
                      GROUP BY 1 HAVING max(stage_order) <> count(*))""") == 0
        # every link points at a CRM contact with the same e-mail, case aside
        assert one("""SELECT count(*) FROM identity_map i JOIN ma_contacts m USING
                      (ma_contact_id) JOIN contacts c ON c.contact_id = i.crm_contact_id
                      WHERE c.email IS NOT NULL AND lower(c.email) <> lower(m.email)""") == 0
        assert one("""SELECT count(*) FROM sync_runs WHERE status = 'failed'
                      AND records_sent > 0""") == 0
        assert one("SELECT count(DISTINCT name) = count(*) FROM users")
