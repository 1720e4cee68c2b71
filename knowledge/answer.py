"""The one transport-neutral answer every surface renders."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

# Shown beside every number computed from the generated demo warehouse.
DEMO = "(demo data, not your warehouse: set WAREHOUSE_URL)"
# A term's Example section works its formula through with made-up figures; every surface titles
# it so, lest anyone take an example for the current value.
EXAMPLE_SECTION = "Example"
EXAMPLE_LABEL = "Example, not a live number"


def section_heading(section: str | None) -> str:
    """The title a quoted section is shown under: an example is labelled as one."""
    return EXAMPLE_LABEL if section == EXAMPLE_SECTION else section or ""

AnswerKind = Literal["definition", "guide", "metric", "comparison", "no_answer"]


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


class Relation(Frozen):
    """A governed line that relates two compared terms, quoted verbatim from where it is written."""

    text: str
    name: str
    section: str | None = None
    source: Source


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
    # Pace, for a sum or count asked for a period still in progress: the target pro-rated to
    # the days elapsed (today included), and whether the value keeps up with it.
    expected_to_date: float | None = None
    on_track: bool | None = None


class Comparison(Frozen):
    """The same metric over another period, and the change from it to the asked period.

    `change` is in percentage points for a percent-format metric (+3.1 means "+3.1 pp") and in
    percent of the other period's value otherwise (+12.4 means "+12.4%").
    """

    period: Period
    value: float | None
    formatted: str
    change: float | None
    change_formatted: str


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
    format: Literal["count", "currency", "percent", "days", "hours", "multiple"]
    period: Period | None = None
    # The breakdown's columns; a time grain ("month") comes first, and its rows carry each
    # bucket's first day ("2026-01-01"), in time order, with no bucket missing.
    dimensions: tuple[str, ...] = ()
    # Dimension -> the values kept (several values: any of them).
    filters: dict[str, tuple[str, ...]] = {}
    rows: tuple[MetricRow, ...] = ()
    target: Target | None = None
    sql: str
    # Computed from the generated demo warehouse, not the team's own data.
    demo: bool = False
    # What was computed, in one line every surface shows:
    # "Bookings · Q3 2026 (Jul 1 – Sep 30) · region in EMEA, APAC · by month".
    interpretation: str = ""
    comparison: Comparison | None = None
    grain: Literal["day", "week", "month", "quarter", "year"] | None = None

    @field_validator("filters", mode="before")
    @classmethod
    def _one_value_is_a_tuple(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: (v,) if isinstance(v, str) else v for k, v in value.items()}
        return value


class Answer(Frozen):
    """What the bot says: a definition, two compared, a guide section, a metric, or no answer."""

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
    # A comparison: each term's own definition answer, side by side, and the lines relating them.
    compared: tuple[Answer, ...] = ()
    relations: tuple[Relation, ...] = ()
