"""`StateStore`: the bot's own database (SQLite by default, PostgreSQL in production).

Every method is synchronous, opens its own short transaction and is safe to call from any
thread: Bolt's listener threads, the background sync and a delivery worker share one store.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

from bot.state import migrate, schema
from bot.state.migrate import Migration
from bot.state.models import Change, Conversation, Gap, Subscription, Version
from knowledge.normalize import key

T = TypeVar("T")
ALL = "all"
# How long a write waits for SQLite's lock before failing (and the caller saying so).
BUSY_TIMEOUT_S = 5.0
# Any fixed 64-bit number, the same in every instance: the advisory lock on schema changes.
SCHEMA_LOCK = 0x5507_5C4E
SLACK = schema.SLACK
log = logging.getLogger(__name__)
_SPACES = re.compile(r"\s+")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands datetimes back without a zone; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


def storable(value: str | None) -> str | None:
    """Text any database keeps: PostgreSQL refuses NUL bytes and unpaired surrogates."""
    if value is None:
        return None
    value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "\ufffd")


def _missing_table(exc: SQLAlchemyError) -> bool:
    orig = getattr(exc, "orig", None)
    return (type(orig).__name__ == "UndefinedTable"
            or "no such table" in str(orig or exc))


def _retried(method: Callable[..., T]) -> Callable[..., T]:
    """Run a store method again, once, after its tables had to be re-created."""

    @functools.wraps(method)
    def again(self: StateStore, *args, **kwargs) -> T:
        try:
            return method(self, *args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            if not _missing_table(exc):
                raise
            return method(self, *args, **kwargs)

    return again


def question_key(question: str) -> str:
    """Questions that differ only in case, spacing or end punctuation are the same gap."""
    return _SPACES.sub(" ", question.casefold()).strip().rstrip("?!. ")[:500]


class StateStore:
    """History, subscriptions, outbox, feedback, gaps and chat bookkeeping, per surface."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(ssot_write=True)
        self._schema_lock = threading.Lock()
        self.migration = self.ensure_schema(heal=False)

    def ensure_schema(self, heal: bool = True) -> Migration:
        """Upgrade the tables to the newest revision; safe from many threads and processes.

        On PostgreSQL an advisory lock makes concurrent starts (several instances, or a
        database re-created under a running one) migrate once; SQLite's write lock, taken at
        BEGIN IMMEDIATE, serialises it there. A store already at the newest revision costs
        one query and no lock. `heal` also re-creates tables lost under a running app.
        """
        if not heal:
            with self.engine.connect() as conn:
                found = migrate.recorded(conn)
            if found == migrate.head():
                return Migration(before=found, after=found)
        with self._schema_lock, self._writer.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
            done = migrate.upgrade(conn)
            if heal:
                # At the newest revision the tables are exactly these: put back any lost one.
                schema.metadata.create_all(conn)
        return done

    @classmethod
    def from_url(cls, database_url: str, schema_name: str | None = None) -> StateStore:
        """Open (and create if needed) the store; `schema_name` puts the tables in a PG schema."""
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite":
            engine = _sqlite_engine(database_url)
        else:
            engine = create_engine(database_url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        if schema_name:
            with engine.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"')
            engine = engine.execution_options(schema_translate_map={None: schema_name})
        try:
            return cls(engine)
        except Exception:
            engine.dispose()
            raise

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        with self._healing(), self._writer.begin() as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read: on SQLite it takes no write lock, so a busy writer never delays it."""
        with self._healing(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _healing(self) -> Iterator[None]:
        # A database dropped and re-created under a running app has no tables: put them back
        # so the next call works, without a restart. This call still fails (and says why).
        try:
            yield
        except (OperationalError, ProgrammingError) as exc:
            if _missing_table(exc):
                log.warning("the state store lost its tables; re-creating them: %s",
                            str(exc.orig or exc).splitlines()[0])
                try:
                    self.ensure_schema()
                except SQLAlchemyError:
                    log.warning("could not re-create the state store's tables", exc_info=True)
            raise

    def close(self) -> None:
        self.engine.dispose()

    # Feedback and gaps -------------------------------------------------------------------

    @_retried
    def record_feedback(self, question: str, answer_id: str | None, helpful: bool,
                        user: str | None, channel: str | None, *, surface: str = SLACK) -> None:
        """Store a Helpful / Not helpful click; a Not helpful one counts as a gap."""
        question, user, channel = storable(question), storable(user), storable(channel)
        with self.transaction() as conn:
            conn.execute(insert(schema.feedback).values(
                question=question, question_key=question_key(question), answer_id=answer_id,
                helpful=helpful, surface=surface, user=user, channel=channel, at=utcnow()))

    @_retried
    def record_unanswered(self, question: str, user: str | None, channel: str | None, *,
                          surface: str = SLACK) -> None:
        """Store a question that got no answer: the glossary's to-do list."""
        question, user, channel = storable(question), storable(user), storable(channel)
        with self.transaction() as conn:
            conn.execute(insert(schema.unanswered).values(
                question=question, question_key=question_key(question), surface=surface,
                user=user, channel=channel, at=utcnow()))

    @_retried
    def gaps(self, limit: int = 20) -> list[Gap]:
        """The most-asked unanswered (or unhelpfully answered) questions, most asked first."""
        u, f = schema.unanswered, schema.feedback
        asked = union_all(
            select(u.c.question_key.label("k"), u.c.question.label("q"), u.c.at.label("at")),
            select(f.c.question_key, f.c.question, f.c.at).where(f.c.helpful.is_(False)),
        ).subquery()
        grouped = (
            select(asked.c.k, func.count().label("n"), func.max(asked.c.at).label("last"))
            .group_by(asked.c.k).order_by(func.count().desc(), func.max(asked.c.at).desc())
            .limit(limit)
        )
        with self.reading() as conn:
            rows = conn.execute(grouped).all()
            latest = {}
            if rows:
                phrasing = select(asked.c.k, asked.c.q).where(
                    asked.c.k.in_([r.k for r in rows])).order_by(asked.c.at)
                latest = {k: q for k, q in conn.execute(phrasing)}
        return [Gap(question=latest.get(r.k, r.k), count=r.n, last_asked=aware(r.last))
                for r in rows]

    # Subscriptions and per-channel settings --------------------------------------------

    @_retried
    def subscribe(self, channel: str, target: str, *, surface: str = SLACK) -> bool:
        """Subscribe a channel to a term id, a domain or 'all'; False if it already was."""
        return self._insert_once(schema.subscriptions, surface=surface, channel=channel,
                                 target=target.strip().lower(), created_at=utcnow())

    @_retried
    def unsubscribe(self, channel: str, target: str, *, surface: str = SLACK) -> bool:
        """Remove a subscription; False if there was none."""
        s = schema.subscriptions
        with self.transaction() as conn:
            result = conn.execute(delete(s).where(
                s.c.surface == surface, s.c.channel == channel,
                s.c.target == target.strip().lower()))
        return result.rowcount > 0

    @_retried
    def subscriptions(self, channel: str | None = None, *,
                      surface: str = SLACK) -> list[Subscription]:
        """Every subscription on a surface, or one channel's, sorted."""
        s = schema.subscriptions
        query = (select(s.c.surface, s.c.channel, s.c.target).where(s.c.surface == surface)
                 .order_by(s.c.channel, s.c.target))
        if channel is not None:
            query = query.where(s.c.channel == channel)
        with self.reading() as conn:
            return [Subscription(surface=r.surface, channel=r.channel, target=r.target)
                    for r in conn.execute(query)]

    @_retried
    def resolve_target(self, text: str) -> str | None:
        """'all', a known domain, or the id of the definition an id, name or alias names."""
        wanted = text.strip().lower()
        latest = self.latest_versions()
        if wanted == ALL or wanted in {v.domain for v in latest.values() if v.domain}:
            return wanted
        found = self.resolve(text)
        return found.definition_id if found else None

    @_retried
    def set_autoanswer(self, channel: str, on: bool, *, surface: str = SLACK) -> None:
        """Turn answering definitional questions without a mention on or off in a channel."""
        a = schema.autoanswer
        with self.transaction() as conn:
            done = conn.execute(update(a).where(a.c.surface == surface, a.c.channel == channel)
                                .values(enabled=on, updated_at=utcnow()))
            if done.rowcount == 0:
                conn.execute(insert(a).values(surface=surface, channel=channel, enabled=on,
                                              updated_at=utcnow()))

    @_retried
    def autoanswer(self, channel: str, *, surface: str = SLACK) -> bool:
        """Whether autoanswer is on in this channel (off unless turned on)."""
        a = schema.autoanswer
        query = select(a.c.enabled).where(a.c.surface == surface, a.c.channel == channel)
        with self.reading() as conn:
            return bool(conn.scalar(query))

    # Conversations -----------------------------------------------------------------------

    @_retried
    def remember_conversation(self, surface: str, conversation_id: str, *,
                              service_url: str | None = None, tenant_id: str | None = None,
                              name: str | None = None, kind: str | None = None) -> None:
        """Keep what posting to a conversation later needs; a value not given stays as it was."""
        c = schema.conversations
        known = {k: v for k, v in {"service_url": service_url, "tenant_id": tenant_id,
                                   "name": storable(name), "kind": kind}.items()
                 if v is not None}
        where = and_(c.c.surface == surface, c.c.conversation_id == conversation_id)
        for _ in range(2):
            with self.transaction() as conn:
                if conn.execute(update(c).where(where)
                                .values(**known, updated_at=utcnow())).rowcount:
                    return
            # Not there yet: insert, unless another writer just did (then update theirs).
            if self._insert_once(c, surface=surface, conversation_id=conversation_id,
                                 **known, updated_at=utcnow()):
                return

    @_retried
    def conversation(self, surface: str, conversation_id: str) -> Conversation | None:
        """What is known about a conversation, or None if it was never seen."""
        c = schema.conversations
        query = select(c).where(c.c.surface == surface, c.c.conversation_id == conversation_id)
        with self.reading() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Conversation(surface=row.surface, conversation_id=row.conversation_id,
                            service_url=row.service_url, tenant_id=row.tenant_id,
                            name=row.name, kind=row.kind, updated_at=aware(row.updated_at))

    # Chat bookkeeping --------------------------------------------------------------------

    @_retried
    def claim_event(self, event_id: str) -> bool:
        """True only for the first caller with this event id, across threads and processes."""
        return self._insert_once(schema.processed_events, event_id=event_id, at=utcnow())

    @_retried
    def forget_claims(self, older_than: dt.timedelta) -> int:
        """Drop event claims older than `older_than`; how many. Slack redelivers an event for
        minutes, not days, so an old claim only makes the table grow."""
        t = schema.processed_events
        with self.transaction() as conn:
            return conn.execute(delete(t).where(t.c.at < utcnow() - older_than)).rowcount

    @_retried
    def mark_thread(self, channel: str, thread_ts: str, *, surface: str = SLACK) -> None:
        """Remember a thread the bot answered in, so replies there are follow-ups."""
        self._insert_once(schema.bot_threads, surface=surface, channel=channel,
                          thread_ts=thread_ts, at=utcnow())

    @_retried
    def is_bot_thread(self, channel: str, thread_ts: str, *, surface: str = SLACK) -> bool:
        """Whether the bot has answered in this thread."""
        t = schema.bot_threads
        query = select(literal(1)).where(t.c.surface == surface, t.c.channel == channel,
                                         t.c.thread_ts == thread_ts)
        with self.reading() as conn:
            return conn.scalar(query) is not None

    def _insert_once(self, table, **values) -> bool:
        # The primary key decides the race: the loser gets an IntegrityError, not a duplicate.
        try:
            with self.transaction() as conn:
                conn.execute(insert(table).values(**values))
        except IntegrityError:
            return False
        return True

    # Definition history ------------------------------------------------------------------

    @_retried
    def history(self, definition_id: str, kind: str | None = None) -> list[Version]:
        """Every recorded version of a definition, oldest first (the term if ids collide)."""
        return [_version(r) for r in self._version_rows(definition_id, kind)]

    @_retried
    def definition_as_of(self, definition_id: str, date: dt.date,
                         kind: str | None = None) -> Version | None:
        """The version in force at the end of `date`: approved or deprecated, not removed.

        A draft is never in force; the version before it stays in force until one is approved.
        """
        end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        in_force = None
        for row in self._version_rows(definition_id, kind):
            if aware(row.in_force_from) >= end:
                break
            if row.change == "removed":
                in_force = None
            elif row.status != "draft":
                in_force = row
        return _version(in_force) if in_force is not None else None

    @_retried
    def first_recorded(self, definition_id: str, kind: str | None = None) -> dt.date | None:
        """The day the earliest recorded version came into force (for 'nothing before X')."""
        rows = self._version_rows(definition_id, kind)
        return aware(rows[0].in_force_from).date() if rows else None

    @_retried
    def recent_changes(self, since: dt.datetime | dt.date | None = None,
                       limit: int = 20) -> list[Change]:
        """The latest recorded changes, newest first, optionally only those after `since`."""
        v = schema.versions
        query = select(v).order_by(v.c.id.desc()).limit(limit)
        if since is not None:
            if not isinstance(since, dt.datetime):
                since = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
            query = query.where(v.c.recorded_at >= since.astimezone(dt.UTC))
        with self.reading() as conn:
            rows = conn.execute(query).all()
            return [self._change(conn, r) for r in rows]

    @_retried
    def latest_versions(self) -> dict[tuple[str, str], Version]:
        """The newest version of every definition ever recorded, by (kind, id)."""
        v = schema.versions
        newest = select(func.max(v.c.id)).group_by(v.c.kind, v.c.definition_id)
        with self.reading() as conn:
            rows = conn.execute(select(v).where(v.c.id.in_(newest))).all()
        return {(r.kind, r.definition_id): _version(r) for r in rows}

    @_retried
    def resolve(self, text: str, kind: str | None = None) -> Version | None:
        """The latest version of the definition an id, name or alias names (terms first)."""
        wanted = key(text)
        if not wanted:
            return None
        v = schema.versions
        query = select(v).where(v.c.id.in_(
            select(func.max(v.c.id)).group_by(v.c.kind, v.c.definition_id)))
        if kind:
            query = query.where(v.c.kind == kind)
        with self.reading() as conn:
            rows = sorted(conn.execute(query).all(), key=lambda r: (r.kind != "term", r.id))
        for match in (lambda r: key(r.definition_id) == wanted, lambda r: key(r.name) == wanted,
                      lambda r: wanted in {key(a) for a in json.loads(r.aliases)}):
            for row in rows:
                if match(row):
                    return _version(row)
        return None

    def _version_rows(self, definition_id: str, kind: str | None) -> list:
        v = schema.versions
        query = select(v).where(v.c.definition_id == definition_id).order_by(v.c.id)
        with self.reading() as conn:
            rows = conn.execute(query.where(v.c.kind == kind) if kind else query).all()
        kinds = {r.kind for r in rows}
        if len(kinds) > 1:  # a term and its metric share the id: the term is what people mean
            rows = [r for r in rows if r.kind == "term"]
        return rows

    def _change(self, conn: Connection, row) -> Change:
        v = schema.versions
        before = conn.execute(
            select(v).where(v.c.kind == row.kind, v.c.definition_id == row.definition_id,
                            v.c.id < row.id).order_by(v.c.id.desc()).limit(1)).first()
        return change_from_rows(row, before)

    # Outbox counts -----------------------------------------------------------------------

    @_retried
    def outbox_counts(self, surface: str | None = None) -> dict[str, int]:
        """How many notifications are pending, sending, delivered or failed (on a surface)."""
        o = schema.outbox
        query = select(o.c.status, func.count()).group_by(o.c.status)
        if surface is not None:
            query = query.where(o.c.surface == surface)
        with self.reading() as conn:
            rows = conn.execute(query).all()
        return {status: n for status, n in rows}

    def due_filter(self, now: dt.datetime, lease: dt.timedelta):
        """Rows a delivery worker may claim: pending and due, or sending with an expired lease."""
        o = schema.outbox
        return or_(and_(o.c.status == "pending", o.c.next_attempt_at <= now),
                   and_(o.c.status == "sending", o.c.claimed_at < now - lease))


def _version(row) -> Version:
    return Version(
        definition_id=row.definition_id, kind=row.kind, name=row.name, version=row.version,
        status=row.status, owner=row.owner, text=row.text, recorded_at=aware(row.recorded_at),
        change=row.change, domain=row.domain, path=row.path,
        in_force_from=aware(row.in_force_from),
    )


def change_from_rows(row, before) -> Change:
    """A version row as a Change, with the text and version of the row before it."""
    return Change(
        **_version(row).model_dump(), diff=row.diff,
        before=before.text if before is not None else None,
        previous_version=before.version if before is not None else None,
        previous_status=before.status if before is not None else None,
    )


def _sqlite_engine(database_url: str) -> Engine:
    url = make_url(database_url)
    if url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # Listener threads, the background sync and delivery share the file: wait for the lock,
    # but not so long that a person waits on it (a writer held elsewhere fails, and says so).
    engine = create_engine(database_url, connect_args={"check_same_thread": False,
                                                       "timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Every event claim is a commit on the answer's path. In WAL mode NORMAL survives a
        # process crash (only an OS crash can lose the last commits) and skips an fsync each.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    # A deferred transaction that reads then writes fails at once with "database is locked"
    # when another writer got there first; IMMEDIATE takes the write lock up front and waits.
    # Reads stay deferred: in WAL mode they never wait for a writer.
    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        write = conn.get_execution_options().get("ssot_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
