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
        "multiple": lambda: f"{value:.2f}×",
    }[fmt]()
    return f"{text} {unit}" if unit else text


def target_status(target: Target | None, value: float | None, period: Period | None,
                  fmt: Format, unit: str | None = None, currency: str = "USD"
                  ) -> TargetStatus | None:
    """The target scaled to the period's length, and whether the value meets it."""
    if target is None:
        return None
    goal = target.value
    if target.per and period is not None:
        goal *= _months(period.start, period.end) / _MONTHS_PER[target.per]
    met = None
    if value is not None:
        met = value >= goal if target.direction == "at_least" else value <= goal
    word = "at least" if target.direction == "at_least" else "at most"
    return TargetStatus(value=goal, direction=target.direction, met=met,
                        formatted=f"{word} {format_value(goal, fmt, unit, currency)}")


def _months(start: dt.date, end: dt.date) -> float:
    if start.day == 1 and end.day == 1:
        return (end.year - start.year) * 12 + end.month - start.month
    return (end - start).days / (365.25 / 12)
