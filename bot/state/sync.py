"""`sync`: record what changed in the governed files and queue who must hear about it.

The first sync of an empty store records every definition as the baseline and notifies
nobody: a fresh install must not announce 74 "new" definitions to every subscribed channel.
After that, each added, changed, approved, deprecated or removed definition gets a new
version and, in the same transaction, one outbox row per channel that should hear about it
(a channel is a surface, Slack or Teams, and its id there).
A draft is recorded but announces nothing; a draft becoming approved does.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.state import schema
from bot.state.definitions import Definition, load_definitions
from bot.state.diffing import diff_text
from bot.state.models import Change
from bot.state.store import ALL, SLACK, StateStore, change_from_rows, utcnow

ATTEMPTS = 3


@dataclass
class SyncReport:
    """What one sync recorded and queued."""

    changes: list[Change] = field(default_factory=list)
    queued: int = 0
    baseline: bool = False
    definitions: int = 0


def sync(store: StateStore, glossary_dir: Path, metrics_dir: Path,
         notify_channel: str | None = None, now: dt.datetime | None = None) -> SyncReport:
    """Record new versions and queue notifications; raises SyncRefused on invalid files."""
    current = load_definitions(glossary_dir, metrics_dir)
    now = (now or utcnow()).astimezone(dt.UTC)
    for _ in range(ATTEMPTS - 1):
        try:
            return _record(store, current, notify_channel, now)
        except IntegrityError:
            # Another instance recorded these versions first; re-reading finds them done.
            continue
    return _record(store, current, notify_channel, now)


def _record(store: StateStore, current: list[Definition], notify_channel: str | None,
            now: dt.datetime) -> SyncReport:
    v = schema.versions
    with store.transaction() as conn:
        latest = {(r.kind, r.definition_id): r for r in conn.execute(select(v).where(
            v.c.id.in_(select(func.max(v.c.id)).group_by(v.c.kind, v.c.definition_id))))}
        report = SyncReport(baseline=not latest, definitions=len(current))
        seen = set()
        for definition in current:
            seen.add((definition.kind, definition.id))
            previous = latest.get((definition.kind, definition.id))
            change = _change_kind(definition, previous)
            if change:
                _store(conn, report, definition, previous, change, notify_channel, now)
        for ident, previous in sorted(latest.items()):
            if ident not in seen and previous.change != "removed":
                gone = _as_definition(previous)
                _store(conn, report, gone, previous, "removed", notify_channel, now)
    return report


def _change_kind(new: Definition, previous) -> str | None:
    if previous is None or previous.change == "removed":
        return "added"
    if previous.content_hash == new.content_hash:
        return None
    if new.status == "deprecated" and previous.status != "deprecated":
        return "deprecated"
    if new.status == "approved" and previous.status != "approved":
        return "approved"
    return "changed"


def _store(conn: Connection, report: SyncReport, new: Definition, previous, change: str,
           notify_channel: str | None, now: dt.datetime) -> None:
    in_force_from = now
    if report.baseline and new.updated:
        # The baseline has been in force since the date its owners put on it.
        in_force_from = min(now, dt.datetime.combine(new.updated, dt.time(), tzinfo=dt.UTC))
    before = previous.text if previous is not None and change != "removed" else ""
    row_id = conn.execute(insert(schema.versions).values(
        definition_id=new.id, kind=new.kind, seq=(previous.seq + 1) if previous else 1,
        name=new.name, version=new.version, status=new.status, owner=new.owner,
        domain=new.domain, aliases=json.dumps(list(new.aliases)), path=new.path, text=new.text,
        content_hash=new.content_hash, recorded_at=now, in_force_from=in_force_from,
        change=change, diff=diff_text(before, new.text) if before else "",
    )).inserted_primary_key[0]
    row = conn.execute(select(schema.versions).where(schema.versions.c.id == row_id)).one()
    announced = None if change == "added" else _last_announced(conn, new, row_id)
    report.changes.append(change_from_rows(row, announced))
    if report.baseline or not _announces(new.status, change, previous):
        return
    payload = change_from_rows(row, announced).model_dump_json()
    for surface, channel in _channels(conn, new, notify_channel):
        conn.execute(insert(schema.outbox).values(
            version_id=row_id, surface=surface, channel=channel, payload=payload,
            status="pending", attempts=0, next_attempt_at=now, created_at=now))
        report.queued += 1


def _announces(status: str, change: str, previous) -> bool:
    if change == "removed":
        return previous.status != "draft"
    return status != "draft"


def _last_announced(conn: Connection, new: Definition, before_id: int):
    """The latest earlier version people were told about: drafts in between are skipped."""
    v = schema.versions
    query = (select(v).where(v.c.kind == new.kind, v.c.definition_id == new.id, v.c.id < before_id)
             .order_by(v.c.id.desc()).limit(1))
    return conn.execute(query.where(v.c.status != "draft", v.c.change != "removed")).first()


def _channels(conn: Connection, new: Definition,
              notify_channel: str | None) -> list[tuple[str, str]]:
    """One (surface, channel) per channel, however many of its subscriptions match."""
    s = schema.subscriptions
    targets = {ALL, new.id, *(t for t in (new.term, new.domain) if t)}
    query = select(s.c.surface, s.c.channel).where(s.c.target.in_(targets))
    found = {(r.surface, r.channel) for r in conn.execute(query)}
    if notify_channel:  # SSOT_NOTIFY_CHANNEL is a Slack channel
        found.add((SLACK, notify_channel))
    return sorted(found)


def _as_definition(row) -> Definition:
    return Definition(
        kind=row.kind, id=row.definition_id, name=row.name, version=row.version,
        status=row.status, owner=row.owner, domain=row.domain,
        aliases=tuple(json.loads(row.aliases)), path=row.path or "", text=row.text,
    )

