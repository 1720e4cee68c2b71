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
    ("EMEA bookings ytd", "bookings", dt.date(2026, 1, 1), (), {"region": ("EMEA",)}),
    ("what is our pipeline coverage?", "pipeline_coverage", dt.date(2026, 10, 1), (), {}),
    ("how many SQLs from inbound last month", "sql_count", dt.date(2026, 10, 1), (),
     {"source": ("inbound",)}),
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
    assert answer.owner and answer.definition
    assert result.sql.lstrip().upper().startswith(("WITH", "SELECT"))


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
    assert services.ask(question).kind in ("definition", "guide", "comparison")


def test_a_restricted_metric_question_is_answered_only_in_its_audience(services):
    refused = services.ask("what is our CAC this quarter?")
    assert refused.kind == "no_answer" and "restricted" in refused.message
    allowed = services.ask("what is our CAC this quarter?", Audience(channel="finance"))
    assert allowed.kind == "metric" and allowed.result.value > 0


def test_the_metric_command_takes_an_id_period_breakdown_and_filter(services):
    answer = services.metric("win_rate last_quarter by segment where region=emea")
    assert answer.kind == "metric"
    assert answer.result.filters == {"region": ("EMEA",)}
    assert answer.result.dimensions == ("segment",)
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


def no_number(answer) -> str:
    """The message of an answer that gives no number (and fails the test if it gives one)."""
    assert answer.kind == "no_answer" and answer.result is None, answer
    return answer.message


@pytest.mark.parametrize(("question", "words"), [
    ("what's our win rate in Germany", ["'germany' is not a region",
                                        "regions: APAC, EMEA, LATAM, NA"]),
    ("win rate in Germany", ["'germany' is not a region"]),
    ("avg deal size in the uk this year", ["'uk' is not a region"]),
    ("how many mqls did we get from webinars last month",
     ["'webinars' is not a source", "event, inbound, outbound, paid, partner"]),
    ("what is the win rate for inbound", ["'inbound' is not a source of Win rate",
                                          "marketing, partner, sales"]),
    ("how many MQLs did we get for new business", ["'new business' is a type",
                                                   "cannot be filtered by type"]),
    ("bookings excluding renewals this year", ["'excluding'", "not leave them out"]),
    ("win rate by rep last quarter", ["cannot be broken down by owner", "segment, region"]),
    ("what's our CAC by segment", ["restricted", "#finance"]),
    ("bookings next decade", ["'next decade'", "from Jan 1 to Mar 31"]),
    ("win rate for deals over $50k", ["'50k'"]),
    ("bookings in Q3 2026 and Q4 2026", ["two periods (Q3 2026 and Q4 2026)",
                                         "'Q3 2026 vs Q4 2026'"]),
    ("what's our bookings for the sales team", ["'sales team'"]),
])
def test_a_partly_understood_question_gets_no_number_and_names_the_words(services, question,
                                                                         words):
    message = no_number(services.ask(question))
    for word in words:
        assert word in message


@pytest.mark.parametrize("question", [
    "please show me what's our win rate looking like this quarter",
    "how are we doing on win rate this quarter?",
    "hey, what's the win rate so far this quarter, thanks",
    "What’s our win-rate this quarter?!",
])
def test_words_that_change_nothing_still_get_the_number(services, question):
    answer = services.ask(question)
    assert answer.kind == "metric", answer.message
    assert answer.id == "win_rate" and answer.result.period.label == "Q4 2026"
    assert answer.result.filters == {} and answer.result.dimensions == ()


def test_the_metric_command_reads_apostrophes_and_refuses_what_it_cannot_use(services):
    assert services.metric("what's our win rate, this year?").result.period.label == "2026"
    message = no_number(services.metric("win rate in germany this year"))
    assert "'germany' is not a region" in message


def test_restricted_metrics_say_so_and_where_to_ask_whatever_else_the_question_says(services):
    for question in ["what's our CAC this quarter in germany", "cac by month vs last year"]:
        message = no_number(services.ask(question))
        assert "restricted" in message and "#finance" in message and "the finance group" in message
    inside = services.ask("what's our CAC in germany", Audience(channel="finance"))
    assert "'germany'" in no_number(inside)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("bookings from Jan 1 to Mar 31", dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
    ("bookings between March and May", dt.date(2026, 3, 1), dt.date(2026, 6, 1)),
    ("bookings from december 2025 to february", dt.date(2025, 12, 1), dt.date(2026, 3, 1)),
    ("bookings since June", dt.date(2026, 6, 1), dt.date(2026, 11, 16)),
    ("bookings on jan 5", dt.date(2026, 1, 5), dt.date(2026, 1, 6)),
    ("bookings q3 2026 to q4 2026", dt.date(2026, 7, 1), dt.date(2027, 1, 1)),
])
@pytest.mark.parametrize("asked", ["question", "/metric"])
def test_ranges_in_words_are_read_whole(services, text, start, end, asked):
    answer = services.metric(text) if asked == "/metric" else services.ask(f"what were our {text}")
    assert answer.kind == "metric", answer.message
    assert (answer.result.period.start, answer.result.period.end) == (start, end)


