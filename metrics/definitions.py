"""Governed metric definitions as data: what is measured, over which table, filtered how."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from knowledge.models import ID_PATTERN, Owner, Status

Agg = Literal["count", "count_distinct", "sum", "avg", "min", "max"]
Window = Literal["period", "trailing_365_days", "previous_period"]
Format = Literal["count", "currency", "percent", "days", "hours", "multiple"]
_DAYS_BETWEEN = re.compile(r"^days_between\(\s*(\w+)\s*,\s*(\w+)\s*\)$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Filter(Strict):
    """One fixed condition; exactly one of the forms below."""

    column: str | None = None
    equals: str | bool | int | float | None = None
    not_null: bool | None = None
    within_hours_of: str | None = Field(default=None, description="Column the hours count from.")
    hours: float | None = Field(default=None, gt=0)
    condition: str | None = Field(default=None, description="A named condition in metrics/model.")

    @model_validator(mode="after")
    def _one_form(self) -> Filter:
        if self.condition is not None:
            if self.column or self.equals is not None or self.not_null or self.within_hours_of:
                raise ValueError("a 'condition' filter takes no other keys")
            return self
        if not self.column:
            raise ValueError("a filter needs 'column' (or a named 'condition')")
        forms = [self.equals is not None, self.not_null is not None,
                 self.within_hours_of is not None]
        if sum(forms) != 1:
            raise ValueError("give exactly one of 'equals', 'not_null', 'within_hours_of'")
        if self.within_hours_of and self.hours is None:
            raise ValueError("'within_hours_of' needs 'hours'")
        return self


class Measure(Strict):
    """An aggregate over one table, in a time window relative to the asked period."""

    table: str
    agg: Agg
    expr: str | None = Field(
        default=None, description="A column, or days_between(from, to); none for count(*)."
    )
    time: str | None = Field(default=None, description="Time column; none for all-time metrics.")
    window: Window = "period"
    filters: tuple[Filter, ...] = ()

    @model_validator(mode="after")
    def _expr_fits_agg(self) -> Measure:
        if self.agg != "count" and not self.expr:
            raise ValueError(f"agg '{self.agg}' needs an 'expr'")
        return self

    def with_filters(self, extra: tuple[Filter, ...]) -> Measure:
        return self.model_copy(update={"filters": (*extra, *self.filters)}) if extra else self


class Target(Strict):
    """The plan's target; `per: month` scales it to the length of the asked period."""

    value: float
    direction: Literal["at_least", "at_most"]
    per: Literal["month", "quarter", "year"] | None = None


class Visibility(Strict):
    """Who may see the metric's numbers (its definition stays public)."""

    channels: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


class Metric(Strict):
    """A governed metric: one approved way to compute one number."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=2)
    description: str = Field(min_length=10)
    owner: Owner
    status: Status
    version: str
    updated: dt.date
    glossary: str
    type: Literal["simple", "ratio", "derived"]
    measure: Measure | None = None
    numerator: Measure | None = None
    denominator: Measure | None = None
    measures: dict[str, Measure] = {}
    metrics: tuple[str, ...] = Field(default=(), description="Metrics a derived formula uses.")
    parameters: dict[str, float] = {}
    expr: str | None = Field(default=None, description="Formula over measure/metric names.")
    filters: tuple[Filter, ...] = Field(default=(), description="Applied to every measure.")
    dimensions: tuple[str, ...] = ()
    format: Format
    unit: str | None = None
    target: Target | None = None
    visibility: Literal["public"] | Visibility = "public"
    # About what is still to come (open pipeline): a month or quarter named alone ("Q1") is
    # the next one not yet ended, not the last one started.
    forward_looking: bool = False
    path: str = ""
    field_lines: dict[str, int] = Field(default_factory=dict, exclude=True, repr=False)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_quoted(cls, value: object) -> object:
        if not isinstance(value, str) or not re.fullmatch(r"\d+\.\d+", value):
            raise ValueError('write the version as a quoted MAJOR.MINOR string such as "2.0"')
        return value

    @model_validator(mode="after")
    def _shape_fits_type(self) -> Metric:
        given = {k for k in ("measure", "numerator", "denominator", "expr")
                 if getattr(self, k) is not None} | ({"measures"} if self.measures else set())
        need = {"simple": {"measure"}, "ratio": {"numerator", "denominator"},
                "derived": {"expr"}}[self.type]
        allowed = need | ({"measures"} if self.type == "derived" else set())
        if missing := need - given:
            raise ValueError(f"a {self.type} metric needs {', '.join(sorted(missing))}")
        if extra := given - allowed:
            raise ValueError(f"a {self.type} metric takes no {', '.join(sorted(extra))}")
        return self

    def named_measures(self) -> dict[str, Measure]:
        """Every measure by the name the formula uses, with the metric-wide filters applied."""
        raw = {"simple": {"value": self.measure}, "ratio": {
            "numerator": self.numerator, "denominator": self.denominator}}.get(self.type,
                                                                             self.measures)
        return {name: m.with_filters(self.filters) for name, m in raw.items()}

    def formula(self) -> str:
        return {"simple": "value", "ratio": "numerator / denominator"}.get(self.type, self.expr)

    @property
    def periodic(self) -> bool:
        """Whether the metric is computed for a period (else over all data, as of now)."""
        return any(m.time for m in self.named_measures().values())

    @property
    def additive(self) -> bool:
        """Whether the values of the parts of a period add up to the period's value: a sum or
        count of what happened in the period (a target can then be pro-rated by days)."""
        m = self.measure
        return (self.type == "simple" and m is not None and m.agg in ("sum", "count")
                and m.time is not None and m.window == "period")

    @property
    def restricted(self) -> bool:
        return self.visibility != "public"
