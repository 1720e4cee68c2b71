"""`ssot chat` answers through `Services`, with the same text renderer as `ssot ask`."""

from __future__ import annotations

import datetime as dt

from rich.console import Console

from bot.console import respond
from bot.render_text import render_answer
from bot.services import Services
from knowledge.answer import Answer, MetricResult, MetricRow, Period, Target


def shown(renderable) -> str:
    console = Console(record=True, width=200)
    console.print(renderable)
    return console.export_text()


def test_console_defines_asks_and_routes_metrics(kb, metric_engine):
    services = Services(kb, metric_engine)
    assert "A Marketing Qualified Lead (MQL) is a lead whose lead score" in shown(
        respond(services, "/define mql"))
    assert "Sales Accepted Lead (SAL)" in shown(respond(services, "what's a SAL?"))
    assert "Did you mean" in shown(respond(services, "/define mqll"))
    metric = shown(respond(services, "/metric pipeline coverage this quarter"))
    coverage = metric_engine.run(metric_engine.plan("pipeline_coverage"))
    assert f"Pipeline coverage: {coverage.formatted}" in metric and "Q4 2026" in metric
    asked = shown(respond(services, "how many MQLs did we get in May 2026?"))
    assert "MQL count:" in asked and "May 2026" in asked
    assert "unknown command /nope" in shown(respond(services, "/nope"))


def test_metric_answers_render_value_target_rows_and_sql():
    result = MetricResult(
        metric="win_rate", name="Win Rate", value=0.31, formatted="31.0%", format="percent",
        period=Period(start=dt.date(2026, 4, 1), end=dt.date(2026, 7, 1), label="Q2 2026"),
        dimensions=("region",),
        rows=(MetricRow(dimensions={"region": "EMEA"}, value=0.28, formatted="28.0%"),),
        target=Target(value=0.3, direction="at_least", formatted="30.0%", met=True),
        sql="SELECT count(*) FROM opportunities")
    text = shown(render_answer(Answer(kind="metric", result=result)))
    for expected in ("Win Rate", "31.0%", "Q2 2026", "target 30.0% ✓ on target",
                     "EMEA", "28.0%", "SELECT count(*) FROM opportunities"):
        assert expected in text
