"""Periods as people write them resolve to the right half-open date ranges."""

from __future__ import annotations

import datetime as dt

import pytest

from metrics.errors import BadRequest
from metrics.periods import Calendar, find_in_text, resolve

TODAY = Calendar(dt.date(2026, 11, 15))
D = dt.date


@pytest.mark.parametrize(("spec", "start", "end", "label"), [
    ("this_quarter", D(2026, 10, 1), D(2027, 1, 1), "Q4 2026"),
    ("last_quarter", D(2026, 7, 1), D(2026, 10, 1), "Q3 2026"),
    ("this_month", D(2026, 11, 1), D(2026, 12, 1), "November 2026"),
    ("last_month", D(2026, 10, 1), D(2026, 11, 1), "October 2026"),
    ("this_year", D(2026, 1, 1), D(2027, 1, 1), "2026"),
    ("last_year", D(2025, 1, 1), D(2026, 1, 1), "2025"),
    ("ytd", D(2026, 1, 1), D(2026, 11, 16), "2026 to date"),
    ("qtd", D(2026, 10, 1), D(2026, 11, 16), "Q4 2026 to date"),
    ("2026-Q3", D(2026, 7, 1), D(2026, 10, 1), "Q3 2026"),
    ("Q3 2026", D(2026, 7, 1), D(2026, 10, 1), "Q3 2026"),
    ("2026-05", D(2026, 5, 1), D(2026, 6, 1), "May 2026"),
    ("May 2026", D(2026, 5, 1), D(2026, 6, 1), "May 2026"),
    ("2026-01-01..2026-03-31", D(2026, 1, 1), D(2026, 4, 1), "2026-01-01 – 2026-03-31"),
    ("This Quarter", D(2026, 10, 1), D(2027, 1, 1), "Q4 2026"),
    ("next_quarter", D(2027, 1, 1), D(2027, 4, 1), "Q1 2027"),
    ("next month", D(2026, 12, 1), D(2027, 1, 1), "December 2026"),
    ("this week", D(2026, 11, 9), D(2026, 11, 16), "week of Nov 9, 2026"),  # Monday to Sunday
    ("last_week", D(2026, 11, 2), D(2026, 11, 9), "week of Nov 2, 2026"),
    ("today", D(2026, 11, 15), D(2026, 11, 16), "today (2026-11-15)"),
    ("yesterday", D(2026, 11, 14), D(2026, 11, 15), "yesterday (2026-11-14)"),
    ("last 30 days", D(2026, 10, 17), D(2026, 11, 16), "last 30 days"),
    ("last 3 months", D(2026, 8, 16), D(2026, 11, 16), "last 3 months"),
    ("last 2 quarters", D(2026, 5, 16), D(2026, 11, 16), "last 2 quarters"),
    ("H1 2026", D(2026, 1, 1), D(2026, 7, 1), "H1 2026"),
    ("2026-H2", D(2026, 7, 1), D(2027, 1, 1), "H2 2026"),
    ("FY25", D(2025, 1, 1), D(2026, 1, 1), "2025"),
    ("November", D(2026, 11, 1), D(2026, 12, 1), "November 2026"),  # started: this year's
    ("December", D(2025, 12, 1), D(2026, 1, 1), "December 2025"),  # not yet: last year's
    ("Q4", D(2026, 10, 1), D(2027, 1, 1), "Q4 2026"),
    ("same_quarter_last_year", D(2025, 10, 1), D(2026, 1, 1), "Q4 2025"),
])
def test_every_documented_period_form(spec, start, end, label):
    period = resolve(spec, TODAY)
    assert (period.start, period.end, period.label) == (start, end, label)


def test_last_quarter_in_january_is_the_previous_year():
    period = resolve("last_quarter", Calendar(dt.date(2026, 1, 10)))
    assert (period.start, period.end) == (D(2025, 10, 1), D(2026, 1, 1))


def test_a_fiscal_year_starting_in_february_shifts_quarters_and_names_years_by_their_end():
    fiscal = Calendar(dt.date(2026, 11, 15), fiscal_start=2)
    assert resolve("this_quarter", fiscal).model_dump() == {
        "start": D(2026, 11, 1), "end": D(2027, 2, 1), "label": "Q4 FY2027", "months": 3}
    assert resolve("2027-Q1", fiscal).start == D(2026, 2, 1)
    assert resolve("this_year", fiscal).start == D(2026, 2, 1)
    assert resolve("ytd", fiscal).start == D(2026, 2, 1)


@pytest.mark.parametrize("spec", ["2026-13", "Q5 2026", "yesterday-ish", "2026-02-30..2026-03-01",
                                  "2026-03-31..2026-01-01", "'; drop table leads; --"])
