"""The one transport-neutral answer every surface renders."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

# Shown beside every number computed from the generated demo warehouse.
DEMO = "(demo data, not your warehouse: set WAREHOUSE_URL)"

AnswerKind = Literal["definition", "guide", "metric", "no_answer"]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Frozen):
    """Where the governed text is written: repo-relative path, line, and a link when configured."""

    path: str
    line: int | None = None
    url: str | None = None


class Ref(Frozen):
    """A pointer to another term or guide, with its display name."""

    id: str
    name: str


class Suggestion(Frozen):
    """A "did you mean" candidate."""

    id: str
    name: str
    score: float


class Period(Frozen):
    """A half-open date range [start, end) and how a person would name it."""

    start: dt.date
    end: dt.date
    label: str
    # Whole calendar months it spans when named as a month, quarter or year (1, 3, 12): the
    # period before it is then the same grain (Q2's is Q1), not the same number of days.
    months: int | None = None


class Target(Frozen):
    """The go-to-market plan's target for the asked period, and whether the value meets it."""

    value: float
    direction: Literal["at_least", "at_most"]
    formatted: str
    met: bool | None = None


class MetricRow(Frozen):
    """One breakdown row: the dimension values and the metric's value for them."""

    dimensions: dict[str, str | None]
    value: float | None
    formatted: str


class MetricResult(Frozen):
    """A governed metric computed for a period, with the SQL that produced it."""

    metric: str
    name: str
    value: float | None
    formatted: str
    format: Literal["count", "currency", "percent", "days", "multiple"]
    period: Period | None = None
    dimensions: tuple[str, ...] = ()
    filters: dict[str, str] = {}
    rows: tuple[MetricRow, ...] = ()
    target: Target | None = None
    sql: str
    # Computed from the generated demo warehouse, not the team's own data.
    demo: bool = False


class Answer(Frozen):
    """What the bot says: a governed definition, a guide section, a metric, or no answer."""

    kind: AnswerKind
    question: str = ""
    id: str | None = None
    name: str | None = None
    definition: str | None = None
    section: str | None = None
    detail: str | None = None
    owner: str | None = None
    status: str | None = None
    version: str | None = None
    updated: dt.date | None = None
    domain: str | None = None
    authoritative_system: str | None = None
    metric: str | None = None
    source: Source | None = None
    related: tuple[Ref, ...] = ()
    replaced_by: Ref | None = None
    notice: str | None = None
    score: float = 0.0
    suggestions: tuple[Suggestion, ...] = ()
    message: str | None = None
    result: MetricResult | None = None
