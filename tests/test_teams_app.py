"""The Teams app end to end: Bot Framework activities into `POST /api/messages` of the real
SDK app over the shared core, replies recorded by a Bot Connector stand-in on loopback.

The app runs as `TEAMS_DEV=1` runs it (no token on activities, none on replies) unless a
test says otherwise; the last test sets credentials and sends no token.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from bot.chat.asked import Asked
from bot.services import Services
from bot.settings import Settings
from bot.slack.serving import http_server, serve_in_thread
from bot.state import schema
from bot.state.store import StateStore
from bot.state.sync import sync
from bot.teams.adapter import MESSAGES_PATH
from bot.teams.app import TeamsBot, create_teams_bot
from bot.teams.cards import HELPFUL, SHOW_SQL, card_data
from metrics import charts
from metrics.audience import Audience
from tests.conftest import GLOSSARY, ROOT
from tests.serving_support import wait_until
from tests.teams_requests import (
    ANA,
    CHANNEL,
    TEAM,
    buttons,
    channel_mention,
    invoke,
    personal,
    texts,
)
from tests.teams_standin import TENANT_ID, TeamsStandIn

METRICS = ROOT / "metrics" / "definitions"
SDK_ENV = ("CLIENT_ID", "CLIENT_SECRET", "TENANT_ID", "SERVICE_URL", "CLOUD", "OAUTH_URL",
           "MANAGED_IDENTITY_CLIENT_ID", "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS")


@dataclass
class Teams:
    http: httpx.Client
    api: TeamsStandIn
    store: StateStore
    services: Services
    bot: TeamsBot

    def post(self, activity: dict) -> httpx.Response:
        return self.http.post(MESSAGES_PATH, json=activity)

    def answer(self, activity: dict, count: int = 1) -> dict:
        """Send a message and return the card of the `count`-th message posted back."""
        assert self.post(activity).status_code == 200
        return self.api.wait_for("send", count)[count - 1].cards[0]


@pytest.fixture(autouse=True)
def no_sdk_env(monkeypatch):
    for name in SDK_ENV:  # what the SDK would read from the environment
        monkeypatch.delenv(name, raising=False)


def start(settings: Settings, services: Services, store: StateStore, api: TeamsStandIn):
    bot = create_teams_bot(settings, services, store)
    server = http_server(None, "127.0.0.1", 0, routes={MESSAGES_PATH: bot.route})
    serve_in_thread(server)
    client = httpx.Client(base_url=f"http://127.0.0.1:{server.server_port}", timeout=30)
    return Teams(client, api, store, services, bot), server


@pytest.fixture
def teams(kb, metric_engine, teams_api, tmp_path):
    settings = Settings(teams_dev=True, database_url=f"sqlite:///{tmp_path / 'state.db'}",
                        owners=frozenset({ANA}), docs_base_url="https://docs.example.com/g")
    store = StateStore.from_url(settings.database_url)
    # History recorded "last year", so `define mql as of` a past day has an answer.
    sync(store, GLOSSARY, METRICS, now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    running, server = start(settings, Services(kb, metric_engine, docs_base_url=
                                               settings.docs_base_url), store, teams_api)
    yield running
    running.http.close()
    server.shutdown()
    server.server_close()
    store.close()


def test_a_personal_question_gets_the_governed_definition_as_a_card(teams, kb):
    card = teams.answer(personal(teams.api, "what is an MQL?"))
    [call] = teams.api.calls_to("send")
    assert call.conversation_id == "a:personal-ana"
    assert call.body["replyToId"] == "1770000000100"
    assert call.authorization is None  # TEAMS_DEV: replies carry no token
    mql = kb.glossary.terms["mql"]
    shown = texts(card)
    assert mql.definition.splitlines()[0] in shown  # verbatim, line by line
    assert f"Owner: {mql.owner}" in shown and f"Version: {mql.version}" in shown
    clicks = buttons(card)
    assert {"Helpful", "Not helpful"} <= set(clicks)
    assert Asked.decode(clicks["Helpful"]["asked"]) == Asked(
        via="ask", text="what is an MQL?", answer_id="mql")


def test_a_channel_mention_is_answered_in_the_posts_thread(teams, kb):
    card = teams.answer(channel_mention(teams.api, "what is an SQL?", "1770000000200"))
    [call] = teams.api.calls_to("send")
    assert call.conversation_id == f"{CHANNEL};messageid=1770000000200"
    assert call.body["replyToId"] == "1770000000200"
    assert kb.glossary.terms["sql"].definition.splitlines()[0] in texts(card)
    # The thread is the bot's now, and the conversation is kept for notifications.
    wait_until(lambda: teams.store.is_bot_thread(CHANNEL, "1770000000200", surface="teams"))
    ref = wait_until(lambda: teams.store.conversation("teams", CHANNEL))
    assert (ref.service_url.rstrip("/"), ref.tenant_id) == (
        teams.api.service_url.rstrip("/"), TENANT_ID)


def test_a_metric_question_shows_the_value_and_its_sql_on_request(teams):
    expected = teams.services.ask("bookings this quarter")
    card = teams.answer(personal(teams.api, "bookings this quarter"))
    assert any(expected.result.formatted in t for t in texts(card))
    assert any(expected.result.interpretation in t for t in texts(card))
    clicked = teams.post(invoke(personal(teams.api, "", "1770000000101"),
                                "adaptiveCard/action",
                                {"action": {"type": "Action.Execute", "verb": SHOW_SQL,
                                            "data": buttons(card)["Show SQL"]}}))
    assert clicked.status_code == 200 and clicked.json()["statusCode"] == 200
    sql_card = teams.api.wait_for("send", 2)[1].cards[0]
    assert any("SELECT" in t.upper() for t in texts(sql_card))


def test_commands_typed_in_chat_do_what_slash_commands_do_in_slack(teams):
    as_of = teams.answer(personal(teams.api, "define mql as of 2025-03-01"))
    assert any("As of 2025-03-01" in t for t in texts(as_of))
    helped = teams.answer(personal(teams.api, "help", "1770000000102"), 2)
    assert any("define TERM" in t for t in texts(helped))
    assert not any("/ssot" in t for t in texts(helped))
    subscribed = teams.answer(channel_mention(teams.api, "subscribe mql", "1770000000201"), 3)
    assert any("Subscribed" in t for t in texts(subscribed))
    assert [(s.channel, s.target) for s in teams.store.subscriptions(surface="teams")] == [
        (CHANNEL, "mql")]
    assert teams.store.subscriptions() == []  # Slack's channels are another surface
    gaps = teams.answer(personal(teams.api, "gaps", "1770000000103"), 4)
    assert any("unanswered" in t.lower() or "without a good answer" in t for t in texts(gaps))


def test_feedback_and_unanswered_questions_are_recorded_for_the_owners(teams):
    teams.answer(personal(teams.api, "how do i reset my vpn password"))
    data = card_data(HELPFUL, Asked(via="ask", text="what is an MQL?", answer_id="mql"))
    clicked = teams.post(invoke(personal(teams.api, "", "1770000000104"), "adaptiveCard/action",
                                {"action": {"type": "Action.Execute", "verb": HELPFUL,
                                            "data": data}}))
    assert clicked.json() == {"statusCode": 200,
                              "type": "application/vnd.microsoft.activity.message",
                              "value": "Thanks, glad it helped."}
    wait_until(lambda: teams.store.gaps(limit=5))
    assert "reset my vpn password" in teams.store.gaps(limit=5)[0].question
    f = schema.feedback

    def feedback():
        with teams.store.engine.connect() as conn:
            return conn.execute(select(f.c.surface, f.c.user, f.c.answer_id, f.c.helpful)).all()
    assert wait_until(feedback) == [("teams", ANA, "mql", True)]


def test_the_message_extension_defines_a_term_and_explains_a_message(teams, kb):
    base = personal(teams.api, "")
    query = teams.post(invoke(base, "composeExtension/query", {
        "commandId": "defineTerm", "parameters": [{"name": "term", "value": "mql"}]}))
    assert query.status_code == 200
    results = query.json()["composeExtension"]["attachments"]
    first = results[0]
    assert first["preview"]["content"]["title"] == kb.glossary.terms["mql"].name
    assert kb.glossary.terms["mql"].definition.splitlines()[0] in texts(first["content"])
    explained = teams.post(invoke(base, "composeExtension/submitAction", {
        "commandId": "explainTerms", "commandContext": "message",
        "messagePayload": {"id": "1770000000300", "body": {
            "contentType": "html", "content": "<p>Our MQLs and <b>pipeline</b> dropped</p>"}}}))
    result = explained.json()["composeExtension"]
    assert result["type"] == "message"
    assert kb.glossary.terms["mql"].name in result["text"]
    assert teams.api.calls_to("send") == []  # both answered in the HTTP response


def test_restricted_metrics_follow_the_channel_name(teams):
    restricted = "what was our CAC this quarter?"
    refused = teams.answer(channel_mention(teams.api, restricted, "1770000000210"))
    assert any("restricted" in t for t in texts(refused))
    teams.api.channels[TEAM] = [{"id": "19:finance@thread.tacv2", "name": "finance"}]
    expected = teams.services.ask(restricted, Audience(channel="finance"))
    shown = teams.answer(channel_mention(teams.api, restricted, "1770000000211",
                                         channel="19:finance@thread.tacv2"), 2)
    assert any(expected.result.formatted in t for t in texts(shown))


def test_a_by_month_answer_has_its_chart_posted_under_it(teams, metric_engine):
    asked = channel_mention(teams.api, "bookings by month this year", "1770000000400")
    card = teams.answer(asked)
    expected = metric_engine.run(metric_engine.plan("bookings", "this_year", ["month"]))
    assert expected.interpretation in texts(card)
    reply, chart = teams.api.wait_for("send", 2)
    assert chart.conversation_id == reply.conversation_id == asked["conversation"]["id"]
    assert chart.body["replyToId"] == "1770000000400" and not chart.cards
    [image] = chart.body["attachments"]
    assert image["contentType"] == "image/png" and image["name"] == "bookings-by-month.png"
    # The chart of exactly the numbers in the card, posted after it.
    assert image["contentUrl"] == ("data:image/png;base64,"
                                   + base64.b64encode(charts.draw(expected)).decode())
    assert chart.body["text"] == expected.interpretation


def test_a_total_gets_no_chart(teams):
    teams.answer(personal(teams.api, "bookings this year"))
    teams.api.wait_for("send", 1)
    teams.answer(personal(teams.api, "what is an MQL?", activity_id="1770000000101"), 2)
    assert all(call.cards for call in teams.api.calls_to("send"))  # two cards, no image


@pytest.fixture
def teams_with_groups(kb, metric_engine, teams_api, tmp_path):
    """The Teams app allowed to read group membership from Graph (the stand-in's)."""
    settings = Settings(teams_dev=True, teams_graph_groups=True,
                        teams_graph_url=teams_api.graph_url,
                        database_url=f"sqlite:///{tmp_path / 'state.db'}")
    store = StateStore.from_url(settings.database_url)
    running, server = start(settings, Services(kb, metric_engine), store, teams_api)
    yield running
    running.http.close()
    server.shutdown()
    server.server_close()
    store.close()


@pytest.mark.parametrize(("groups", "shown"), [
    ([{"displayName": "Finance", "mailNickname": "finance-team"}], True),
    ([{"displayName": "Sales Ops", "mailNickname": "salesops"}], False),
    ([], False),
])
def test_a_metric_open_to_a_group_is_shown_to_its_members_only(teams_with_groups, groups,
                                                               shown):
    teams = teams_with_groups
    teams.api.groups[ANA] = [*groups, {"displayName": "All Company", "mailNickname": "all"}]
    restricted = "what was our CAC this quarter?"
    card = texts(teams.answer(personal(teams.api, restricted)))
    [lookup] = teams.api.calls_to("member_of")
    assert lookup.conversation_id == ANA and lookup.authorization is None  # TEAMS_DEV
    expected = teams.services.ask(restricted, Audience(groups=frozenset({"finance"})))
    assert any(expected.result.formatted in t for t in card) == shown
    assert any("restricted" in t for t in card) != shown


def test_group_membership_that_cannot_be_read_grants_nothing(teams_with_groups):
    teams = teams_with_groups
    teams.api.fail("member_of", times=1, status=403)  # the permission was not consented
    refused = teams.answer(personal(teams.api, "what was our CAC this quarter?"))
    assert any("restricted" in t for t in texts(refused))
    defined = teams.answer(personal(teams.api, "what is an MQL?",
                                    activity_id="1770000000103"), 2)
    assert any("Marketing Qualified Lead" in t for t in texts(defined))
    assert len(teams.api.calls_to("member_of")) == 1  # not asked again at every question


def test_with_credentials_an_activity_without_a_token_is_refused(kb, teams_api, tmp_path):
    settings = Settings(teams_client_id="00000000-0000-0000-0000-000000000b07",
                        teams_client_secret="not-a-real-secret", teams_tenant_id=TENANT_ID,
                        database_url=f"sqlite:///{tmp_path / 'state.db'}")
    store = StateStore.from_url(settings.database_url)
    running, server = start(settings, Services(kb), store, teams_api)
    try:
        response = running.post(personal(teams_api, "what is an MQL?"))
        assert response.status_code == 401
        forged = running.http.post(MESSAGES_PATH, json=personal(teams_api, "what is an MQL?"),
                                   headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 401
        assert teams_api.calls == []
    finally:
        running.http.close()
        server.shutdown()
        server.server_close()
        store.close()


def test_adding_the_bot_to_a_team_keeps_where_to_send_its_notifications(teams):
    added = {**channel_mention(teams.api, "", "1770000000400"), "type": "conversationUpdate",
             "membersAdded": [{"id": "28:ssot-bot"}],
             "conversation": {"id": CHANNEL, "conversationType": "channel", "isGroup": True,
                              "tenantId": TENANT_ID}}
    added.pop("text")
    added.pop("entities")
    teams.api.channels[TEAM] = [{"id": CHANNEL, "name": "revops"}]
    assert teams.post(added).status_code == 200
    ref = wait_until(lambda: teams.store.conversation("teams", CHANNEL))
    assert (ref.service_url.rstrip("/"), ref.tenant_id, ref.name, ref.kind) == (
        teams.api.service_url.rstrip("/"), TENANT_ID, "revops", "channel")
    assert teams.api.calls_to("send") == []  # a team install is not announced in the channel
