"""The state store upgrades in place: a store the release before migrations wrote keeps every
row, and the newest revision is exactly `bot/state/schema.py`, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.state import migrate, schema
from bot.state.delivery import claim, failing
from bot.state.errors import UnknownRevision
from bot.state.models import Change
from bot.state.store import StateStore
from bot.state.sync import sync
from tests.conftest import ROOT
from tests.fixtures import state_schema_v0 as v0
from tests.state_support import METRICS, edit, postgres_url

BACKENDS = ["sqlite", "postgres"]
T0 = dt.datetime(2026, 9, 1, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
# A Teams channel conversation id and user id: far longer than Slack's.
TEAMS_CHANNEL = "19:" + "a1b2c3d4" * 30 + "@thread.tacv2"
TEAMS_USER = "29:1" + "Zx9-" * 40
SLACK_TS = "1700000000.000100"


@dataclass
class Database:
    """An empty database (a SQLite file, or a PostgreSQL schema of its own) to open stores on."""

    url: str
    schema_name: str | None
    engine: sa.Engine  # reaches the tables as the store does

    def open(self, engine: sa.Engine | None = None) -> StateStore:
        if engine is not None:
            return StateStore(self._scoped(engine))
        return StateStore.from_url(self.url, schema_name=self.schema_name)

    def _scoped(self, engine: sa.Engine) -> sa.Engine:
        if self.schema_name is None:
            return engine
        return engine.execution_options(schema_translate_map={None: self.schema_name})


@contextmanager
def empty_database(backend: str, tmp_path: Path) -> Iterator[Database]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'ssot.db'}"
        engine = sa.create_engine(url)
        try:
            yield Database(url, None, engine)
        finally:
            engine.dispose()
        return
    url, name = postgres_url(), f"ssot_test_{uuid.uuid4().hex[:12]}"
    base = sa.create_engine(url)
    with base.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    try:
        yield Database(url, name, base.execution_options(schema_translate_map={None: name}))
    finally:
        with base.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        base.dispose()


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path) -> Iterator[Database]:
    with empty_database(request.param, tmp_path) as db:
        yield db


def payload(definition_id: str, name: str, version: str, text: str, before: str) -> str:
    return Change(definition_id=definition_id, kind="term", name=name, version=version,
                  status="approved", owner="Marketing Operations", text=text,
                  recorded_at=T0 + HOUR, change="changed", before=before,
                  previous_version="3.0", previous_status="approved").model_dump_json()


def write_release_before(db: Database) -> None:
    """A store as the release before migrations left it, with history and work in flight."""
    v0.metadata.create_all(db.engine)
    old, new = "Score of 65 or more.", "Score of 70 or more."
    with db.engine.begin() as conn:
        def version(seq: int, version: str, text: str, change: str, at: dt.datetime) -> None:
            conn.execute(sa.insert(v0.versions).values(
                definition_id="mql", kind="term", seq=seq, name="Marketing Qualified Lead",
                version=version, status="approved", owner="Marketing Operations",
                domain="lifecycle", aliases='["MQL"]', path="terms/mql.md", text=text,
                content_hash=f"h{seq}", recorded_at=at, in_force_from=at, change=change,
                diff="" if seq == 1 else "[-65-]{+70+}"))

        version(1, "3.0", old, "added", T0)
        version(2, "3.1", new, "changed", T0 + HOUR)
        conn.execute(sa.insert(v0.subscriptions), [
            {"channel": "CMQL", "target": "mql", "created_at": T0},
            {"channel": "CALL", "target": "all", "created_at": T0}])
        note = payload("mql", "Marketing Qualified Lead", "3.1", new, old)
        outbox = {"version_id": 2, "payload": note, "next_attempt_at": T0 + HOUR,
                  "created_at": T0 + HOUR, "delivered_at": None, "slack_ts": None,
                  "last_error": None}
        conn.execute(sa.insert(v0.outbox), [
            {**outbox, "channel": "CMQL", "status": "delivered", "attempts": 1,
             "delivered_at": T0 + HOUR, "slack_ts": SLACK_TS},
            {**outbox, "channel": "CALL", "status": "pending", "attempts": 0},
            {**outbox, "channel": "CGONE", "status": "failed", "attempts": 1,
             "last_error": "not_in_channel"}])
        conn.execute(sa.insert(v0.feedback), [
            {"question": "what is an MQL?", "question_key": "what is an mql", "answer_id": "mql",
             "helpful": False, "user": "U1", "channel": "CMQL", "at": T0},
            {"question": "what is an MQL", "question_key": "what is an mql", "answer_id": "mql",
             "helpful": True, "user": "U2", "channel": "CMQL", "at": T0}])
        conn.execute(sa.insert(v0.unanswered), [
            {"question": "what is a PQL?", "question_key": "what is a pql", "user": "U1",
             "channel": "CMQL", "at": T0},
            {"question": "What is a PQL", "question_key": "what is a pql", "user": "U3",
             "channel": "CALL", "at": T0 + HOUR}])
        conn.execute(sa.insert(v0.autoanswer).values(channel="CMQL", enabled=True,
                                                     updated_at=T0))
        conn.execute(sa.insert(v0.bot_threads).values(channel="CMQL", thread_ts=SLACK_TS, at=T0))
        conn.execute(sa.insert(v0.processed_events).values(event_id="Ev0001", at=T0))


def test_a_store_from_the_release_before_upgrades_and_keeps_everything(database):
    write_release_before(database)
    store = database.open()
    try:
        assert store.migration.stamped == "0001" and store.migration.after == migrate.head()
        assert [(v.version, v.change, v.text) for v in store.history("mql")] == [
            ("3.0", "added", "Score of 65 or more."), ("3.1", "changed", "Score of 70 or more.")]
        assert store.resolve("MQL").definition_id == "mql"
        assert [(s.surface, s.channel, s.target) for s in store.subscriptions()] == [
            ("slack", "CALL", "all"), ("slack", "CMQL", "mql")]
        assert [(g.question, g.count) for g in store.gaps()] == [
            ("What is a PQL", 2), ("what is an MQL?", 1)]
        assert store.autoanswer("CMQL") and store.is_bot_thread("CMQL", SLACK_TS)
        assert store.claim_event("Ev0001") is False  # a retried event stays answered once

        assert store.outbox_counts() == {"delivered": 1, "pending": 1, "failed": 1}
        assert failing(store) == {"CGONE": "not_in_channel -- invite the bot with /invite @ssot"}
        [pending] = claim(store, "worker", 10, T0 + 2 * HOUR)
        assert (pending.surface, pending.channel) == ("slack", "CALL")
        assert pending.change.before == "Score of 65 or more." and pending.change.version == "3.1"
        o = schema.outbox
        with store.reading() as conn:
            posted = conn.execute(select_posted(o)).all()
        assert [tuple(r) for r in posted] == [("slack", "CMQL", SLACK_TS)]

        # New rows go on from the old ones: no key is handed out twice.
        store.record_feedback("what is a PQL", "pql", helpful=False, user="U4", channel="CALL")
        assert store.gaps()[0].count == 3
    finally:
        store.close()


def select_posted(o: sa.Table) -> sa.Select:
    return sa.select(o.c.surface, o.c.channel, o.c.posted_id).where(o.c.posted_id.is_not(None))


def test_opening_a_store_at_the_newest_revision_only_reads_its_version(database):
    write_release_before(database)
    database.open().close()
    engine = sa.create_engine(database.url)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda _c, _cur, statement, *_: statements.append(statement))
    store = database.open(engine)
    try:
        assert str(store.migration) == f"state store at {migrate.head()} (head)"
        assert not store.migration.changed
        assert [s.strip().split()[0].upper() for s in statements
                if "alembic_version" in s or "ssot_" in s] == ["SELECT"]
        assert not [s for s in statements if "pg_advisory" in s or "IMMEDIATE" in s]
        assert len(store.history("mql")) == 2  # and the data is as it was
    finally:
        store.close()
        engine.dispose()


def test_two_processes_upgrading_the_same_store_at_once_upgrade_it_once(database):
    write_release_before(database)
    barrier, opened = threading.Barrier(2), []

    def open_store() -> None:
        barrier.wait()
        opened.append(database.open())

    threads = [threading.Thread(target=open_store) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(str(s.migration).split(";")[0] for s in opened) == [
            "recorded the tables from before migrations as 0001, upgraded to 0002",
            "state store at 0002 (head)"]
        assert all(len(s.subscriptions()) == 2 for s in opened)
    finally:
        for store in opened:
            store.close()


def test_the_newest_revision_is_exactly_the_tables_the_code_uses(database):
    store = database.open()
    try:
        assert str(store.migration) == f"created the tables; state store at {migrate.head()} (head)"
        with store.transaction() as conn, migrate.on_store_schema(conn):
            context = MigrationContext.configure(conn)
            assert compare_metadata(context, schema.metadata) == []
            assert keys(conn) == keys_of(schema.metadata)
            # The comparison sees what matters: the release before differs from it.
            assert compare_metadata(context, v0.metadata) != []
    finally:
        store.close()


def test_the_two_platform_revision_downgrades_to_the_baseline_exactly(database):
    store = database.open()
    try:
        store.subscribe("C1", "mql")
        store.subscribe(TEAMS_CHANNEL, "mql", surface="teams")
        with store.transaction() as conn, migrate.on_store_schema(conn):
            command.downgrade(migrate.config(conn), "0001")
            assert compare_metadata(MigrationContext.configure(conn), v0.metadata) == []
            assert keys(conn) == keys_of(v0.metadata)
            assert conn.execute(sa.select(v0.subscriptions.c.channel)).scalars().all() == ["C1"]
            command.upgrade(migrate.config(conn), "head")
        assert [s.channel for s in store.subscriptions()] == ["C1"]
    finally:
        store.close()


def keys(conn: sa.Connection) -> dict[str, tuple]:
    """Each table's primary key and unique constraints, as the database has them."""
    found = sa.inspect(conn)
    return {name: (tuple(found.get_pk_constraint(name)["constrained_columns"]),
                   sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(name)))
            for name in found.get_table_names() if name.startswith("ssot_")}


