"""Finding 5: a restricted metric's value is posted only where its audience is."""

from __future__ import annotations

import json

import pytest

from bot.chat.asked import Asked
from bot.services import Services
from bot.slack import blocks

FINANCE_MEMBER = "U0FINN"


@pytest.fixture
def running(serve, kb, metric_engine, slack_api):
    slack_api.channels.update({"C0FIN": "finance", "C0GENERAL": "general"})
    slack_api.user_groups["finance"] = [FINANCE_MEMBER]
    return serve(Services(kb, metric_engine))


def shown(body: dict) -> str:
    return json.dumps(body.get("blocks") or body.get("text"))


def test_a_member_cannot_share_a_restricted_number_in_a_public_channel(running):
    reply = running.answer_to("/metric", "cac last quarter", "cac", user=FINANCE_MEMBER)
    assert "Show SQL" in shown(reply) and reply["response_type"] == "ephemeral"
    assert blocks.SHARE not in shown(reply)  # no Share button for it here

    # A Share button from an older message (or a forged click) is refused all the same.
    value = Asked(via="metric", text="cac last quarter").encode()
    running.slack.button(blocks.SHARE, value, running.api.response_url("share"),
                         user=FINANCE_MEMBER)
    [refused] = running.api.wait_for("response/share")
    assert refused.body["response_type"] == "ephemeral"
    assert "cannot be shared here" in refused.body["text"]
    assert not [c for c in running.api.calls if c.body.get("response_type") == "in_channel"]


def test_in_its_own_channel_it_can_be_shared(running):
    reply = running.answer_to("/metric", "cac last quarter", "cac", channel="C0FIN")
    assert blocks.SHARE in shown(reply)


@pytest.mark.parametrize("question", ["what is our cac last quarter", "what is CAC?"])
def test_a_mention_in_a_public_channel_answers_the_member_privately(running, question):
    running.slack.event({"type": "app_mention", "user": FINANCE_MEMBER, "channel": "C0GENERAL",
                         "ts": "1700001000.000100", "text": f"<@UBOT> {question}"})
    [private] = running.api.wait_for("chat.postEphemeral", 1)
    assert private.body["user"] == FINANCE_MEMBER and "CAC" in shown(private.body)
    assert private.body["thread_ts"] == "1700001000.000100"
    assert running.api.calls_to("chat.postMessage") == []  # nothing the channel can read
