"""Finding 1: an announced change is already what the running app answers."""

from __future__ import annotations

import json

from bot.services import Services
from tests.serving_support import wait_until


def test_the_answer_matches_the_notification_it_follows(serve, own_kb, metric_engine, docs):
    running = serve(Services(own_kb, metric_engine, metrics_dir=None), background=True,
                    sync_interval_s=0.3)
    running.store.subscribe("C0REVOPS", "mql")
    before = running.answer_to("/define", "mql", "before")
    assert "65 or more" in json.dumps(before) and "3.0" in json.dumps(before)

    mql = docs / "terms" / "mql.md"
    text = mql.read_text(encoding="utf-8")
    mql.write_text(text.replace("65 or more", "70 or more")
                   .replace('version: "3.0"', 'version: "3.1"'), encoding="utf-8")

    [notice] = running.api.wait_for("chat.postMessage", 1)
    assert notice.body["channel"] == "C0REVOPS" and "3.1" in json.dumps(notice.body)
    # The moment people are told, the bot already answers with what they were told.
    after = json.dumps(running.answer_to("/define", "mql", "after"))
    assert "70 or more" in after and "3.1" in after and "65 or more" not in after
    mention = {"type": "app_mention", "user": "U0ALICE", "channel": "C0GENERAL",
               "ts": "1700000500.000100", "text": "<@UBOT> what is an MQL?"}
    running.slack.event(mention)
    answer = json.dumps(running.api.wait_for("chat.postMessage", 2)[1].body)
    assert "70 or more" in answer


def test_an_invalid_edit_keeps_the_last_good_definitions(serve, own_kb, metric_engine, docs):
    running = serve(Services(own_kb, metric_engine), background=True, sync_interval_s=0.3)
    mql = docs / "terms" / "mql.md"
    mql.write_text(mql.read_text(encoding="utf-8").replace("status: approved",
                                                            "status: finalised"),
                   encoding="utf-8")
    wait_until(lambda: running.health.last_sync is not None)
    first = running.health.last_sync
    wait_until(lambda: running.health.last_sync != first)  # a whole round saw the bad file
    answer = json.dumps(running.answer_to("/define", "mql", "still"))
    assert "65 or more" in answer and "approved" in answer
    assert running.api.calls_to("chat.postMessage") == []