def keys_of(metadata: sa.MetaData) -> dict[str, tuple]:
    return {t.name: (tuple(c.name for c in t.primary_key.columns),
                     sorted(tuple(c.name for c in u.columns) for u in t.constraints
                            if isinstance(u, sa.UniqueConstraint)))
            for t in metadata.sorted_tables}


def test_a_teams_channel_and_a_slack_one_with_the_same_id_are_kept_apart(database, docs):
    store = database.open()
    try:
        sync(store, docs, METRICS)  # the baseline
        for surface in ("slack", "teams"):
            assert store.subscribe(TEAMS_CHANNEL, "mql", surface=surface) is True
        assert store.subscribe(TEAMS_CHANNEL, "MQL", surface="teams") is False
        assert [s.surface for s in store.subscriptions(TEAMS_CHANNEL)] == ["slack"]
        assert [s.surface for s in store.subscriptions(surface="teams")] == ["teams"]

        store.set_autoanswer(TEAMS_CHANNEL, True, surface="teams")
        assert store.autoanswer(TEAMS_CHANNEL, surface="teams")
        assert not store.autoanswer(TEAMS_CHANNEL)
        store.mark_thread(TEAMS_CHANNEL, "1712345678901", surface="teams")
        assert store.is_bot_thread(TEAMS_CHANNEL, "1712345678901", surface="teams")
        assert not store.is_bot_thread(TEAMS_CHANNEL, "1712345678901")
        store.record_unanswered("what is a PQL?", TEAMS_USER, TEAMS_CHANNEL, surface="teams")
        assert [g.question for g in store.gaps()] == ["what is a PQL?"]

        edit(docs / "terms" / "mql.md", "65", "70")
        assert sync(store, docs, METRICS).queued == 2  # one row per (surface, channel)
        [slack] = claim(store, "worker", 10, dt.datetime.now(dt.UTC))
        [teams] = claim(store, "worker", 10, dt.datetime.now(dt.UTC), surfaces=("teams",))
        assert {(n.surface, n.channel) for n in (slack, teams)} == {
            ("slack", TEAMS_CHANNEL), ("teams", TEAMS_CHANNEL)}

        assert store.unsubscribe(TEAMS_CHANNEL, "mql") is True
        assert [s.surface for s in store.subscriptions(surface="teams")] == ["teams"]
    finally:
        store.close()