def test_a_malformed_period_is_a_clear_error(spec):
    with pytest.raises(BadRequest) as caught:
        resolve(spec, TODAY)
    assert "period" in str(caught.value) or "range" in str(caught.value)


@pytest.mark.parametrize(("question", "label", "rest"), [
    ("how many MQLs did we get in May 2026?", "May 2026", "how many MQLs did we get in  ?"),
    ("EMEA bookings ytd", "2026 to date", "EMEA bookings"),
    ("win rate by segment last quarter", "Q3 2026", "win rate by segment"),
    ("pipeline coverage for Q1", "Q1 2026", "pipeline coverage for"),
])
def test_periods_are_found_inside_questions(question, label, rest):
    period, left = find_in_text(question, TODAY)
    assert period.label == label
    assert left == rest


@pytest.mark.parametrize(("question", "label"), [
    ("how many SQLs did we get in November", "November 2026"),
    ("bookings in may", "May 2026"),
    ("win rate over the last 90 days", "last 90 days"),
    ("bookings same quarter last year", "Q4 2025"),
    ("MQLs yesterday", "yesterday (2026-11-14)"),
    ("bookings H1 2026", "H1 2026"),
    ("open pipeline next quarter", "Q1 2027"),
    ("deals won last week", "week of Nov 2, 2026"),
])
def test_periods_as_people_say_them(question, label):
    period, _ = find_in_text(question, TODAY)
    assert period is not None and period.label == label


@pytest.mark.parametrize("question", ["may I ask about pipeline coverage?",
                                      "what's our pipeline coverage today?"])
def test_everyday_words_are_not_periods(question):
    assert find_in_text(question, TODAY)[0] is None


def test_a_bare_quarter_not_yet_started_is_last_years():
    period = resolve("Q3", Calendar(dt.date(2026, 5, 10)))
    assert (period.start, period.end) == (D(2025, 7, 1), D(2025, 10, 1))


@pytest.mark.parametrize(("spec", "start", "end"), [
    ("from Jan 1 to Mar 31", D(2026, 1, 1), D(2026, 4, 1)),
    ("Jan 1 to Mar 31", D(2026, 1, 1), D(2026, 4, 1)),
    ("between March and May", D(2026, 3, 1), D(2026, 6, 1)),
    ("from Nov 1 to Jan 31", D(2026, 11, 1), D(2027, 2, 1)),  # the end follows the start
    ("from December 2025 to February", D(2025, 12, 1), D(2026, 3, 1)),
    ("1 jan to 31 mar 2025", D(2025, 1, 1), D(2025, 4, 1)),
    ("from 2026-01-01 to 2026-03-31", D(2026, 1, 1), D(2026, 4, 1)),
    ("from Q1 to Q2", D(2026, 1, 1), D(2026, 7, 1)),
    ("from Jan 1 to today", D(2026, 1, 1), D(2026, 11, 16)),
    ("since June", D(2026, 6, 1), D(2026, 11, 16)),
    ("2026-01-05", D(2026, 1, 5), D(2026, 1, 6)),
    ("next 90 days", D(2026, 11, 15), D(2027, 2, 13)),
    ("last 2 years", D(2024, 11, 16), D(2026, 11, 16)),
    ("mtd", D(2026, 11, 1), D(2026, 11, 16)),
])
def test_ranges_and_spans_written_out(spec, start, end):
    period = resolve(spec, TODAY)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(("spec", "start"), [
    ("Q1", D(2027, 1, 1)), ("Q4", D(2026, 10, 1)),  # Q4 has not ended: it is still the one
    ("H1", D(2027, 1, 1)), ("October", D(2027, 10, 1)), ("November", D(2026, 11, 1)),
])
def test_forward_looking_metrics_read_a_bare_quarter_or_month_as_the_next_one(spec, start):
    assert resolve(spec, TODAY, forward=True).start == start
    assert resolve(spec, TODAY).start <= TODAY.today


def test_a_range_that_ends_before_it_starts_or_names_no_day_is_refused():
    with pytest.raises(BadRequest, match="does not exist"):
        resolve("from Feb 30 to Mar 3", TODAY)
    with pytest.raises(BadRequest, match="starts after today"):
        resolve("since 2027-01-01", TODAY)


def test_the_period_before_and_the_year_before_keep_the_grain():
    cal = TODAY
    assert cal.before(resolve("Q2 2026", cal)).label == "Q1 2026"
    assert cal.before(resolve("March 2026", cal)).label == "February 2026"
    assert cal.before(resolve("this week", cal)).label == "week of Nov 2, 2026"
    custom = cal.before(resolve("2026-01-01..2026-03-31", cal))  # the same number of days
    assert (custom.start, custom.end) == (D(2025, 10, 3), D(2026, 1, 1))
    assert cal.year_before(resolve("Q3 2026", cal)).label == "Q3 2025"
