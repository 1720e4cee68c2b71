"""Liveness and readiness: is the process up, and can it do its job right now.

`/healthz` only says the process answers. `/readyz` says whether the bot can serve what it
promises: a recent successful sync (so answers and notifications follow the files), a state
store and a warehouse that answer, and an outbox that is being emptied. Each check reports
its reason, so an operator sees why an instance is not ready, not just that it is not.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select, text

from bot.state import schema
from bot.state.store import StateStore, aware, utcnow


@dataclass
class Health:
    """What the background loop last managed, written by it and read by `/readyz`."""

    started: float = field(default_factory=time.monotonic)
    last_sync: float | None = None
    last_error: str | None = None
    # The problems the last refused sync named, so the log says them once, not every round.
    refused: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def synced(self) -> None:
        with self._lock:
            self.last_sync, self.last_error = time.monotonic(), None

    def sync_failed(self, reason: str) -> None:
        with self._lock:
            self.last_error = reason


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, and what it saw."""

    name: str
    ok: bool
    detail: str


def readiness(health: Health, store: StateStore, sync_interval_s: float,
              warehouse: Callable[[], None] | None = None,
              max_backlog_age_s: float = 3600.0) -> list[Check]:
    """Every readiness check; the instance is ready when all of them pass."""
    checks = [_sync(health, sync_interval_s), *_store(store, max_backlog_age_s)]
    if warehouse is not None:
        checks.append(_warehouse(warehouse))
    return checks


def _sync(health: Health, interval_s: float) -> Check:
    # Three missed rounds (a minute at least) is a loop that is not keeping up.
    allowed = max(3 * interval_s, 60.0)
    now = time.monotonic()
    if health.last_sync is None:
        waited = now - health.started
        ok = waited < allowed
        return Check("sync", ok, f"no successful sync yet ({waited:.0f} s since start)"
                     + (f"; last error: {health.last_error}" if health.last_error else ""))
    age = now - health.last_sync
    detail = f"last successful sync {age:.0f} s ago"
    if health.last_error:
        detail += f"; last error: {health.last_error}"
    return Check("sync", age < allowed, detail)


def _store(store: StateStore, max_backlog_age_s: float) -> list[Check]:
    o = schema.outbox
    query = (select(func.count(), func.min(o.c.created_at))
             .where(o.c.status.in_(("pending", "sending"))))
    try:
        # A write transaction: a store that still reads but refuses writes (SQLite locked by
        # another writer) loses feedback and claims, so it is not ready.
        with store.transaction() as conn:
            conn.execute(text("SELECT 1"))
        with store.reading() as conn:
            backlog, oldest = conn.execute(query).one()
    except Exception as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return [Check("state_store", False, f"does not answer: {reason}"),
                Check("outbox", False, "unknown: the state store does not answer")]
    checks = [Check("state_store", True, f"answers and accepts writes ({store.dialect})")]
    if not backlog:
        return [*checks, Check("outbox", True, "nothing pending")]
    age = (utcnow() - aware(oldest)).total_seconds()
    detail = f"{backlog} pending, oldest queued {_ago(age)} ago"
    return [*checks, Check("outbox", age < max_backlog_age_s, detail)]


def _warehouse(probe: Callable[[], None]) -> Check:
    try:
        probe()
    except Exception as exc:
        return Check("warehouse", False, str(exc)[:300])
    return Check("warehouse", True, "answers")


def _ago(seconds: float) -> str:
    return str(dt.timedelta(seconds=round(max(seconds, 0))))


def report(checks: list[Check]) -> tuple[bool, bytes]:
    """(ready, the checks as JSON) for `/readyz`."""
    ok = all(c.ok for c in checks)
    body = {"ready": ok, "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks}}
    return ok, json.dumps(body, indent=1).encode()