def test_a_conversation_is_remembered_for_posting_to_it_later(database):
    store = database.open()
    try:
        assert store.conversation("teams", TEAMS_CHANNEL) is None
        store.remember_conversation("teams", TEAMS_CHANNEL, kind="channel", name="Revenue Ops",
                                    service_url="https://smba.trafficmanager.net/emea/",
                                    tenant_id="72f988bf-86f1-41af-91ab-2d7cd011db47")
        # A later activity that does not carry the channel name leaves the name known.
        store.remember_conversation("teams", TEAMS_CHANNEL,
                                    service_url="https://smba.trafficmanager.net/amer/")
        found = store.conversation("teams", TEAMS_CHANNEL)
        assert (found.name, found.kind, found.service_url, found.tenant_id) == (
            "Revenue Ops", "channel", "https://smba.trafficmanager.net/amer/",
            "72f988bf-86f1-41af-91ab-2d7cd011db47")
        assert store.conversation("slack", TEAMS_CHANNEL) is None
    finally:
        store.close()


def test_a_table_lost_under_a_running_store_is_put_back(database):
    store = database.open()
    try:
        store.record_feedback("what is a PQL?", None, helpful=False, user="U1", channel="C1")
        with database.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE ssot_feedback") if database.schema_name is None
                         else sa.text(f'DROP TABLE "{database.schema_name}".ssot_feedback'))
        store.record_feedback("what is a PQL?", None, helpful=False, user="U2", channel="C1")
        assert [(g.question, g.count) for g in store.gaps()] == [("what is a PQL?", 1)]
    finally:
        store.close()


