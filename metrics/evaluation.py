"""Score metric questions against their labels: was each answered exactly as labelled?

Each question goes through `Services.ask`, as `ssot ask` would send it, on the day its label
says it was asked. "Exactly" is the same metric, period, breakdown (in any order), filters (as
sets) and comparison; a question labelled `refuse` passes when no number is given.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict

from knowledge.answer import Answer, Period
from knowledge.errors import InvalidQuestion
from knowledge.evaluation import read_labelled
from metrics.engine import DEFAULT_PERIOD
from metrics.periods import Calendar, resolve

if TYPE_CHECKING:
    from metrics.engine import MetricEngine

_MARKS = ("refuse", "today")  # fields only a metric question file has


class Services(Protocol):
    """What every surface asks (bot.services.Services): the same path as `ssot ask`."""

    metrics: MetricEngine | None

    def ask(self, question: str) -> Answer: ...


class Span(BaseModel):
    """A labelled half-open period."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: dt.date
    end: dt.date

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


class MetricLabel(BaseModel):
    """One labelled metric question (see tests/eval/README.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str
    today: dt.date
    metric: str | None
    refuse: bool = False
    period: Span | None = None
    by: tuple[str, ...] = ()
    where: dict[str, tuple[str, ...]] = {}
    compare: Span | None = None
    category: str = "uncategorised"


@dataclass(frozen=True)
class Reading:
    """What the bot answered, in the terms of a label."""

    kind: str
    metric: str | None = None
    number: bool = False
    period: Span | None = None
    by: tuple[str, ...] = ()
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)
    compare: Span | None = None
    message: str = ""

    def __str__(self) -> str:
        if self.kind != "metric":
            shown = f"{self.kind}{' with a number' if self.number else ''}"
            return f"{shown}: {self.message}" if self.message else shown
        return _describe(self.metric, self.period, self.by, self.where, self.compare)


@dataclass(frozen=True)
class Outcome:
    label: MetricLabel
    got: Reading
    ok: bool
    millis: float


@dataclass
class MetricReport:
    """The figures `ssot eval` prints for a metric question file."""

    total: int
    exact: int
    refusals: int
    refused_without_number: int
    by_category: dict[str, tuple[int, int]]
    misses: list[Outcome]
    p50_ms: float

    @property
    def share(self) -> float:
        return self.exact / self.total if self.total else 0.0


def is_metric_file(path: Path) -> bool:
    """Whether a JSONL file holds metric questions (they carry `refuse` and `today`)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError:
                    return False
                return isinstance(first, dict) and any(k in first for k in _MARKS)
    return False


def read_metric_questions(path: Path) -> list[MetricLabel]:
    """Parse the file; raises ContentError listing every bad line."""
    return read_labelled(path, MetricLabel)


def run(services: Services, labels: list[MetricLabel]) -> list[Outcome]:
    """Ask every question on its own day, as `ssot ask` does."""
    outcomes = []
    for label in labels:
        with asked_on(services.metrics, label.today):
            start = time.perf_counter()
            try:
                answer = services.ask(label.question)
            except InvalidQuestion as exc:
                answer = Answer(kind="no_answer", question=label.question, message=str(exc))
            millis = (time.perf_counter() - start) * 1000
            got = reading_of(answer)
            ok = matches(label, got, services.metrics)
        outcomes.append(Outcome(label, got, ok, millis))
    return outcomes


@contextmanager
def asked_on(engine: MetricEngine | None, day: dt.date) -> Iterator[None]:
    """The engine's calendar says today is `day` (fiscal year unchanged) for the duration."""
    if engine is None:
        yield
        return
    before = engine.calendar
    fiscal_start = before().fiscal_start
    engine.calendar = lambda: Calendar(day, fiscal_start)
    try:
        yield
    finally:
        engine.calendar = before


def reading_of(answer: Answer) -> Reading:
    """An answer in the terms of a label."""
    result = answer.result
    if answer.kind != "metric" or result is None:
        return Reading(kind=answer.kind, metric=answer.id, number=result is not None,
                       message=answer.message or "")
    comparison = getattr(result, "comparison", None)
    return Reading(
        kind="metric", metric=result.metric, number=True, period=_span(result.period),
        by=tuple(result.dimensions),
        where={d: (v,) if isinstance(v, str) else tuple(v) for d, v in result.filters.items()},
        compare=_span(comparison.period) if comparison is not None else None)


def matches(label: MetricLabel, got: Reading, engine: MetricEngine | None) -> bool:
    """Whether the answer is exactly what the label says (or no number, for a refusal)."""
    if label.refuse:
        return not got.number
    if label.metric is None:
        return got.kind != "metric"
    if got.kind != "metric" or got.metric != label.metric:
        return False
    expected = label.period or _default(label, engine)
    return (got.period == expected and set(got.by) == set(label.by)
            and _sets(got.where) == _sets(label.where) and got.compare == label.compare)


def _default(label: MetricLabel, engine: MetricEngine | None) -> Span | None:
    """The period a metric is computed for when none is asked: none for an all-time one."""
    if engine is None or label.metric not in engine.catalog:
        return None
    metric = engine.catalog[label.metric]
    if not engine.catalog.periodic(metric):
        return None
    return _span(resolve(DEFAULT_PERIOD, Calendar(label.today, engine.calendar().fiscal_start)))


def score(outcomes: list[Outcome]) -> MetricReport:
    """The share answered exactly as labelled, overall and by category, and the misses."""
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for o in outcomes:
        per[o.label.category][0] += o.ok
        per[o.label.category][1] += 1
    refusals = [o for o in outcomes if o.label.refuse]
    millis = sorted(o.millis for o in outcomes)
    return MetricReport(
        total=len(outcomes), exact=sum(o.ok for o in outcomes), refusals=len(refusals),
        refused_without_number=sum(not o.got.number for o in refusals),
        by_category={c: (hits, n) for c, (hits, n) in sorted(per.items())},
        misses=[o for o in outcomes if not o.ok],
        p50_ms=millis[len(millis) // 2] if millis else 0.0)


def expected_text(label: MetricLabel) -> str:
    """The label, as a miss shows it."""
    if label.refuse:
        return "no number"
    if label.metric is None:
        return "not a metric answer"
    return _describe(label.metric, label.period or "default", label.by, label.where,
                     label.compare)


def _describe(metric, period, by, where, compare) -> str:
    parts = [metric or "-", f"period {period or 'none'}"]
    if by:
        parts.append(f"by {', '.join(sorted(by))}")
    if where:
        parts.append("where " + "; ".join(f"{d} in {', '.join(sorted(v))}"
                                           for d, v in sorted(where.items())))
    if compare:
        parts.append(f"vs {compare}")
    return " · ".join(parts)


def _span(period: Period | None) -> Span | None:
    return None if period is None else Span(start=period.start, end=period.end)


def _sets(where: dict[str, tuple[str, ...]]) -> dict[str, frozenset[str]]:
    return {d: frozenset(v) for d, v in where.items() if v}
