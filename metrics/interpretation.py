"""Say in one line what was computed, so nobody mistakes it for the answer to another question.

    Bookings · Q3 2026 (Jul 1 – Sep 30) · region in EMEA, APAC · by month · vs Q2 2026
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from knowledge.answer import Period
from metrics.grains import span

if TYPE_CHECKING:
    from metrics.compiler import Plan

SEPARATOR = " · "


def interpretation(plan: Plan) -> str:
    """The metric, its period and days, its filters, its breakdown, what it is compared with."""
    parts = [plan.metric.name, period_text(plan.period) if plan.period else "all data, as of now"]
    for dim, values in plan.where.items():
        values = (values,) if isinstance(values, str) else tuple(values)
        parts.append(f"{dim} = {values[0]}" if len(values) == 1
                     else f"{dim} in {', '.join(values)}")
    if plan.by:
        parts.append("by " + " and ".join(plan.by))
    if plan.compare:
        parts.append(f"vs {plan.compare.label}")
    return SEPARATOR.join(parts)


def period_text(period: Period) -> str:
    """A period's name and its first and last day, unless the name already gives them."""
    if period.start.isoformat() in period.label:
        return period.label
    return f"{period.label} ({span(period)})"