def test_a_store_a_newer_release_wrote_is_left_alone(database):
    database.open().close()
    version = sa.Table("alembic_version", sa.MetaData(), sa.Column("version_num", sa.String))
    with database.engine.begin() as conn:
        conn.execute(sa.update(version).values(version_num="0099"))
    with pytest.raises(UnknownRevision, match="revision 0099, newer than this release"):
        database.open()


def test_ssot_migrate_says_what_it_did(tmp_path):
    url = f"sqlite:///{tmp_path / 'ssot.db'}"
    engine = sa.create_engine(url)
    v0.metadata.create_all(engine)
    engine.dispose()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "DATABASE_URL": url, "COLUMNS": "200"}

    def ssot_migrate() -> str:
        done = subprocess.run([sys.executable, "-c", "from bot.cli import main; main()",
                               "migrate"], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert ssot_migrate() == ("recorded the tables from before migrations as 0001, upgraded "
                              "to 0002; state store at 0002 (head)")
    assert ssot_migrate() == "state store at 0002 (head)"


def test_an_upgrade_that_fails_leaves_the_store_as_it_was(database):
    write_release_before(database)
    with database.engine.begin() as conn:  # lost under the release before, never put back
        conn.execute(sa.text("DROP TABLE ssot_bot_threads") if database.schema_name is None
                     else sa.text(f'DROP TABLE "{database.schema_name}".ssot_bot_threads'))
    with pytest.raises(sa.exc.SQLAlchemyError, match="ssot_bot_threads"):
        database.open()
    with database.engine.connect() as conn, migrate.on_store_schema(conn):
        assert keys(conn) == {k: v for k, v in keys_of(v0.metadata).items()
                              if k != "ssot_bot_threads"}
        assert "alembic_version" not in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.select(v0.outbox.c.slack_ts).where(
            v0.outbox.c.slack_ts.is_not(None))).scalars().all() == [SLACK_TS]
