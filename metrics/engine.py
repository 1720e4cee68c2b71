"""Run governed metrics: validate a request, compile it, execute it read-only, explain it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import sqlalchemy as sa
from rapidfuzz import fuzz, process

from knowledge.answer import Comparison, MetricResult, MetricRow, Period
from metrics.audience import PUBLIC, Audience
from metrics.breaker import Breaker
from metrics.catalog import Catalog
from metrics.compiler import (
    Plan,
    additive,
    compile_metric,
    grain_compiles,
    moment_of_asking,
    takes_snapshots,
)
from metrics.deadlines import Deadline
from metrics.definitions import Metric
from metrics.errors import BadRequest, Restricted, UnknownMetric, WarehouseUnavailable
from metrics.formatting import change_between, format_value, target_status
from metrics.grains import GRAINS, bucket_period, bucket_starts
from metrics.interpretation import interpretation
from metrics.model import DIMENSIONS, TABLES
from metrics.periods import Calendar, resolve
from metrics.rendering import render_sql

DEFAULT_PERIOD = "this_quarter"
__all__ = ["GRAINS", "MetricEngine"]
# Buckets a time breakdown may have: a few years by day in one GROUP BY, fewer when each bucket
# is a query of its own (a trailing-window metric).
MAX_BUCKETS = 1500
MAX_BUCKET_QUERIES = 120


@dataclass
class MetricEngine:
    """The governed metrics over one warehouse; nothing else is ever sent to it."""

    catalog: Catalog
    warehouse: sa.Engine
    calendar: Callable[[], Calendar]
    currency: str = "USD"
    # Every warehouse call waits at most the breaker's timeout, and none while it is open.
    breaker: Breaker = field(default_factory=Breaker)
    # Answers from the generated demo warehouse say so.
    demo: bool = False
    _values: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict, repr=False)
    _memo: dict[tuple, object] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def find(self, name: str) -> Metric:
        """A metric by id or name; UnknownMetric carries the closest ids."""
        found = self.catalog.metrics.get(name)
        if found is not None:
            return found
        wanted = " ".join(name.strip().lower().replace("_", " ").split())
        for metric in self.catalog:
            if wanted in (metric.id.replace("_", " "), metric.name.lower()):
                return metric
        choices = {m.id: f"{m.id.replace('_', ' ')} {m.name.lower()}" for m in self.catalog}
        close = process.extract(wanted, choices, scorer=fuzz.WRatio, limit=3, score_cutoff=60)
        suggestions = [key for _, _, key in close]
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        raise UnknownMetric(f"no governed metric '{name}'.{hint}",
                            suggestions)

    def plan(self, metric_id: str, period: str | Period | None = None,
             by: Sequence[str] = (), where: Mapping[str, str | Sequence[str]] | None = None,
             audience: Audience = PUBLIC, compare: str | Period | None = None) -> Plan:
        """Check every part of a request against the definition and the warehouse.

        `by` takes dimensions and at most one time grain (GRAINS); a filter with several
        values keeps any of them; `compare` is a period to compare the value with.
        """
        metric = self.find(metric_id)
        self._check_audience(metric, audience)
        by, where = tuple(by), where or {}
        grains = tuple(key for key in by if key in GRAINS)
        self._check_breakdown(metric, by, grains, where, compare is not None)
        kept = {dim: self._canonical_values(metric, dim, values) for dim, values in where.items()}
        cal = self.calendar()
        resolved = compared = None
        if self.catalog.periodic(metric):
            resolved = self._period(period or DEFAULT_PERIOD, cal, metric.forward_looking)
            if compare is not None:
                compared = self._period(compare, cal, metric.forward_looking)
        for asked in (resolved, compared):
            if asked is not None and asked.start > cal.today and self._snapshots(metric):
                raise BadRequest(f"{metric.name} is measured at a moment, and {asked.label} "
                                 "has not started yet: there is no value for it. Ask for a "
                                 "period that has started, such as this month.")
        plan = Plan(metric=metric, period=resolved,
                    by=(*grains, *(key for key in by if key not in GRAINS)), where=kept,
                    compare=compared, fiscal_start=cal.fiscal_start)
        if plan.grain:
            self._check_buckets(plan)
        return plan

    def _period(self, period: str | Period, cal: Calendar, forward: bool) -> Period:
        """A named period on this calendar; reading one costs as much as a small query's
        Python, and the answer changes only with the day."""
        if isinstance(period, Period):
            return period
        return self._remember(("period", period, cal, forward),
                              lambda: resolve(period, cal, forward))

    def _check_breakdown(self, metric: Metric, by: tuple[str, ...], grains: tuple[str, ...],
                         where: Mapping[str, object], comparing: bool) -> None:
        """Dimensions the metric allows, each once, at most one time grain, and time only for
        a metric computed for a period."""
        periodic = self.catalog.periodic(metric)
        for dim in [*(key for key in by if key not in GRAINS), *where]:
            if dim not in metric.dimensions:
                allowed = ", ".join(metric.dimensions) or "none"
                time = f"; or by one of {', '.join(GRAINS)}" if periodic else ""
                raise BadRequest(f"{metric.id} cannot be broken down or filtered by '{dim}'; "
                                 f"allowed dimensions: {allowed}{time}")
        if len(set(by)) != len(by):
            raise BadRequest("each dimension can be asked for once in --by")
        if len(grains) > 1:
            raise BadRequest(f"break down by one time grain at a time, not {' and '.join(grains)}")
        if not periodic and (grains or comparing):
            asked = f"broken down by {grains[0]}" if grains else "compared with another period"
            raise BadRequest(f"{metric.id} is computed over all data as of now, not for a "
                             f"period, so it cannot be {asked}")

    def _check_buckets(self, plan: Plan) -> None:
        """A breakdown by time stays readable, and bucket-by-bucket metrics stay quick."""
        count = len(bucket_starts(plan.period, plan.grain, plan.fiscal_start))
        one_query = grain_compiles(self.catalog, plan.metric)
        limit = MAX_BUCKETS if one_query else MAX_BUCKET_QUERIES
        if count > limit:
            why = "" if one_query else (f"; {plan.metric.name} is computed one {plan.grain} "
                                        "at a time")
            raise BadRequest(f"{plan.period.label} by {plan.grain} is {count:,} {plan.grain}s"
                             f"{why}; ask for at most {limit:,}, or for a longer grain")

    def run(self, plan: Plan, with_sql: bool = True) -> MetricResult:
        """The value, the breakdown rows, the target and the SQL, for a checked plan.

        `with_sql=False` leaves the SQL text empty: pretty-printing it costs more than the query
        and loads sqlglot, which a value shown beside a definition never needs.
        """
        metric = plan.metric
        adds_up = additive(self.catalog, metric)
        raw = self._breakdown(plan) if plan.by else []
        if plan.by and adds_up:
            # The buckets or groups add up to the whole: no second scan for the total.
            value = _added(raw, metric)
        else:
            value = _float(self._run_plan(self._total(plan, plan.period))[0][-1])
        comparison = self._comparison(plan, value) if plan.compare else None
        return MetricResult(
            metric=metric.id, name=metric.name, value=value, formatted=self._format(metric, value),
            format=metric.format, period=plan.period, dimensions=plan.by,
            filters=dict(plan.where), rows=self._rows(plan, raw),
            target=target_status(metric.target, value, plan.period, metric.format, metric.unit,
                                 self.currency, today=self.calendar().today,
                                 additive=adds_up),
            sql=self.sql(plan) if with_sql else "", demo=self.demo,
            interpretation=interpretation(plan), comparison=comparison, grain=plan.grain,
        )

    @staticmethod
    def _total(plan: Plan, period: Period | None) -> Plan:
        return Plan(metric=plan.metric, period=period, where=plan.where,
                    fiscal_start=plan.fiscal_start, as_of=plan.as_of)

    def _breakdown(self, plan: Plan) -> list[Sequence]:
        """Rows of (keys..., value); by a grain whose windows do not compile, bucket by bucket."""
        if not plan.grain or grain_compiles(self.catalog, plan.metric):
            return self._run_plan(plan)
        rows: list[Sequence] = []
        for start, part in self._bucket_plans(plan):
            rows += [(start, *row) for row in self._run_plan(part)]
        return rows

    def _bucket_plans(self, plan: Plan) -> list[tuple[dt.date, Plan]]:
        cal = self.calendar()
        dims = plan.by[1:]
        return [(start, Plan(metric=plan.metric, by=dims, where=plan.where,
                             fiscal_start=plan.fiscal_start, as_of=plan.as_of,
                             period=bucket_period(start, plan.grain, plan.period, cal)))
                for start in bucket_starts(plan.period, plan.grain, plan.fiscal_start)]

    def _rows(self, plan: Plan, raw: list[Sequence]) -> tuple[MetricRow, ...]:
        """Breakdown rows; by a grain, every bucket in time order, an empty one included."""
        def row(keys: Sequence, value: object) -> MetricRow:
            dims = {d: (None if v is None else str(v)) for d, v in zip(plan.by, keys,
                                                                       strict=True)}
            number = _float(value)
            return MetricRow(dimensions=dims, value=number,
                             formatted=self._format(plan.metric, number))

        if not plan.grain:
            return tuple(row(r[:-1], r[-1]) for r in raw)
        found = {(str(r[0]), *r[1:-1]): r[-1] for r in raw}
        others = sorted({key[1:] for key in found}, key=lambda k: [(v is None, str(v))
                                                                    for v in k])
        empty = _empty(plan.metric)
        return tuple(row((start, *other), found.get((start, *other), empty))
                     for start in map(str, bucket_starts(plan.period, plan.grain,
                                                          plan.fiscal_start))
                     for other in (others if len(plan.by) > 1 else [()]))

    def _comparison(self, plan: Plan, value: float | None) -> Comparison:
        metric = plan.metric
        other = _float(self._run_plan(self._total(plan, plan.compare))[0][-1])
        change, change_text = change_between(value, other, metric.format)
        return Comparison(period=plan.compare, value=other, formatted=self._format(metric, other),
                          change=change, change_formatted=change_text)

    def sql(self, plan: Plan, dialect: str | None = None) -> str:
        """The governed SQL of a plan, readable, for the warehouse's dialect or another."""
        dialect = dialect or self.warehouse.dialect.name
        if plan.grain and not grain_compiles(self.catalog, plan.metric):
            _, last = self._bucket_plans(plan)[-1]
            return (f"-- {plan.metric.id} by {plan.grain}: one query per {plan.grain}; "
                    f"this one is for {last.period.label}\n" + self.sql(last, dialect))
        return self._remember(("sql", dialect, *self._key(plan)), lambda: render_sql(
            self._statement(plan), dialect, self.warehouse))

    def _statement(self, plan: Plan) -> sa.Select:
        plan = self._dated(plan)
        return self._remember(("statement", *self._key(plan)),
                              lambda: compile_metric(self.catalog, plan))

    def _key(self, plan: Plan) -> tuple:
        return (id(self.catalog), plan.metric.id, plan.period, plan.by,
                tuple(sorted(plan.where.items())), plan.fiscal_start, self._dated(plan).as_of)

    def _snapshots(self, metric: Metric) -> bool:
        return self._remember(("snapshots", id(self.catalog), metric.id),
                              lambda: takes_snapshots(self.catalog, metric))

    def _dated(self, plan: Plan) -> Plan:
        """The plan with the moment of asking, for a metric whose snapshot depends on it."""
        if plan.as_of is not None or not self._snapshots(plan.metric):
            return plan
        return dataclasses.replace(plan, as_of=moment_of_asking(self.calendar().today))

    def _remember(self, key: tuple, make: Callable[[], Any]) -> Any:
        """Compiling and pretty-printing cost more than a small query; both depend only on
        the plan, so the same question asked again reuses them."""
        with self._lock:
            found = self._memo.get(key)
        if found is None:
            found = make()
            with self._lock:
                if len(self._memo) > 4096:
                    self._memo.clear()
                self._memo[key] = found
        return found

    def _format(self, metric: Metric, value: float | None) -> str:
        return format_value(value, metric.format, metric.unit, self.currency)

    def may_see(self, metric_id: str, audience: Audience) -> bool:
        """Whether `audience` may see this metric's value (every metric it is built from)."""
        try:
            self._check_audience(self.find(metric_id), audience)
        except (Restricted, UnknownMetric):
            return False
        return True

    def _check_audience(self, metric: Metric, audience: Audience) -> None:
        for needed in self.catalog.dependencies(metric):
            vis = needed.visibility
            if vis == "public":
                continue
            channel = (audience.channel or "").lstrip("#").lower()
            if channel in {c.lstrip("#").lower() for c in vis.channels}:
                continue
            if {g.lower() for g in audience.groups} & {g.lower() for g in vis.groups}:
                continue
            where = [f"#{c.lstrip('#')}" for c in vis.channels] + [
                f"the {g} group" for g in vis.groups]
            raise Restricted(f"{metric.name} is restricted to {', '.join(where)}; "
                             "ask there, or ask its owner "
                             f"({metric.owner}) for access. Its definition is public: ask "
                             f"what {metric.name} means.")

    def _canonical_values(self, metric: Metric, dim: str,
                          values: str | Sequence[str]) -> tuple[str, ...]:
        """The stored spelling of each asked value, each once, in the order asked."""
        values = (values,) if isinstance(values, str) else tuple(values)
        if not values:
            raise BadRequest(f"give at least one {dim} to filter by")
        return tuple(dict.fromkeys(self._canonical(metric, dim, v) for v in values))

    def _canonical(self, metric: Metric, dim: str, value: str) -> str:
        """The warehouse's spelling of a filter value, matched case-insensitively."""
        known = self.dimension_values(metric, dim)
        found = known.get(value.strip().lower())
        if found is None:
            shown = ", ".join(sorted(known.values())[:20])
            raise BadRequest(f"'{value}' is not a {dim} in the warehouse; {dim} values: {shown}")
        return found

    def dimension_values(self, metric: Metric, dim: str) -> dict[str, str]:
        """Lower-cased → stored spelling of every value a dimension takes."""
        first = next(iter(self.catalog.dependencies(metric)[-1].named_measures().values()))
        holder, column = DIMENSIONS[first.table][dim]
        with self._lock:
            cached = self._values.get((holder, column))
        if cached is None:
            col = TABLES[holder].c[column]
            rows = self._execute(sa.select(col).where(col.is_not(None)).distinct())
            cached = {str(r[0]).lower(): str(r[0]) for r in rows}
            with self._lock:
                self._values[(holder, column)] = cached
        return cached

    def ping(self) -> None:
        """Raise WarehouseUnavailable unless the warehouse answers a trivial query now."""
        self._execute(sa.select(sa.literal(1)))

    def _run_plan(self, plan: Plan) -> list[Sequence]:
        if self.warehouse.dialect.name != "duckdb":
            return self._execute(self._statement(plan))
        # duckdb-engine turns SQLAlchemy's statement cache off and wraps every query in
        # BEGIN/ROLLBACK: a millisecond or two, which is 10 % of a small metric. A plan's SQL
        # never changes, so it is compiled once and sent straight to the read-only driver.
        sql, params = self._remember(("compiled", *self._key(plan)), lambda: _positional(
            self._statement(plan).compile(dialect=self.warehouse.dialect)))
        return self.breaker.call_here(lambda deadline: self._run_raw(sql, params, deadline))

    def _run_raw(self, sql: str, params: tuple, deadline: Deadline) -> list[Sequence]:
        try:
            raw = self.warehouse.raw_connection()
        except sa.exc.DBAPIError as exc:
            raise _unavailable(exc.orig or exc) from None
        try:
            deadline.arm(raw.driver_connection.interrupt)
            cursor = raw.cursor()
            cursor.execute(sql, params)
            return cursor.fetchall()
        except duckdb.Error as exc:  # raised by the driver itself, not wrapped by SQLAlchemy
            raise _unavailable(exc) from None
        finally:
            deadline.arm(None)
            # An interrupt that came as the query finished could reach the next one on this
            # connection: it is not given back to the pool.
            if deadline.expired:
                raw.invalidate()
            raw.close()

    def _execute(self, statement: sa.Executable) -> list[sa.Row]:
        return self.breaker.call(lambda: self._execute_now(statement))

    def _execute_now(self, statement: sa.Executable) -> list[sa.Row]:
        try:
            with self.warehouse.connect() as conn:
                return list(conn.execute(statement))
        except sa.exc.DBAPIError as exc:
            raise _unavailable(exc.orig or exc) from None


def _positional(compiled: sa.engine.Compiled) -> tuple[str, tuple]:
    values = compiled.construct_params()
    return compiled.string, tuple(values[name] for name in compiled.positiontup)


def _unavailable(cause: BaseException) -> WarehouseUnavailable:
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return WarehouseUnavailable(
        f"the warehouse did not answer ({reason[:200]}); definitions still work, "
        "metric numbers are unavailable until it is back")


def _float(value: object) -> float | None:
    return None if value is None else float(value)


def _added(rows: list[Sequence], metric: Metric) -> float | None:
    """The whole of an additive metric from its parts; no rows: 0 for a count, else unknown."""
    values = [float(row[-1]) for row in rows if row[-1] is not None]
    if values:
        return sum(values)
    return 0.0 if metric.measure.agg == "count" else None


def _empty(metric: Metric) -> float | None:
    """The value of a bucket with no rows: nothing counted or summed is 0, anything else
    (an average, a ratio) is undefined."""
    if metric.type == "simple" and metric.measure.agg in ("count", "count_distinct", "sum"):
        return 0.0
    return None
