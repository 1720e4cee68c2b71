"""The demo warehouse as its users meet it: real DuckDB files, the real `ssot` command, real
PostgreSQL, and the hand-written reference metrics computed on what was generated."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import create_engine, text

from metrics.demo_data import ensure_warehouse, generate
from metrics.demo_target import BadRequest, GenerationFailed
from tests.conftest import ROOT
from tests.reference_metrics import REFERENCE_METRICS, reference_value

AS_OF = dt.date(2026, 11, 28)
QUARTER = (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
SSOT = str(Path(sys.executable).parent / "ssot")

# The contract of issue 3, written out independently of metrics/demo_schema.py.
CONTRACT = {
    "accounts": {"account_id": None, "name": "VARCHAR", "domain": "VARCHAR",
                 "segment": "VARCHAR", "region": "VARCHAR", "industry": "VARCHAR",
                 "created_at": "TIMESTAMP"},
    "users": {"user_id": None, "name": "VARCHAR", "team": "VARCHAR", "region": "VARCHAR",
              "segment": "VARCHAR"},
    "contacts": {"contact_id": None, "account_id": None, "email": "VARCHAR",
                 "first_name": "VARCHAR", "last_name": "VARCHAR", "title": "VARCHAR",
                 "created_at": "TIMESTAMP", "source_system": "VARCHAR"},
    "campaigns": {"campaign_id": None, "name": "VARCHAR", "channel": "VARCHAR",
                  "start_date": "DATE", "end_date": "DATE", "cost": "DECIMAL(18,2)"},
    "leads": {"lead_id": None, "contact_id": None, "account_id": None, "campaign_id": None,
              "source": "VARCHAR", "created_at": "TIMESTAMP", "mql_at": "TIMESTAMP",
              "sql_at": "TIMESTAMP", "first_follow_up_at": "TIMESTAMP",
              "converted_opportunity_id": None},
    "touches": {"touch_id": None, "contact_id": None, "account_id": None, "campaign_id": None,
                "touched_at": "TIMESTAMP", "channel": "VARCHAR", "kind": "VARCHAR"},
    "opportunities": {"opportunity_id": None, "account_id": None, "owner_id": None,
                      "created_at": "TIMESTAMP", "close_date": "DATE", "stage": "VARCHAR",
                      "amount": "DECIMAL(18,2)", "is_closed": "BOOLEAN", "is_won": "BOOLEAN",
                      "source": "VARCHAR", "type": "VARCHAR", "segment": "VARCHAR",
                      "region": "VARCHAR"},
    "opportunity_stage_history": {"opportunity_id": None, "stage": "VARCHAR",
                                  "entered_at": "TIMESTAMP"},
    "quotas": {"owner_id": None, "period_start": "DATE", "period_end": "DATE",
               "amount": "DECIMAL(18,2)"},
    "spend": {"month": "DATE", "team": "VARCHAR", "amount": "DECIMAL(18,2)"},
    # Billing, marketing automation, identity resolution and the sync log.
    "subscriptions": {"subscription_id": None, "account_id": None, "opportunity_id": None,
                      "start_date": "DATE", "end_date": "DATE", "mrr": "DECIMAL(18,2)"},
    "ma_contacts": {"ma_contact_id": None, "email": "VARCHAR", "source": "VARCHAR",
                    "created_at": "TIMESTAMP"},
    "identity_map": {"ma_contact_id": None, "crm_contact_id": None, "status": "VARCHAR",
                     "matched_at": "TIMESTAMP"},
    "source_systems": {"source_system": "VARCHAR", "name": "VARCHAR",
                       "load_every_minutes": "INTEGER"},
    "sync_runs": {"sync_run_id": None, "source_system": "VARCHAR", "target_system": "VARCHAR",
                  "started_at": "TIMESTAMP", "finished_at": "TIMESTAMP", "status": "VARCHAR",
                  "records_sent": None, "records_failed": None},
}
KEY_TYPES = {"BIGINT", "INTEGER", "VARCHAR"}


def checksums(path: Path) -> dict[str, tuple[int, int]]:
    """Per table: row count and an order-independent sum of row hashes."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*), sum(hash({t})) FROM {t}").fetchone()
                for t in CONTRACT}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    """The default-size (20,000 opportunities) warehouse, shared by read-only tests."""
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    generate(path, as_of=AS_OF)
    return path


