"""Questions in plain words reach the right metric, period, breakdown and filters."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event

from bot.services import Services
from knowledge.service import KnowledgeBase
from metrics.audience import Audience
from metrics.catalog import load_catalog, metric_ids
from metrics.engine import MetricEngine
from metrics.periods import Calendar
from metrics.warehouse import open_warehouse

from conftest import AS_OF, ROOT


@pytest.fixture(scope="module")
def services(kb, warehouse_url) -> Services:
    engine = MetricEngine(load_catalog(ROOT / "metrics" / "definitions"),
                          open_warehouse(warehouse_url), lambda: Calendar(AS_OF))
    return Services(kb, engine)


@pytest.mark.parametrize(("question", "metric", "start", "by", "where"), [
    ("what's our pipeline coverage this quarter?", "pipeline_coverage", dt.date(2026, 10, 1),
     (), {}),
    ("win rate by segment last quarter", "win_rate", dt.date(2026, 7, 1), ("segment",), {}),
    ("how many MQLs did we get in May 2026?", "mql_count", dt.date(2026, 5, 1), (), {}),
    ("EMEA bookings ytd", "bookings", dt.date(2026, 1, 1), (), {"region": "EMEA"}),
    ("what is our pipeline coverage?", "pipeline_coverage", dt.date(2026, 10, 1), (), {}),
    ("how many SQLs from inbound last month", "sql_count", dt.date(2026, 10, 1), (),
     {"source": "inbound"}),
    ("average deal size in Q3 2026 by region", "average_deal_size", dt.date(2026, 7, 1),
     ("region",), {}),
])
def test_metric_questions_are_answered_with_the_governed_number(services, question, metric,
                                                               start, by, where):
    answer = services.ask(question)
    assert answer.kind == "metric", answer.message
    assert answer.id == metric
    result = answer.result
    assert result.period.start == start
    assert result.dimensions == by and result.filters == where
    plan = services.metrics.plan(metric, result.period, by, where)
    assert result.value == services.metrics.run(plan).value
    assert answer.owner and answer.definition and result.sql.lstrip().upper().startswith("WITH")


def test_a_definition_question_stays_a_definition_and_shows_the_current_value(services):
    answer = services.ask("What is pipeline coverage?")
    assert answer.kind == "definition" and answer.id == "pipeline_coverage"
    assert answer.result is not None and answer.result.period.label == "Q4 2026"
    assert answer.result.formatted.endswith("×")


@pytest.mark.parametrize("question", [
    "how do we calculate win rate?", "what does MQL mean?", "who owns bookings?",
    "what is the difference between bookings and ARR?",
])
def test_questions_about_meaning_are_not_metric_queries(services, question):
    assert services.ask(question).kind in ("definition", "guide")


def test_a_restricted_metric_question_is_answered_only_in_its_audience(services):
    refused = services.ask("what is our CAC this quarter?")
    assert refused.kind == "no_answer" and "restricted" in refused.message
    allowed = services.ask("what is our CAC this quarter?", Audience(channel="finance"))
    assert allowed.kind == "metric" and allowed.result.value > 0


def test_the_metric_command_takes_an_id_period_breakdown_and_filter(services):
    answer = services.metric("win_rate last_quarter by segment where region=emea")
    assert answer.kind == "metric"
    assert answer.result.filters == {"region": "EMEA"} and answer.result.dimensions == ("segment",)
    unknown = services.metric("win_rat last_quarter")
    assert unknown.kind == "no_answer" and unknown.suggestions[0].id == "win_rate"
    junk = services.metric("bookings banana")
    assert junk.kind == "no_answer" and "banana" in junk.message


@pytest.mark.parametrize("asked", ["/metric", "question"])
def test_a_date_range_is_the_whole_range_not_its_first_day(services, asked):
    text = "bookings 2026-01-01..2026-03-31"
    answer = (services.metric(text) if asked == "/metric"
              else services.ask(f"what were our {text}?"))
    assert answer.kind == "metric", answer.message
    period = answer.result.period
    assert (period.start, period.end) == (dt.date(2026, 1, 1), dt.date(2026, 4, 1))


@pytest.mark.parametrize(("text", "start"), [
    ("what's our win rate this year", dt.date(2026, 1, 1)),
    ("how many SQLs did we get in November", dt.date(2026, 11, 1)),
])
def test_the_metric_command_reads_plain_words(services, text, start):
    answer = services.metric(text)
    assert answer.kind == "metric", answer.message
    assert answer.result.period.start == start


def test_a_glossary_reload_with_a_new_alias_routes_metric_questions_by_it(kb, model, docs,
                                                                          metric_engine):
    served = KnowledgeBase(docs, model, kb.cache_dir, metric_ids=metric_ids)
    services = Services(served, metric_engine)
    question = "how many hand raisers did we get last month?"
    assert services.ask(question).kind != "metric"

    mql = docs / "terms" / "mql.md"
    mql.write_text(mql.read_text().replace("aliases: [MQL,", "aliases: [hand raisers, MQL,"),
                   "utf-8")
    assert served.reload().accepted
    answer = services.ask(question)
    assert answer.kind == "metric" and answer.id == "mql_count"
    assert answer.result.period.start == dt.date(2026, 10, 1)


def test_kept_warm_a_definition_shows_this_quarters_value_without_a_warehouse_query(
        kb, metric_engine):
    services = Services(kb, metric_engine)
    queries = []

    def count(*_args) -> None:
        queries.append(1)

    event.listen(metric_engine.warehouse, "checkout", count)
    stop = services.current_values.keep_warm(60)
    try:
        deadline = dt.datetime.now() + dt.timedelta(seconds=60)
        while not services.current_values.warm:
            assert dt.datetime.now() < deadline, "the values were never computed"
        before = len(queries)
        answer = services.ask("What is pipeline coverage?")
        assert len(queries) == before  # the answer did not wait on the warehouse
        assert answer.kind == "definition" and answer.result.period.label == "Q4 2026"
        assert answer.result.value == services.ask("our pipeline coverage").result.value
        assert len(queries) == before + 1  # a metric question always runs its query
    finally:
        stop()
        event.remove(metric_engine.warehouse, "checkout", count)
