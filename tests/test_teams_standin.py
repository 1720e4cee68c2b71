"""The Bot Connector stand-in behaves like the service where our tests depend on it, and
shows what the SDK's API client does when the service refuses, throttles or is away."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from microsoft_teams.api import Account, ApiClient, MessageActivityInput
from microsoft_teams.api.clients.conversation import CreateConversationParams
from microsoft_teams.common import Client, ClientOptions

from tests.teams_standin import TENANT_ID, Reply, TeamsStandIn

CONVERSATION = "a:personal-ana"


@pytest.fixture
def teams_api():
    standin = TeamsStandIn().start()
    yield standin
    standin.stop()


def send_all(standin: TeamsStandIn, *texts: str) -> list[str | BaseException]:
    """Post each text to CONVERSATION with the SDK's API client: the ids, or the errors."""

    async def run() -> list[str | BaseException]:
        client = Client(ClientOptions(timeout=5))
        api = ApiClient(standin.service_url, client)
        results: list[str | BaseException] = []
        try:
            for text in texts:
                try:
                    sent = await api.conversations.create_activity(
                        CONVERSATION, MessageActivityInput(text=text))
                    results.append(sent.id)
                except httpx.HTTPError as error:
                    results.append(error)
        finally:
            await client.http.aclose()
        return results

    return asyncio.run(run())


def test_a_throttled_send_fails_once_with_its_retry_after_and_is_not_retried(teams_api):
    teams_api.throttle("send", times=1, retry_after=2)
    refused, sent = send_all(teams_api, "first", "second")
    assert isinstance(refused, httpx.HTTPStatusError)
    assert refused.response.status_code == 429
    assert refused.response.headers["Retry-After"] == "2"
    assert [c.status for c in teams_api.calls_to("send")] == [429, 200]
    assert [a["text"] for a in teams_api.activities[CONVERSATION]] == ["second"]
    assert sent == teams_api.activities[CONVERSATION][0]["id"]


def test_server_errors_and_a_dropped_connection_surface_as_errors(teams_api):
    teams_api.fail("send", times=1)
    teams_api.script("send", Reply(drop=True))
    failed, dropped, sent = send_all(teams_api, "one", "two", "three")
    assert isinstance(failed, httpx.HTTPStatusError) and failed.response.status_code == 500
    assert isinstance(dropped, httpx.RemoteProtocolError)
    # The dropped post took effect: a sender that retries it posts the message twice.
    assert [a["text"] for a in teams_api.activities[CONVERSATION]] == ["two", "three"]
    assert isinstance(sent, str)


def test_an_unreachable_service_refuses_connections_until_it_comes_back(teams_api):
    assert isinstance(send_all(teams_api, "before")[0], str)
    teams_api.go_down()
    [refused] = send_all(teams_api, "while down")
    assert isinstance(refused, httpx.ConnectError)
    teams_api.come_up()
    [sent] = send_all(teams_api, "after")
    assert [a["text"] for a in teams_api.activities[CONVERSATION]] == ["before", "after"]
    assert sent == teams_api.activities[CONVERSATION][1]["id"]


def test_replies_updates_and_new_conversations_are_recorded(teams_api):
    async def run() -> tuple[str, str]:
        client = Client(ClientOptions(timeout=5))
        api = ApiClient(teams_api.service_url, client)
        try:
            created = await api.conversations.create(CreateConversationParams(
                members=[Account(id="29:user-ana")], tenant_id=TENANT_ID,
                activity=MessageActivityInput(text="Hello from ssot")))
            reply = await api.conversations.reply_to_activity(
                created.id, created.activity_id, MessageActivityInput(text="a reply"))
            await api.conversations.update_activity(
                created.id, reply.id, MessageActivityInput(text="an edit"))
        finally:
            await client.http.aclose()
        return created.id, reply.id

    conversation, reply_id = asyncio.run(run())
    [created] = teams_api.wait_for("create_conversation")
    assert created.body["members"] == [{"id": "29:user-ana"}]
    assert created.body["tenantId"] == TENANT_ID
    first, reply = teams_api.activities[conversation]
    assert first["text"] == "Hello from ssot"
    assert reply["replyToId"] == first["id"] and reply["id"] == reply_id
    [update] = teams_api.wait_for("update")
    assert (update.activity_id, update.body["text"]) == (reply_id, "an edit")


def test_wait_for_names_what_arrived_instead(teams_api):
    send_all(teams_api, "hello")
    with pytest.raises(AssertionError, match=r"expected 1 call\(s\) to update.*\['send'\]"):
        teams_api.wait_for("update", timeout=0.2)
