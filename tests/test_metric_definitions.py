"""Metric definitions are governed content: validated with file, line and field, and in step
with the glossary."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.loading import load_directory
from metrics.catalog import check_definitions

ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS = ROOT / "metrics" / "definitions"
REQUIRED = {
    "mql_count", "sql_count", "mql_to_sql_conversion_rate", "lead_to_customer_conversion_rate",
    "bookings", "win_rate", "average_deal_size", "sales_cycle_length", "open_pipeline",
    "pipeline_coverage", "pipeline_velocity", "revenue_growth_rate", "cac", "clv",
    "ltv_cac_ratio", "marketing_originated_revenue", "marketing_influenced_revenue",
    "lead_handoff_sla_attainment", "duplicate_rate", "opportunity_completeness",
    "deals_won", "quota_attainment", "mrr", "arr", "net_revenue_retention",
    "gross_revenue_retention", "churn_rate", "match_rate", "freshness", "sync_error_rate",
    "stage_consistency_rate",
}


@pytest.fixture(scope="module")
def terms():
    return {t.id: t for t in load_directory(ROOT / "glossary_docs").terms}


@pytest.fixture
def defs(tmp_path: Path) -> Path:
    target = tmp_path / "metrics" / "definitions"
    shutil.copytree(DEFINITIONS, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_the_shipped_definitions_are_valid_and_cover_every_required_metric(terms):
    catalog, issues = check_definitions(DEFINITIONS, terms)
    assert issues == []
    assert {m.id for m in catalog} == REQUIRED
    assert catalog["pipeline_coverage"].target.value == 3.0
    assert catalog["clv"].parameters == {"gross_margin": 0.8, "annual_churn_rate": 0.15}
    assert catalog["cac"].restricted and not catalog["bookings"].restricted


@pytest.mark.parametrize(("file", "old", "new", "field", "line", "words"), [
    ("win_rate.yml", "format: percent", "format: ratio", "format", 11, "'count'"),
    ("bookings.yml", "  expr: amount", "  expr: amount_usd", "measure.expr", 16,
     "no column 'amount_usd'"),
    ("bookings.yml", "dimensions: [segment, region, source, type]",
     "dimensions: [segment, colour]", "dimensions", 20, "'colour' cannot be reached"),
    ("pipeline_velocity.yml", "expr: open_opportunities *", "expr: open_opps *", "expr", 53,
     "'open_opps' is not a measure"),
    ("mql_count.yml", "glossary: mql", "glossary: sql", "glossary", 10,
     "must name this metric"),
    ("cac.yml", "  table: spend", "  table: budget", "numerator.table", 14,
     "unknown table 'budget'"),
    ("marketing_influenced_revenue.yml", "marketing_touch_90_days_before_open_to_close",
     "any_touch", "measure.filters.1", 21, "no condition 'any_touch'"),
    ("ltv_cac_ratio.yml", "visibility:\n  channels: [finance, revops-leads]\n  groups: "
     "[finance, revops]", "visibility: public", "visibility", 19, "restricted metric 'cac'"),
    ("sql_count.yml", "version: '1.0'", "version: 1.0", "version", 8, "quoted"),
])
def test_a_broken_definition_is_reported_with_file_line_and_field(
        defs, terms, file, old, new, field, line, words):
    edit(defs / file, old, new)
    catalog, issues = check_definitions(defs, terms, display_root=defs.parent.parent)
    assert catalog is None
    hits = [i for i in issues if i.path == f"metrics/definitions/{file}" and i.field == field]
    assert hits, issues
    assert hits[0].line == line
    assert words in hits[0].message


def test_a_term_naming_a_metric_that_points_elsewhere_is_an_error(defs, terms):
    changed = dict(terms)
    changed["lead"] = terms["lead"].model_copy(update={"metric": "mql_count"})
    _, issues = check_definitions(defs, changed, display_root=defs.parent.parent)
    assert any("term 'lead' names this metric" in i.message for i in issues)


def test_ssot_validate_lists_metric_problems_and_exits_1(defs):
    edit(defs / "win_rate.yml", "  agg: count\n", "  agg: median\n")
    run = subprocess.run(
        [str(Path(sys.executable).parent / "ssot"), "validate", "--metrics", str(defs)],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert "metrics/definitions/win_rate.yml:15: numerator.agg:" in run.stdout
    assert "Traceback" not in run.stderr
