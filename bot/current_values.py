"""This period's value of each governed metric, shown beside the definition of its term.

The value is a courtesy that every "what is X?" asks for, so it must not make the answer wait
on the warehouse. A running app keeps the values warm: `keep_warm` computes them at start and
again every interval (and reads every dimension's values once, which reading a question
needs), and answers read what was last computed. Without it (the command line, the console) a
value is computed when asked and reused for `max_age_s`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.periodic import every
from knowledge.answer import MetricResult, Period
from metrics.audience import PUBLIC, Audience
from metrics.compiler import Plan
from metrics.engine import MetricEngine
from metrics.errors import MetricUserError

log = logging.getLogger(__name__)
# A refresher that fell this many intervals behind (the warehouse is down or slow) no longer
# vouches for its values: an answer asks the warehouse again rather than show an old number.
STALE_INTERVALS = 5


@dataclass(frozen=True)
class _Entry:
    period: Period | None
    result: MetricResult
    at: float
    audience: Audience


class CurrentValues:
    """The default-period value of each metric, computed off the answer path when kept warm."""

    def __init__(self, engine: MetricEngine, max_age_s: float = 60.0) -> None:
        self.engine = engine
        self.max_age_s = max_age_s
        self._entries: dict[str, _Entry] = {}
        self._warm = threading.Event()

    @property
    def warm(self) -> bool:
        """Whether a refresher has filled the values (answers then never wait for one)."""
        return self._warm.is_set()

    def get(self, metric_id: str, audience: Audience = PUBLIC) -> MetricResult:
        """The value if `audience` may see it (raises MetricUserError if it may not)."""
        plan = self.engine.plan(metric_id, audience=audience)  # checks access on every ask
        entry = self._entries.get(plan.metric.id)
        if entry is not None and entry.period == plan.period:
            age = time.monotonic() - entry.at
            limit = self.max_age_s * (STALE_INTERVALS if self._warm.is_set() else 1)
            if age < limit:
                return entry.result
        return self._compute(plan, audience)

    def forget(self) -> None:
        """Drop every value: the definitions they were computed from have changed."""
        self._entries = {}

    def refresh(self) -> None:
        """Recompute every value asked for so far, and every public one."""
        audiences = {m.id: PUBLIC for m in self.engine.catalog}
        audiences.update({m: e.audience for m, e in self._entries.items()})
        for metric_id, audience in audiences.items():
            try:
                self._compute(self.engine.plan(metric_id, audience=audience), audience)
            except MetricUserError as exc:  # restricted, or the warehouse is down: try later
                log.debug("no current value for %s: %s", metric_id, exc)

    def keep_warm(self, interval_s: float) -> Callable[[], None]:
        """Refresh now and every `interval_s` on a daemon thread; returns a function to stop."""
        self.max_age_s = interval_s

        def tick() -> None:
            started = time.monotonic()
            self.refresh()
            self._warm.set()
            log.debug("current values refreshed in %.0f ms", (time.monotonic() - started) * 1000)

        stop_refreshing = every(interval_s, tick, "ssot-current-values",
                                first=self._dimension_values)

        def stop() -> None:
            stop_refreshing()
            self._warm.clear()

        return stop

    def _dimension_values(self) -> None:
        # Reading a question looks for dimension values in it ("EMEA bookings"); the engine
        # keeps them once read, so read them all now rather than on someone's first question.
        for metric in self.engine.catalog:
            for dim in metric.dimensions:
                try:
                    self.engine.dimension_values(metric, dim)
                except MetricUserError as exc:
                    log.debug("no values for %s.%s: %s", metric.id, dim, exc)

    def _compute(self, plan: Plan, audience: Audience) -> MetricResult:
        result = self.engine.run(plan, with_sql=False)  # shown as a value, never as SQL
        self._entries[plan.metric.id] = _Entry(plan.period, result, time.monotonic(), audience)
        return result
