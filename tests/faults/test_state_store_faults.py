"""Finding 4: a state store in trouble degrades the bot instead of silencing it."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid

import pytest
import sqlalchemy as sa

from bot.services import Services
from bot.slack import blocks
from bot.slack.asked import Asked
from bot.state.store import StateStore
from tests.faults.support import wait_until

PG = os.environ.get("TEST_POSTGRES_URL")
needs_pg = pytest.mark.skipif(not PG, reason="TEST_POSTGRES_URL is not set (e.g. "
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test)")


def mention(text: str, ts: str) -> dict:
    return {"type": "app_mention", "user": "U0ALICE", "channel": "C0GENERAL", "ts": ts,
            "text": f"<@UBOT> {text}"}


def test_a_locked_sqlite_store_leaves_no_question_unanswered(serve, kb, metric_engine,
                                                             tmp_path):
    running = serve(Services(kb, metric_engine))
    locker = sqlite3.connect(tmp_path / "state.db", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the lock throughout
    try:
        running.slack.event(mention("how do I reset my vpn password", "1700000700.000100"))
        [posted] = running.api.wait_for("chat.postMessage", 1)
        assert "No governed definition" in json.dumps(posted.body)

        assert "65 or more" in json.dumps(running.answer_to("/define", "mql", "define"))
        asked = Asked(via="define", text="mql", answer_id="mql").encode()
        running.slack.button(blocks.NOT_HELPFUL, asked, running.api.response_url("rated"))
        [rated] = running.api.wait_for("response/rated")
        assert "Thanks" in rated.body["text"]
        subscribed = running.answer_to("/ssot", "subscribe mql", "subscribe")
        assert "database is busy or unavailable" in subscribed["text"]
        assert running.store.gaps() == []  # nothing could be written yet
        status, ready = running.get("/readyz")  # reads work, writes do not: not ready
        assert status == 503 and not ready["checks"]["state_store"]["ok"]
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    # Written once the lock is gone: the question and the click are not lost.
    gaps = wait_until(lambda: running.store.gaps(), timeout=60)
    assert {g.question for g in gaps} == {"how do I reset my vpn password", "mql"}


@pytest.fixture
def fresh_pg_database():
    """A PostgreSQL database of its own, and a way to drop and re-create it."""
    admin = sa.create_engine(sa.make_url(PG).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    name = f"ssot_fault_{uuid.uuid4().hex[:8]}"

    def recreate(drop: bool = True) -> None:
        with admin.connect() as conn:
            if drop:
                conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    recreate(drop=False)
    yield str(sa.make_url(PG).set(database=name).render_as_string(hide_password=False)), recreate
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@needs_pg
def test_a_recreated_postgresql_store_is_used_again_without_a_restart(
        serve, kb, metric_engine, fresh_pg_database):
    url, recreate = fresh_pg_database
    store = StateStore.from_url(url)
    running = serve(Services(kb, metric_engine), store=store)
    assert "Subscribed" in running.answer_to("/ssot", "subscribe mql", "before")["text"]
    recreate()  # an operator dropped and re-created the database under the running app
    on = running.answer_to("/ssot", "autoanswer on", "after")["text"]
    assert on.startswith("Autoanswer is on") and store.autoanswer("C0GENERAL")
    running.slack.event(mention("how do I reset my vpn password", "1700000900.000100"))
    running.api.wait_for("chat.postMessage", 1)
    assert [g.question for g in wait_until(lambda: store.gaps())] == [
        "how do I reset my vpn password"]


@needs_pg
def test_a_nul_byte_in_a_question_is_answered_and_recorded(serve, kb, metric_engine,
                                                           fresh_pg_database):
    url, _ = fresh_pg_database
    running = serve(Services(kb, metric_engine), store=StateStore.from_url(url))
    running.slack.event(mention("how do I reset my vpn\x00 password", "1700000800.000100"))
    [posted] = running.api.wait_for("chat.postMessage", 1)
    assert "No governed definition" in json.dumps(posted.body)
    [gap] = wait_until(lambda: running.store.gaps())
    assert gap.question == "how do I reset my vpn\ufffd password"