@pytest.fixture(scope="module")
def conn(warehouse):
    engine = create_engine(f"duckdb:///{warehouse}", connect_args={"read_only": True})
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def test_same_request_same_data_other_seed_other_data(tmp_path):
    first, again, other = (tmp_path / n for n in ("a.duckdb", "b.duckdb", "c.duckdb"))
    generate(first, scale=3000, seed=5, as_of=AS_OF)
    generate(f"duckdb:///{again}", scale=3000, seed=5, as_of=AS_OF)
    generate(other, scale=3000, seed=6, as_of=AS_OF)
    assert checksums(first) == checksums(again)
    differs = {t for t, value in checksums(other).items() if value != checksums(first)[t]}
    assert {"accounts", "contacts", "opportunities", "leads", "touches", "subscriptions",
            "ma_contacts", "sync_runs"} <= differs


def test_contract_tables_and_types(conn):
    for table, columns in CONTRACT.items():
        actual = dict(conn.execute(text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = :t"), {"t": table}).all())
        for column, expected in columns.items():
            assert column in actual, f"{table}.{column} is missing"
            wanted = {expected} if expected else KEY_TYPES
            assert actual[column] in wanted, f"{table}.{column} is {actual[column]}"


def test_volumes_and_shape(conn):
    one = lambda sql: conn.execute(text(sql)).scalar_one()  # noqa: E731
    assert one("SELECT count(*) FROM opportunities") == 20_000
    assert 1_500 <= one("SELECT count(*) FROM accounts") <= 4_000
    assert one("SELECT count(*) FROM leads") > 20_000
    # one quota per seller per quarter, and only sellers have quotas
    assert one("SELECT count(*) FROM (SELECT owner_id, period_start FROM quotas "
               "GROUP BY 1, 2 HAVING count(*) > 1)") == 0
    assert one("SELECT count(*) FROM quotas q JOIN users u ON u.user_id = q.owner_id "
               "WHERE u.team <> 'sales'") == 0
    # stage history ends in the opportunity's own stage
    assert one("SELECT count(*) FROM opportunities o WHERE o.stage <> (SELECT h.stage FROM "
               "opportunity_stage_history h WHERE h.opportunity_id = o.opportunity_id "
               "ORDER BY h.entered_at DESC, h.stage_order DESC LIMIT 1)") == 0
    # closed deals closed by the as-of date; open ones expected in this or later quarters
    assert one("SELECT max(close_date) FROM opportunities WHERE is_closed") <= AS_OF
    assert one(f"SELECT count(*) FROM opportunities WHERE NOT is_closed "
               f"AND close_date >= DATE '{QUARTER[1]}'") > 100
    sizes = dict(conn.execute(text(
        "SELECT segment, avg(amount) FROM opportunities WHERE is_won GROUP BY 1")).all())
    assert sizes["Enterprise"] > 3 * sizes["Mid-Market"] > 3 * sizes["SMB"]


def test_quarter_end_seasonality(conn):
    by_month = dict(conn.execute(text(
        "SELECT month(close_date) % 3, count(*) FROM opportunities WHERE is_closed "
        "GROUP BY 1")).all())
    assert by_month[0] > 1.5 * by_month[1] and by_month[0] > 1.5 * by_month[2]


def test_imperfections_make_data_quality_metrics_non_trivial(conn):
    duplicates = reference_value(conn, "duplicate_rate", *QUARTER)
    complete = reference_value(conn, "opportunity_completeness", *QUARTER)
    assert 0.03 <= duplicates <= 0.06
    assert 0.90 <= complete <= 0.98
    one = lambda sql: conn.execute(text(sql)).scalar_one()  # noqa: E731
    assert one(f"SELECT count(*) FROM opportunities WHERE NOT is_closed "
               f"AND close_date < DATE '{AS_OF}'") > 50
    assert one("SELECT count(*) FROM leads WHERE campaign_id IS NULL "
               "AND source <> 'outbound'") > 100
    same_but_case = one("SELECT count(*) FROM contacts a JOIN contacts b "
                        "ON lower(a.email) = lower(b.email) AND a.email <> b.email")
    assert same_but_case > 100


def test_every_metric_has_a_plausible_reference_value_this_quarter(conn):
    values = {m: reference_value(conn, m, *QUARTER) for m in REFERENCE_METRICS}
    assert all(v is not None for v in values.values()), values
    for rate in ("win_rate", "mql_to_sql_conversion_rate", "lead_to_customer_conversion_rate",
                 "lead_handoff_sla_attainment"):
        assert 0 < values[rate] < 1, (rate, values[rate])
    assert 0.15 <= values["win_rate"] <= 0.40
    assert 0.40 <= values["mql_to_sql_conversion_rate"] <= 0.60
    assert 0.70 <= values["lead_handoff_sla_attainment"] <= 0.90
    assert 800 <= values["mql_count"] <= 3_000
    assert 1.5 <= values["pipeline_coverage"] <= 4.5
    assert 5_000 <= values["average_deal_size"] <= 15_000
    assert 20 <= values["sales_cycle_length"] <= 120
    assert 500 <= values["cac"] <= 3_000
    assert 25_000 <= values["clv"] <= 80_000
    assert 0 < values["marketing_originated_revenue"] < values["bookings"]
    assert 0 < values["marketing_influenced_revenue"] <= values["bookings"]
    assert values["pipeline_velocity"] > 0


def test_reference_breakdowns_and_filters_agree_with_the_total(conn):
    by_segment = reference_value(conn, "bookings", *QUARTER, by="segment")
    assert {"SMB", "Mid-Market", "Enterprise"} <= set(by_segment)
    total = reference_value(conn, "bookings", *QUARTER)
    assert sum(v for v in by_segment.values() if v) == pytest.approx(total)
    emea = reference_value(conn, "mql_count", *QUARTER, where={"region": "EMEA"})
    assert emea == reference_value(conn, "mql_count", *QUARTER, by="region")["EMEA"]
    cells = reference_value(conn, "pipeline_coverage", *QUARTER, by=("segment", "region"))
    assert cells[("Enterprise", "NA")] > 0
    with pytest.raises(ValueError, match="no dimension"):
        reference_value(conn, "cac", *QUARTER, by="segment")


def test_failed_run_leaves_the_previous_warehouse_untouched(tmp_path):
    path = tmp_path / "w.duckdb"
    generate(path, scale=500, seed=1, as_of=AS_OF)
    before = checksums(path)

    def interrupt(table: str, done: int, total: int) -> None:
        if table == "leads":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        generate(path, scale=800, seed=2, as_of=AS_OF, on_progress=interrupt)
    assert checksums(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.duckdb"]


def test_bad_requests_are_refused_before_anything_is_written(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(BadRequest, match="scale"):
        generate(tmp_path / "a.duckdb", scale=0, as_of=AS_OF)
    with pytest.raises(BadRequest, match="unsupported"):
        generate("mysql://localhost/x", as_of=AS_OF)
    with pytest.raises(GenerationFailed, match="cannot write"):
        generate(blocker / "w.duckdb", scale=10, as_of=AS_OF)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_ensure_warehouse_generates_only_when_absent(tmp_path):
    path = tmp_path / "var" / "warehouse.duckdb"
    assert ensure_warehouse(f"duckdb:///{path}", AS_OF, scale=300) == path
    stamp = path.stat().st_mtime_ns
    assert ensure_warehouse(path, AS_OF, scale=300) == path
    assert path.stat().st_mtime_ns == stamp


def ssot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([SSOT, *args], capture_output=True, cwd=ROOT, timeout=300,
                          check=False, env={**os.environ, "COLUMNS": "200", **(env or {})})


def test_cli_writes_the_warehouse_and_reports_rows(tmp_path):
    out = tmp_path / "demo.duckdb"
    done = ssot("demo-data", "--scale", "2000", "--out", str(out), "--as-of", "2026-09-30")
    assert done.returncode == 0, done.stderr
    report = done.stdout.decode()
    assert "opportunities" in report and "2,000" in report and "as of 2026-09-30" in report
    with duckdb.connect(str(out), read_only=True) as con:
        assert con.execute("SELECT max(close_date) FROM opportunities WHERE is_closed"
                           ).fetchone()[0] <= dt.date(2026, 9, 30)


def test_cli_defaults_to_the_configured_warehouse(tmp_path):
    out = tmp_path / "configured.duckdb"
    done = ssot("demo-data", "--scale", "300",
                env={"WAREHOUSE_URL": f"duckdb:///{out}", "SSOT_AS_OF": "2026-05-31"})
    assert done.returncode == 0, done.stderr
    assert out.is_file() and "as of 2026-05-31" in done.stdout.decode()


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--scale", "0"], 2, "scale must be"),
    (["--scale", "lots"], 2, "--scale must be a whole number"),
    (["--as-of", "2026-13-45"], 2, "--as-of must be a date"),
    (["--out", "postgresql://"], 2, "malformed PostgreSQL URL"),
    (["--out", "ftp://example.com/w"], 2, "unsupported output"),
    (["--out", "postgresql://postgres@127.0.0.1:1/test"], 1, "cannot reach PostgreSQL"),
    (["--out", "{tmp}/file.txt/w.duckdb"], 1, "cannot write"),
])
def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path, args, code, message):
    (tmp_path / "file.txt").write_text("x")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "w.duckdb")]
    done = ssot("demo-data", "--scale", "50", *args)
    assert done.returncode == code, done.stderr
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set (e.g. postgresql+psycopg://postgres@"
                    "127.0.0.1:5432/test)")
    schema = f"demo_{uuid.uuid4().hex[:10]}"
    sep = "&" if "?" in url else "?"
    yield f"{url}{sep}options=-csearch_path%3D{schema}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def test_postgres_gets_the_same_data_and_the_same_metric_values(tmp_path, postgres_url):
    local = tmp_path / "w.duckdb"
    generate(local, scale=2500, seed=9, as_of=AS_OF)
    report = generate(postgres_url, scale=2500, seed=9, as_of=AS_OF)
    duck = create_engine(f"duckdb:///{local}", connect_args={"read_only": True})
    pg = create_engine(postgres_url)
    checks = [("bookings", None), ("win_rate", None), ("mql_count", "segment"),
              ("pipeline_coverage", "segment"), ("marketing_influenced_revenue", None),
              ("lead_handoff_sla_attainment", "source"), ("duplicate_rate", None),
              ("sales_cycle_length", None), ("cac", None)]
    with duck.connect() as d, pg.connect() as p:
        for table, rows in report.rows.items():
            assert p.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == rows
            assert d.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == rows
        for metric, by in checks:
            here = reference_value(d, metric, *QUARTER, by=by)
            there = reference_value(p, metric, *QUARTER, by=by)
            assert there == pytest.approx(here), metric
    duck.dispose()
    pg.dispose()


def test_failed_postgres_load_leaves_the_previous_tables(postgres_url):
    generate(postgres_url, scale=300, seed=1, as_of=AS_OF)
    pg = create_engine(postgres_url)
    count = "SELECT count(*) FROM opportunities"
    with pg.connect() as p:
        before = p.execute(text(count)).scalar_one()

    def interrupt(table: str, done: int, total: int) -> None:
        if table == "postgres:leads":
            raise RuntimeError("stopped mid-load")

    with pytest.raises(RuntimeError, match="mid-load"):
        generate(postgres_url, scale=600, seed=2, as_of=AS_OF, on_progress=interrupt)
    with pg.connect() as p:
        assert p.execute(text(count)).scalar_one() == before == 300
    pg.dispose()
