"""Run governed metrics: validate a request, compile it, execute it read-only, explain it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import sqlalchemy as sa
from rapidfuzz import fuzz, process

from knowledge.answer import MetricResult, MetricRow, Period
from metrics.audience import PUBLIC, Audience
from metrics.breaker import Breaker
from metrics.catalog import Catalog
from metrics.compiler import Plan, compile_metric
from metrics.definitions import Metric
from metrics.errors import BadRequest, Restricted, UnknownMetric, WarehouseUnavailable
from metrics.formatting import format_value, target_status
from metrics.model import DIMENSIONS, TABLES
from metrics.periods import Calendar, resolve
from metrics.rendering import render_sql

DEFAULT_PERIOD = "this_quarter"


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
        wanted = " ".join(name.strip().lower().replace("_", " ").split())
        for metric in self.catalog:
            if wanted in (metric.id.replace("_", " "), metric.name.lower()):
                return metric
        choices = {m.id: f"{m.id.replace('_', ' ')} {m.name.lower()}" for m in self.catalog}
        close = process.extract(wanted, choices, scorer=fuzz.WRatio, limit=3, score_cutoff=60)
        suggestions = [key for _, _, key in close]
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        raise UnknownMetric(f"no governed metric '{name}'.{hint} `ssot metrics` lists them.",
                            suggestions)

    def plan(self, metric_id: str, period: str | Period | None = None,
             by: Sequence[str] = (), where: Mapping[str, str] | None = None,
             audience: Audience = PUBLIC) -> Plan:
        """Check every part of a request against the definition and the warehouse."""
        metric = self.find(metric_id)
        self._check_audience(metric, audience)
        for dim in [*by, *(where or {})]:
            if dim not in metric.dimensions:
                allowed = ", ".join(metric.dimensions) or "none"
                raise BadRequest(f"{metric.id} cannot be broken down or filtered by '{dim}'; "
                                 f"allowed dimensions: {allowed}")
        if len(set(by)) != len(by):
            raise BadRequest("each dimension can be asked for once in --by")
        canonical = {dim: self._canonical(metric, dim, value)
                     for dim, value in (where or {}).items()}
        resolved = None
        if self.catalog.periodic(metric):
            resolved = period if isinstance(period, Period) else resolve(
                period or DEFAULT_PERIOD, self.calendar())
        return Plan(metric=metric, period=resolved, by=tuple(by), where=canonical)

    def run(self, plan: Plan, with_sql: bool = True) -> MetricResult:
        """The value, the breakdown rows, the target and the SQL, for a checked plan.

        `with_sql=False` leaves the SQL text empty: pretty-printing it costs more than the query
        and loads sqlglot, which a value shown beside a definition never needs.
        """
        metric = plan.metric
        total_plan = Plan(metric=metric, period=plan.period, where=plan.where)
        value = self._run_plan(total_plan)[0][-1]
        rows: list[MetricRow] = []
        if plan.by:
            for row in self._run_plan(plan):
                dims = {d: (None if v is None else str(v)) for d, v in zip(plan.by, row,
                                                                           strict=False)}
                rows.append(MetricRow(dimensions=dims, value=_float(row[-1]),
                                      formatted=self._format(metric, _float(row[-1]))))
        value = _float(value)
        return MetricResult(
            metric=metric.id, name=metric.name, value=value, formatted=self._format(metric, value),
            format=metric.format, period=plan.period, dimensions=plan.by,
            filters=dict(plan.where), rows=tuple(rows),
            target=target_status(metric.target, value, plan.period, metric.format, metric.unit,
                                 self.currency),
            sql=self.sql(plan) if with_sql else "", demo=self.demo,
        )

    def sql(self, plan: Plan, dialect: str | None = None) -> str:
        """The governed SQL of a plan, readable, for the warehouse's dialect or another."""
        dialect = dialect or self.warehouse.dialect.name
        return self._remember(("sql", dialect, *self._key(plan)), lambda: render_sql(
            self._statement(plan), dialect, self.warehouse))

    def _statement(self, plan: Plan) -> sa.Select:
        return self._remember(("statement", *self._key(plan)),
                              lambda: compile_metric(self.catalog, plan))

    def _key(self, plan: Plan) -> tuple:
        return (id(self.catalog), plan.metric.id, plan.period, plan.by,
                tuple(sorted(plan.where.items())))

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
                             f"({metric.owner}) for access. Its definition is public: "
                             f"`ssot define {metric.glossary}`.")

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
        return self.breaker.call(lambda: self._run_raw(sql, params))

    def _run_raw(self, sql: str, params: tuple) -> list[Sequence]:
        try:
            raw = self.warehouse.raw_connection()
        except sa.exc.DBAPIError as exc:
            raise _unavailable(exc.orig or exc) from None
        try:
            cursor = raw.cursor()
            cursor.execute(sql, params)
            return cursor.fetchall()
        except duckdb.Error as exc:  # raised by the driver itself, not wrapped by SQLAlchemy
            raise _unavailable(exc) from None
        finally:
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
