"""Numbers as a RevOps person reads them: 1,523 · 412,300 USD · 23.4% · 47.2 days · 3.10×."""

from __future__ import annotations

import datetime as dt

from knowledge.answer import Period
from knowledge.answer import Target as TargetStatus
from metrics.definitions import Format, Target

_MONTHS_PER = {"month": 1, "quarter": 3, "year": 12}


def format_value(value: float | None, fmt: Format, unit: str | None = None,
                 currency: str = "USD") -> str:
    """A value in its metric's format; `n/a` when there is nothing to divide by."""
    if value is None:
        return "n/a"
    text = {
        "count": lambda: f"{value:,.0f}",
        "currency": lambda: f"{value:,.0f} {currency}",
        "percent": lambda: f"{value * 100:.1f}%",
        "days": lambda: f"{value:.1f} days",
        "hours": lambda: f"{value:.1f} hours",
        "multiple": lambda: f"{value:.2f}×",
    }[fmt]()
    return f"{text} {unit}" if unit else text


def target_status(target: Target | None, value: float | None, period: Period | None,
                  fmt: Format, unit: str | None = None, currency: str = "USD",
                  today: dt.date | None = None, additive: bool = False,
                  ) -> TargetStatus | None:
    """The target scaled to the period's length, and whether the value meets it.

    For an additive metric (a sum or count) asked while its period is still going on, the
    value is compared with the target pro-rated to the days elapsed, today included: two
    thirds of the way through a quarter, two thirds of the quarter's target is on track.
    """
    if target is None:
        return None
    goal = target.value
    if target.per and period is not None:
        goal *= _months(period.start, period.end) / _MONTHS_PER[target.per]
    at_least = target.direction == "at_least"
    word = "at least" if at_least else "at most"
    # Days still to come after today: a period ending today (ytd, "last 30 days") is whole.
    if additive and period is not None and today is not None and period.start <= today < (
            period.end - dt.timedelta(days=1)):
        return _pace(goal, value, period, today, at_least, fmt, unit, currency)
    met = None
    # A sum or count of a period that has not begun has nothing to judge yet.
    not_begun = additive and period is not None and today is not None and today < period.start
    if value is not None and not not_begun:
        met = value >= goal if at_least else value <= goal
    return TargetStatus(value=goal, direction=target.direction, met=met,
                        formatted=f"{word} {format_value(goal, fmt, unit, currency)}")


def _pace(goal: float, value: float | None, period: Period, today: dt.date, at_least: bool,
          fmt: Format, unit: str | None, currency: str) -> TargetStatus:
    elapsed = (today - period.start).days + 1
    expected = goal * elapsed / (period.end - period.start).days
    on_track = met = None
    if value is not None:
        on_track = value >= expected if at_least else value <= expected
        # Reached already, or (at most) already overrun: settled before the period ends.
        if at_least and value >= goal:
            met = True
        elif not at_least and value > goal:
            met = False
    word = "at least" if at_least else "at most"
    shown = (f"{word} {format_value(expected, fmt, unit, currency)} to date "
             f"(of {format_value(goal, fmt, unit, currency)} for {period.label})")
    return TargetStatus(value=goal, direction="at_least" if at_least else "at_most", met=met,
                        formatted=shown, expected_to_date=expected, on_track=on_track)


def change_between(value: float | None, before: float | None, fmt: Format
                   ) -> tuple[float | None, str]:
    """The change from `before` to `value`: percentage points for a percent, else percent."""
    if value is None or before is None:
        return None, "n/a"
    if fmt == "percent":
        points = (value - before) * 100
        return points, f"{points:+.1f} pp"
    if before == 0:
        return None, "n/a (from 0)"
    change = (value / before - 1) * 100
    return change, f"{change:+.1f}%"


def _months(start: dt.date, end: dt.date) -> float:
    if start.day == 1 and end.day == 1:
        return (end.year - start.year) * 12 + end.month - start.month
    return (end - start).days / (365.25 / 12)
