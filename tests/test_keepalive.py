"""The Web API client keeps one connection open between answers and copes when Slack drops it."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError

from bot.slack.keepalive import KeepAliveWebClient
from tests.slack_standin import Reply, SlackStandIn

IDLE_S = 0.3


@pytest.fixture
def api():
    standin = SlackStandIn(idle_timeout_s=IDLE_S).start()
    yield standin
    standin.stop()


def client_for(api: SlackStandIn) -> KeepAliveWebClient:
    # No retry handlers: an answer must get through on its own, not by being sent twice.
    return KeepAliveWebClient(token="xoxb-test", base_url=api.api_url, retry_handlers=[])


def test_answers_share_a_connection_and_survive_slack_closing_it(api):
    client = client_for(api)
    for n in range(3):
        assert client.chat_postMessage(channel="C0GENERAL", text=f"answer {n}")["ok"]
    time.sleep(IDLE_S * 3)  # Slack closes the idle connection
    assert client.chat_postMessage(channel="C0GENERAL", text="after a quiet spell")["ok"]

    posts = api.calls_to("chat.postMessage")
    assert [p.body["text"] for p in posts] == ["answer 0", "answer 1", "answer 2",
                                               "after a quiet spell"]
    assert len({p.connection for p in posts[:3]}) == 1
    assert posts[3].connection != posts[0].connection


def test_slack_errors_still_reach_the_caller(api):
    api.script("chat.postMessage", Reply(200, {"ok": False, "error": "channel_not_found"}),
               Reply(500, {"ok": False, "error": "internal_error"}))
    client = client_for(api)
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="C0GONE", text="hello")
    with pytest.raises(SlackApiError, match="internal_error"):
        client.chat_postMessage(channel="C0GENERAL", text="hello")
    assert client.chat_postMessage(channel="C0GENERAL", text="hello")["ok"]
