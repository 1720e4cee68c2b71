"""Finding 4: a state store in trouble degrades the bot instead of silencing it."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bot.chat.asked import Asked
from bot.services import Services
from bot.slack import blocks
from bot.state.store import StateStore
from tests.serving_support import wait_until
from tests.state_support import fresh_database


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
    with fresh_database("ssot_fault") as database:
        yield database


def test_a_recreated_postgresql_store_is_used_again_without_a_restart(
        serve, kb, metric_engine, fresh_pg_database):
    store = StateStore.from_url(fresh_pg_database.url)
    running = serve(Services(kb, metric_engine), store=store)
    assert "Subscribed" in running.answer_to("/ssot", "subscribe mql", "before")["text"]
    fresh_pg_database.recreate()  # dropped and re-created under the running app
    on = running.answer_to("/ssot", "autoanswer on", "after")["text"]
    assert on.startswith("Autoanswer is on") and store.autoanswer("C0GENERAL")
    running.slack.event(mention("how do I reset my vpn password", "1700000900.000100"))
    running.api.wait_for("chat.postMessage", 1)
    assert [g.question for g in wait_until(lambda: store.gaps())] == [
        "how do I reset my vpn password"]


def test_a_nul_byte_in_a_question_is_answered_and_recorded(serve, kb, metric_engine,
                                                           fresh_pg_database):
    running = serve(Services(kb, metric_engine),
                    store=StateStore.from_url(fresh_pg_database.url))
    running.slack.event(mention("how do I reset my vpn\x00 password", "1700000800.000100"))
    [posted] = running.api.wait_for("chat.postMessage", 1)
    assert "No governed definition" in json.dumps(posted.body)
    [gap] = wait_until(lambda: running.store.gaps())
    assert gap.question == "how do I reset my vpn\ufffd password"
