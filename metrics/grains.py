"""Time grains: a period cut into days, Monday weeks, months, fiscal quarters or fiscal years.

A bucket is named by its first day. Python lists every bucket of a period (so an empty one is
still shown); SQL puts each row in its bucket with `date_trunc`, the same on DuckDB and
PostgreSQL. Fiscal quarters and years start in the fiscal year's first month: the column is
moved back by the months the fiscal calendar is ahead of the calendar one, truncated, and
moved forward again.
"""

from __future__ import annotations

import calendar
import datetime as dt

import sqlalchemy as sa

from knowledge.answer import Period
from metrics.periods import Calendar, add_months

GRAINS = ("day", "week", "month", "quarter", "year")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_DAYS = {"day": 1, "week": 7}


def _offset(grain: str, fiscal_start: int) -> int:
    """Months a fiscal quarter or year starts after the calendar one."""
    if grain == "month":
        return 0
    return (fiscal_start - 1) % _MONTHS[grain]


def bucket_start(day: dt.date, grain: str, fiscal_start: int = 1) -> dt.date:
    """The first day of the bucket `day` falls in."""
    if grain in _DAYS:
        return day - dt.timedelta(days=day.weekday() if grain == "week" else 0)
    index = day.year * 12 + day.month - 1
    first = index - (index - _offset(grain, fiscal_start)) % _MONTHS[grain]
    return dt.date(first // 12, first % 12 + 1, 1)


def shift(day: dt.date, grain: str, count: int) -> dt.date:
    """`day` moved `count` grains later (earlier when negative); a 31st in a shorter month
    becomes its last day."""
    if grain in _DAYS:
        return day + dt.timedelta(days=count * _DAYS[grain])
    first = add_months(day, count * _MONTHS[grain])
    return first.replace(day=min(day.day, calendar.monthrange(first.year, first.month)[1]))


def bucket_starts(period: Period, grain: str, fiscal_start: int = 1) -> list[dt.date]:
    """The first day of every bucket the period touches, in time order."""
    starts, day = [], bucket_start(period.start, grain, fiscal_start)
    while day < period.end:
        starts.append(day)
        day = shift(day, grain, 1)
    return starts


def bucket_period(start: dt.date, grain: str, period: Period, cal: Calendar) -> Period:
    """The part of `period` in the bucket starting on `start`, named as people would."""
    end = shift(start, grain, 1)
    whole = {
        "day": lambda: cal.day(start, f"{start:%b} {start.day}, {start.year}"),
        "week": lambda: cal.week_of(start),
        "month": lambda: cal.month(start.year, start.month),
        "quarter": lambda: cal.quarter_of(start),
        "year": lambda: cal.year(cal.fiscal_year_of(start)),
    }[grain]()
    if period.start <= start and end <= period.end:
        return whole
    cut = Period(start=max(start, period.start), end=min(end, period.end), label="")
    return cut.model_copy(update={"label": f"{whole.label} ({span(cut)})"})


def span(period: Period) -> str:
    """The first and last day of a period, short: "Jul 1 – Sep 30", years only when needed."""
    last = period.end - dt.timedelta(days=1)
    if period.start == last:
        return _day(last, True)
    same_year = period.start.year == last.year
    return f"{_day(period.start, not same_year)} – {_day(last, not same_year)}"


def _day(day: dt.date, year: bool) -> str:
    return f"{day:%b} {day.day}, {day.year}" if year else f"{day:%b} {day.day}"


def bucket_column(column: sa.ColumnElement, grain: str, fiscal_start: int = 1,
                  ahead: int = 0) -> sa.ColumnElement:
    """The first day of each row's bucket, moved `ahead` grains later, as a DATE."""
    if grain == "day":
        if not ahead and isinstance(column.type, sa.Date):
            return column
        return sa.cast(_interval(column, ahead, "days"), sa.Date)
    if grain == "week":
        moved = _interval(column, 7 * ahead, "days")
        return sa.cast(sa.func.date_trunc(sa.literal_column("'week'"), _timestamp(moved)),
                       sa.Date)
    offset = _offset(grain, fiscal_start)
    value = sa.func.date_trunc(sa.literal_column(f"'{grain}'"),
                               _timestamp(_interval(column, -offset, "months")))
    return sa.cast(_interval(value, offset + ahead * _MONTHS[grain], "months"), sa.Date)


def _timestamp(value: sa.ColumnElement) -> sa.ColumnElement:
    # PostgreSQL reads date_trunc of a DATE as a timestamp WITH time zone, in the session's
    # zone; a plain timestamp keeps the bucket a calendar date on every server.
    return value if isinstance(value.type, sa.DateTime) else sa.cast(value, sa.DateTime)


def _interval(value: sa.ColumnElement, amount: int, unit: str) -> sa.ColumnElement:
    if not amount:
        return value
    interval = sa.literal_column(f"INTERVAL '{abs(amount)} {unit}'", sa.Interval)
    moved = value + interval if amount > 0 else value - interval
    return sa.type_coerce(moved, sa.DateTime)
