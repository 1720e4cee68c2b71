"""Notifications exactly once when a post's outcome is unknown, and never silently failing.

A post Slack accepts but answers too late (or never, the connection dropped) is in the
channel all the same: the stand-in keeps it, and serves it back from conversations.history.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.services import Services
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.notifier import SlackNotifier, notification_client
from bot.slack.serving import http_server, serve_in_thread
from bot.state import schema
from bot.state.delivery import deliver_pending
from bot.state.store import StateStore
from bot.state.sync import sync
from tests.conftest import ROOT
from tests.slack_requests import SlackSender
from tests.slack_standin import Reply, SlackStandIn
from tests.state_support import METRICS, edit, open_store

SSOT = str(Path(sys.executable).parent / "ssot")
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TIMEOUT_S = 0.5  # the client's; a late answer comes well after it
LATE = Reply(delay_s=3 * TIMEOUT_S)  # posted, answered after the client gave up
DROPPED = Reply(drop=True)  # posted, then the connection closed with no answer
LOST = Reply(500, {"ok": False, "error": "internal_error"}, delay_s=3 * TIMEOUT_S)  # not posted
WHY = ("Notifications to this channel are failing: not_in_channel -- invite the bot with "
       "/invite @ssot")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    with open_store(request.param, tmp_path) as opened:
        yield opened


def mql_changed(docs: Path) -> None:
    edit(docs / "terms" / "mql.md", "reached 65 or more", "reached 70 or more")
    edit(docs / "terms" / "mql.md", 'version: "3.0"', 'version: "3.1"')


def in_the_channels(slack_api: SlackStandIn) -> Counter:
    """How many messages each notification has in its channel, by the id in its metadata."""
    return Counter((channel, m["metadata"]["event_payload"]["notification_id"])
                   for channel, messages in slack_api.messages.items() for m in messages
                   if m.get("metadata"))


def test_posts_with_an_unknown_outcome_appear_exactly_once(store, docs, slack_api):
    sync(store, docs, METRICS)
    for n in range(20):
        store.subscribe(f"C{n:04d}", "mql")
    mql_changed(docs)
    assert sync(store, docs, METRICS).queued == 20
    # The posts go out in outbox order: these ones get no answer in time, or none at all.
    unknown = {1: LATE, 4: DROPPED, 7: LOST, 10: LATE, 13: DROPPED, 16: LOST, 19: LATE}
    slack_api.script("chat.postMessage", *[unknown.get(n, Reply()) for n in range(20)])
    client = SlackNotifier(notification_client("xoxb-test", slack_api.api_url, backoff_s=0.01,
                                               timeout_s=TIMEOUT_S))

    runs = [deliver_pending(store, client, due_only=False)]
    while runs[-1].pending and len(runs) < 5:
        runs.append(deliver_pending(store, client, due_only=False))

    assert runs[-1].pending == 0 and store.outbox_counts() == {"delivered": 20}
    o = schema.outbox
    with store.engine.connect() as conn:
        rows = conn.execute(select(o.c.id, o.c.channel, o.c.posted_id)).all()
    assert in_the_channels(slack_api) == Counter({(r.channel, r.id): 1 for r in rows})
    # Each row knows its message: a found one by the ts it has in the channel.
    posted = {m["metadata"]["event_payload"]["notification_id"]: m["ts"]
              for messages in slack_api.messages.values() for m in messages}
    assert {r.id: r.posted_id for r in rows} == posted
    # Looked up, not re-posted: only the two posts Slack never took were sent again.
    assert len(slack_api.calls_to("chat.postMessage")) == 22


def test_a_channel_the_bot_is_not_in_fails_at_once_and_says_why(kb, docs, tmp_path, slack_api):
    url = f"sqlite:///{tmp_path / 'ssot.db'}"
    store = StateStore.from_url(url)
    try:
        sync(store, docs, METRICS)
        for channel in ("CGONE", "CFINE"):
            store.subscribe(channel, "mql")
        mql_changed(docs)
        assert sync(store, docs, METRICS).queued == 2
        slack_api.channel_errors["CGONE"] = "not_in_channel"
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "DATABASE_URL": url,
               "PYTHONPATH": str(ROOT),  # this checkout's code, whatever is installed
               "SSOT_GLOSSARY_DIR": str(docs), "SLACK_API_BASE_URL": slack_api.api_url,
               "SLACK_BOT_TOKEN": "xoxb-test"}

        def notify() -> subprocess.CompletedProcess:
            return subprocess.run([SSOT, "notify"], capture_output=True, text=True, env=env,
                                  cwd=tmp_path, timeout=120, check=False)

        first, again = notify(), notify()
        assert first.returncode == 1 and "delivered 1, failed 1, still pending 0" in first.stdout
        assert again.returncode == 0 and "delivered 0, failed 0, still pending 0" in again.stdout
        for run in (first, again):
            assert ("notifications to CGONE are failing: not_in_channel -- invite the bot "
                    "with /invite @ssot") in run.stderr
            assert "CFINE" not in run.stderr and "Traceback" not in run.stderr
        posts = [c.value("channel") for c in slack_api.calls_to("chat.postMessage")]
        assert sorted(posts) == ["CFINE", "CGONE"]  # one attempt there, never retried

        settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=SECRET,
                            slack_api_base_url=slack_api.api_url, database_url=url)
        server = http_server(create_app(settings, Services(kb), store), "127.0.0.1", 0)
        serve_in_thread(server)
        try:
            slack = SlackSender(f"http://127.0.0.1:{server.server_port}/slack/events", SECRET)
            for channel in ("CGONE", "CFINE"):
                assert slack.command("/ssot", "subscriptions", slack_api.response_url(channel),
                                     channel=channel)[0] == 200
            [gone] = slack_api.wait_for("response/CGONE")
            [fine] = slack_api.wait_for("response/CFINE")
        finally:
            server.shutdown()
            server.server_close()
        assert "This channel hears about changes to: `mql`" in gone.body["text"]
        assert WHY in gone.body["text"] and WHY in json.dumps(gone.value("blocks"))
        assert "failing" not in fine.body["text"]
    finally:
        store.close()