@pytest.mark.parametrize(("question", "start"), [
    ("open pipeline for Q1", dt.date(2027, 1, 1)),  # still to come: the next Q1
    ("what's our pipeline coverage in Q4", dt.date(2026, 10, 1)),  # not over yet: this one
    ("bookings in Q1", dt.date(2026, 1, 1)),  # what happened: the last Q1
])
def test_a_bare_quarter_is_the_next_one_for_forward_looking_metrics(services, question, start):
    answer = services.ask(question)
    assert answer.kind == "metric" and answer.result.period.start == start


@pytest.mark.parametrize(("metric", "year"), [("open_pipeline", 2027),
                                              ("pipeline_coverage", 2027), ("bookings", 2026)])
def test_a_bare_quarter_in_the_command_and_in_period_options_reads_the_same(services, metric,
                                                                             year):
    assert services.metric(f"{metric} Q1").result.period.start == dt.date(year, 1, 1)
    assert services.metrics.plan(metric, "Q1").period.start == dt.date(year, 1, 1)  # --period


@pytest.mark.parametrize(("question", "where"), [
    ("bookings in EMEA and APAC last quarter", {"region": ("EMEA", "APAC")}),
    ("win rate for SMB or mid market last quarter", {"segment": ("SMB", "Mid-Market")}),
    ("new logo bookings in europe or asia pacific last quarter",
     {"type": ("new_business",), "region": ("EMEA", "APAC")}),
])
def test_several_values_of_a_dimension_are_one_filter_and_synonyms_come_from_the_files(
        services, question, where):
    answer = services.ask(question)
    assert answer.kind == "metric", answer.message
    assert answer.result.filters == where
    plan = services.metrics.plan(answer.id, answer.result.period, (), where)
    assert answer.result.value == services.metrics.run(plan).value
    singles = [services.metrics.run(services.metrics.plan(
        answer.id, answer.result.period, (), {**where, dim: v})).value
        for dim, values in where.items() if len(values) > 1 for v in values]
    if answer.id == "bookings":  # a sum: the IN filter adds the values up
        assert answer.result.value == pytest.approx(sum(singles))


@pytest.mark.parametrize(("question", "by", "start", "end"), [
    ("bookings by month this year", ("month",), dt.date(2026, 1, 1), dt.date(2027, 1, 1)),
    ("monthly bookings by segment in H1 2026", ("month", "segment"), dt.date(2026, 1, 1),
     dt.date(2026, 7, 1)),
    ("weekly sqls last quarter", ("week",), dt.date(2026, 7, 1), dt.date(2026, 10, 1)),
    ("mqls per quarter in 2025", ("quarter",), dt.date(2025, 1, 1), dt.date(2026, 1, 1)),
    ("win rate trend", ("month",), dt.date(2025, 11, 16), dt.date(2026, 11, 16)),
    ("bookings trend for enterprise by region", ("month", "region"), dt.date(2025, 11, 16),
     dt.date(2026, 11, 16)),
])
def test_grains_and_trends_break_the_number_down_by_time(services, question, by, start, end):
    answer = services.ask(question)
    assert answer.kind == "metric", answer.message
    assert answer.result.dimensions == by
    assert (answer.result.period.start, answer.result.period.end) == (start, end)


@pytest.mark.parametrize(("question", "period", "compare"), [
    ("bookings vs last quarter", "Q4 2026", "Q3 2026"),
    ("compare bookings this year to last year", "2026", "2025"),
    ("how does win rate in October compare with the month before", "October 2026",
     "September 2026"),
    ("is our win rate this month better than last month", "November 2026", "October 2026"),
    ("bookings q3 2026 vs the same quarter last year", "Q3 2026", "Q3 2025"),
    ("mqls year over year", "Q4 2026", "Q4 2025"),
])
def test_comparisons_in_words_compare_the_asked_period_with_the_other(services, question,
                                                                      period, compare):
    answer = services.ask(question)
    assert answer.kind == "metric", answer.message
    assert answer.result.period.label == period
    assert answer.result.comparison.period.label == compare


def test_a_current_value_question_is_answered_by_the_metric_and_a_count_by_a_count(services):
    arr = services.ask("what's our current ARR")
    assert arr.kind == "metric" and arr.id == "arr" and arr.result.value > 0
    won = services.ask("how many deals did we win last quarter")
    assert won.kind == "metric" and won.id == "deals_won" and won.result.format == "count"
    assert services.ask("how many won deals did we have last quarter").id == "deals_won"
    lost = services.ask("how many deals did we lose last quarter")
    assert lost.result is None  # no governed count of lost deals: no number for another one


def test_a_retired_term_is_answered_by_its_replacement_and_says_so(services):
    answer = services.ask("marketing sourced revenue last quarter")
    assert answer.kind == "metric" and answer.id == "marketing_originated_revenue"
    assert "retired" in answer.notice and "Marketing-Sourced Revenue" in answer.notice
