"""`ssot metrics`, `ssot metric` and `ssot sql` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AS_OF, ROOT

SSOT = str(Path(sys.executable).parent / "ssot")


@pytest.fixture(scope="module")
def env(warehouse_url) -> dict[str, str]:
    return {**os.environ, "WAREHOUSE_URL": warehouse_url, "SSOT_AS_OF": AS_OF.isoformat(),
            "COLUMNS": "200"}


def ssot(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SSOT, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300, check=False)


def test_metric_json_has_the_documented_shape(env):
    run = ssot(env, "metric", "pipeline_coverage", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert set(data) == {"metric", "value", "formatted", "period", "rows", "target", "sql",
                         "demo", "interpretation", "comparison"}
    assert data["interpretation"] == "Pipeline coverage · Q4 2026 (Oct 1 – Dec 31)"
    assert data["demo"] is False  # a configured warehouse
    assert data["period"] == {"start": "2026-10-01", "end": "2027-01-01"}
    assert data["formatted"].endswith("×") and data["value"] > 0
    assert data["target"]["value"] == 3.0 and isinstance(data["target"]["met"], bool)
    assert "quotas" in data["sql"] and "opportunities" in data["sql"]


def test_breakdown_and_filter_rows(env):
    run = ssot(env, "metric", "win_rate", "--period", "2026-Q3", "--by", "segment",
               "--where", "region=emea", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    segments = {row["segment"] for row in data["rows"]}
    assert {"SMB", "Mid-Market", "Enterprise"} <= segments
    assert all(0 <= row["value"] <= 1 for row in data["rows"] if row["value"] is not None)
    assert "'EMEA'" in data["sql"]


def test_readable_output_shows_value_period_target_and_sql(env):
    run = ssot(env, "metric", "mql_count", "--period", "2026-05")
    assert run.returncode == 0, run.stderr
    assert "MQL count:" in run.stdout and "May 2026" in run.stdout
    assert "target at least 500" in run.stdout and "SELECT" in run.stdout


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql", "snowflake", "bigquery"])
def test_sql_renders_for_each_dialect(env, dialect):
    run = ssot(env, "sql", "bookings", "--dialect", dialect, "--period", "last_quarter")
    assert run.returncode == 0, run.stderr
    assert "SUM(" in run.stdout.upper() and "2026-07-01" in run.stdout


def test_the_catalogue_lists_every_metric(env):
    run = ssot(env, "metrics")
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("\n") >= 21 and "pipeline_coverage" in run.stdout
    assert "restricted" in run.stdout


@pytest.mark.parametrize(("args", "code", "words"), [
    (["metric", "pipline_coverage"], 2, "Did you mean: pipeline_coverage"),
    (["metric", "win_rate", "--by", "colour"], 2, "allowed dimensions"),
    (["metric", "bookings", "--where", "region=Mars"], 2, "EMEA"),
    (["metric", "bookings", "--where", "region"], 2, "DIM=VALUE"),
    (["metric", "bookings", "--period", "someday"], 2, "2026-Q3"),
    (["metric", "bookings", "--as-of", "yesterday"], 2, "not a date"),
    (["sql", "bookings", "--dialect", "oracle"], 2, "unknown dialect"),
    (["metric", "cac"], 1, "restricted to #finance"),
    (["metric", "bookings", "--where", "region=EMEA' OR '1'='1"], 2, "is not a region"),
])
def test_bad_input_is_one_clear_line(env, args, code, words):
    run = ssot(env, *args)
    assert run.returncode == code, run.stdout + run.stderr
    assert words in run.stderr and "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0


def test_ask_routes_a_metric_question(env):
    run = ssot(env, "ask", "--json", "win rate by segment last quarter")
    answer = json.loads(run.stdout)
    assert answer["kind"] == "metric" and answer["id"] == "win_rate"
    assert answer["result"]["period"]["start"] == "2026-07-01"
    assert [r["dimensions"]["segment"] for r in answer["result"]["rows"]][:3] == [
        "Enterprise", "Mid-Market", "SMB"]


def test_ask_answers_a_restricted_metric_only_in_its_audience(env):
    outside = json.loads(ssot(env, "ask", "--json", "what is our cac last quarter").stdout)
    assert outside["result"] is None and "restricted" in outside["message"]
    inside = json.loads(ssot(env, "ask", "--json", "--group", "finance",
                             "what is our cac last quarter").stdout)
    assert inside["kind"] == "metric" and inside["result"]["value"] > 0


def test_a_breakdown_by_month_is_drawn_as_a_chart(env, tmp_path):
    chart = tmp_path / "bookings.png"
    run = ssot(env, "metric", "bookings", "--period", "this_year", "--by", "month",
               "--chart", str(chart), "--json")
    assert run.returncode == 0, run.stderr
    assert len(json.loads(run.stdout)["rows"]) == 12  # stdout stays the result alone
    assert f"chart written to {chart}" in run.stderr
    assert chart.read_bytes().startswith(b"\x89PNG") and chart.stat().st_size > 5_000
    total = ssot(env, "metric", "bookings", "--chart", str(tmp_path / "total.png"))
    assert total.returncode == 1 and "nothing to chart" in total.stderr
    assert not (tmp_path / "total.png").exists()
