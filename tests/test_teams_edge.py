"""The Teams edge end to end: Bot Framework activities over HTTP into the real SDK `App`,
served by our adapter under uvicorn, with replies landing on a Bot Connector stand-in.

The app runs as `TEAMS_DEV=1` will run it (no credentials, unauthenticated requests
allowed) unless a test says otherwise.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading

import httpx
import jwt
import pytest
import uvicorn
from microsoft_teams.api import (
    AdaptiveCardAttachment,
    AdaptiveCardInvokeActivity,
    ApiClient,
    ConversationUpdateActivity,
    InstalledActivity,
    MessageActivity,
    MessageActivityInput,
    MessageExtensionQueryInvokeActivity,
    MessageExtensionSubmitActionInvokeActivity,
    card_attachment,
)
from microsoft_teams.api.models import (
    MessagingExtensionActionInvokeResponse,
    MessagingExtensionAttachment,
    MessagingExtensionAttachmentLayout,
    MessagingExtensionInvokeResponse,
    MessagingExtensionResult,
    MessagingExtensionResultType,
)
from microsoft_teams.api.models.adaptive_card import AdaptiveCardActionMessageResponse
from microsoft_teams.apps import ActivityContext, App, HttpServerAdapter
from microsoft_teams.common import Client, ClientOptions

from bot.chat.asked import Asked
from bot.teams.adapter import MAX_BODY, MESSAGES_PATH, AsgiAdapter
from bot.teams.cards import HELPFUL, answer_card, card_data, message_card, parse_card_data
from knowledge.answer import Answer, Ref, Source
from tests.teams_requests import CHANNEL, buttons, channel_mention, personal, texts
from tests.teams_standin import BOT_ID, TENANT_ID

MQL = Answer(
    kind="definition", id="mql", name="Marketing Qualified Lead (MQL)",
    definition="A lead that marketing has scored at 60 or more and that has engaged in the "
               "last 30 days.",
    owner="Marketing Ops", status="approved", version="3.0", updated=dt.date(2026, 9, 15),
    source=Source(path="glossary_docs/terms/mql.md", url="https://docs.example.com/mql.md"),
    related=(Ref(id="sql", name="Sales Qualified Lead (SQL)"),))
# What the SDK would read from the environment (or from a .env it loads at import).
SDK_ENV = ("CLIENT_ID", "CLIENT_SECRET", "TENANT_ID", "SERVICE_URL", "CLOUD", "OAUTH_URL",
           "MANAGED_IDENTITY_CLIENT_ID", "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS")


@pytest.fixture(autouse=True)
def no_sdk_env(monkeypatch):
    for name in SDK_ENV:
        monkeypatch.delenv(name, raising=False)


class Edge:
    """The adapter behind a tiny ASGI app under uvicorn on loopback, as the bot will serve it."""

    def __init__(self, adapter: AsgiAdapter) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

        async def asgi(scope, receive, send):
            if scope["type"] == "http" and scope["path"] == "/healthz":
                await send({"type": "http.response.start", "status": 200, "headers": []})
                return await send({"type": "http.response.body", "body": b"ok"})
            return await adapter.handle(scope, receive, send)

        self._server = uvicorn.Server(uvicorn.Config(asgi, lifespan="off", access_log=False,
                                                     log_config=None))
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        self.http = httpx.Client(base_url=self.url, timeout=30)

    def post(self, activity: object, path: str = MESSAGES_PATH, **kwargs) -> httpx.Response:
        return self.http.post(path, json=activity, **kwargs)

    def stop(self) -> None:
        self.http.close()
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()


@pytest.fixture
def serve():
    """Serve an initialized App's adapter; stopped after the test."""
    edges: list[Edge] = []

    def start(app: App, adapter: AsgiAdapter) -> Edge:
        asyncio.run(app.initialize())
        edges.append(Edge(adapter))
        return edges[-1]

    yield start
    for edge in edges:
        edge.stop()


def dev_app(adapter: AsgiAdapter, **options) -> App:
    """The app as TEAMS_DEV=1 builds it: no credentials, unauthenticated requests allowed."""
    return App(http_server_adapter=adapter, dangerously_allow_unauthenticated_requests=True,
               client=ClientOptions(timeout=10), **options)


def answering_app(adapter: AsgiAdapter, questions: list[str]) -> App:
    """Replies to a question with MQL's card, threaded under it; thanks a feedback click."""
    app = dev_app(adapter)

    @app.on_message
    async def on_message(ctx: ActivityContext[MessageActivity]) -> None:
        clicked = parse_card_data(ctx.activity.value)
        if clicked is not None:
            verdict = "helpful" if clicked.action == HELPFUL else "not helpful"
            await ctx.send(message_card(f"Thanks: recorded that *{clicked.asked.answer_id}* "
                                        f"was {verdict} for _{clicked.asked.text}_."))
            return
        question = ctx.activity.strip_mentions_text().text.strip()
        questions.append(question)
        card = answer_card(MQL, Asked(via="ask", text=question))
        await ctx.send(MessageActivityInput(reply_to_id=ctx.activity.id).add_card(card))

    return app












def test_a_personal_question_gets_the_answer_card_as_a_reply(serve, teams_api):
    adapter, questions = AsgiAdapter(), []
    edge = serve(answering_app(adapter, questions), adapter)
    assert isinstance(adapter, HttpServerAdapter) and adapter.paths == {MESSAGES_PATH}
    response = edge.post(personal(teams_api, "what is an MQL?"))
    assert response.status_code == 200
    [call] = teams_api.wait_for("send")
    assert call.conversation_id == "a:personal-ana"
    assert call.body["replyToId"] == "1770000000100"
    assert call.body["conversation"]["id"] == "a:personal-ana"
    assert call.body["from"]["id"] == BOT_ID
    assert call.authorization is None  # no credentials: nothing to sign with, and no token fetched
    [card] = call.cards
    assert MQL.definition in texts(card)
    assert "Owner: Marketing Ops" in texts(card)
    assert "Source: [glossary_docs/terms/mql.md](https://docs.example.com/mql.md)" in texts(card)
    helpful = parse_card_data(buttons(card)["Helpful"])
    assert helpful.asked == Asked(via="ask", text="what is an MQL?", answer_id="mql")
    assert parse_card_data(buttons(card)["Sales Qualified Lead (SQL)"]).asked.text == "sql"


def test_a_channel_mention_is_answered_in_the_posts_thread(serve, teams_api):
    adapter, questions = AsgiAdapter(), []
    edge = serve(answering_app(adapter, questions), adapter)
    post = channel_mention(teams_api, "what is an MQL?", "1770000000200")
    assert edge.post(post).status_code == 200
    [call] = teams_api.wait_for("send")
    assert call.conversation_id == f"{CHANNEL};messageid=1770000000200"
    assert call.body["replyToId"] == "1770000000200"
    assert questions == ["what is an MQL?"]  # the mention is not part of the question
    assert MQL.definition in texts(call.cards[0])


def test_a_button_click_comes_back_with_the_data_it_carries(serve, teams_api):
    adapter, questions = AsgiAdapter(), []
    edge = serve(answering_app(adapter, questions), adapter)
    edge.post(personal(teams_api, "what is an MQL?"))
    [answered] = teams_api.wait_for("send")
    card_id = teams_api.activities["a:personal-ana"][0]["id"]
    # Action.Execute: Teams posts a message with no text whose value is the button's data.
    click = personal(teams_api, "", "1770000000101", value=buttons(answered.cards[0])["Helpful"],
                     replyToId=card_id)
    assert edge.post(click).status_code == 200
    thanks = teams_api.wait_for("send", count=2)[1]
    assert texts(thanks.cards[0]) == [
        "Thanks: recorded that **mql** was helpful for *what is an MQL?*."]
    assert questions == ["what is an MQL?"]  # the click was not taken for a question


def test_invokes_are_answered_in_the_http_response(serve, teams_api):
    """Search, a message action and an Action.Execute click: nothing is posted, all answered."""
    adapter = AsgiAdapter()
    app = dev_app(adapter)

    @app.on_message_ext_query
    async def search(ctx: ActivityContext[MessageExtensionQueryInvokeActivity]):
        query = ctx.activity.value.parameters[0].value
        card = answer_card(MQL, Asked(via="ask", text=query))
        attachment = card_attachment(AdaptiveCardAttachment(content=card))
        return MessagingExtensionInvokeResponse(compose_extension=MessagingExtensionResult(
            type=MessagingExtensionResultType.RESULT,
            attachment_layout=MessagingExtensionAttachmentLayout.LIST,
            attachments=[MessagingExtensionAttachment(content_type=attachment.content_type,
                                                      content=attachment.content)]))

    @app.on_message_ext_submit
    async def define_message(ctx: ActivityContext[MessageExtensionSubmitActionInvokeActivity]):
        text = ctx.activity.value.message_payload.body.content
        card = answer_card(MQL, Asked(via="ask", text=text))
        attachment = card_attachment(AdaptiveCardAttachment(content=card))
        return MessagingExtensionActionInvokeResponse(compose_extension=MessagingExtensionResult(
            type=MessagingExtensionResultType.RESULT,
            attachment_layout=MessagingExtensionAttachmentLayout.LIST,
            attachments=[MessagingExtensionAttachment(content_type=attachment.content_type,
                                                      content=attachment.content)]))

    @app.on_card_action_execute(HELPFUL)
    async def helpful(ctx: ActivityContext[AdaptiveCardInvokeActivity]):
        clicked = parse_card_data(ctx.activity.value.action.data)
        return AdaptiveCardActionMessageResponse(value=f"Thanks for rating {clicked.asked.text}")

    edge = serve(app, adapter)
    base = personal(teams_api, "")
    query = edge.post({**base, "type": "invoke", "name": "composeExtension/query",
                       "value": {"commandId": "searchTerms",
                                 "parameters": [{"name": "searchQuery", "value": "mql"}]}})
    assert query.status_code == 200
    [found] = query.json()["composeExtension"]["attachments"]
    assert MQL.definition in texts(found["content"])

    action = edge.post({**base, "type": "invoke", "name": "composeExtension/submitAction",
                        "value": {"commandId": "defineInMessage", "commandContext": "message",
                                  "messagePayload": {"id": "1770000000300",
                                                     "body": {"contentType": "text",
                                                              "content": "our MQL numbers"}}}})
    assert action.status_code == 200
    [defined] = action.json()["composeExtension"]["attachments"]
    assert parse_card_data(buttons(defined["content"])["Helpful"]).asked.text == "our MQL numbers"

    data = card_data(HELPFUL, Asked(via="ask", text="what is an MQL?", answer_id="mql"))
    clicked = edge.post({**base, "type": "invoke", "name": "adaptiveCard/action",
                         "value": {"action": {"type": "Action.Execute", "data": data}}})
    assert clicked.status_code == 200
    assert clicked.json() == {"statusCode": 200,
                              "type": "application/vnd.microsoft.activity.message",
                              "value": "Thanks for rating what is an MQL?"}
    assert teams_api.calls == []


def test_installs_record_where_to_send_and_a_stored_conversation_gets_notifications(
        serve, teams_api):
    adapter = AsgiAdapter()
    app = dev_app(adapter)
    stored: list[tuple[str, str, str | None]] = []

    @app.on_install_add
    async def installed(ctx: ActivityContext[InstalledActivity]) -> None:
        ref = ctx.conversation_ref
        stored.append((ref.service_url, ref.conversation.id, ref.conversation.tenant_id))
        await ctx.send(message_card("Hi! Ask me what a term means, e.g. *what is an MQL?*"))

    @app.on_conversation_update
    async def added(ctx: ActivityContext[ConversationUpdateActivity]) -> None:
        if any(m.id == BOT_ID for m in ctx.activity.members_added or []):
            ref = ctx.conversation_ref
            stored.append((ref.service_url, ref.conversation.id, ref.conversation.tenant_id))

    edge = serve(app, adapter)
    install = {**personal(teams_api, ""), "type": "installationUpdate", "action": "add"}
    del install["text"]
    assert edge.post(install).status_code == 200
    team = {**channel_mention(teams_api, "", "1770000000400"), "type": "conversationUpdate",
            "membersAdded": [{"id": BOT_ID}], "conversation": {
                "id": CHANNEL, "conversationType": "channel", "isGroup": True,
                "tenantId": TENANT_ID}}
    team["channelData"]["eventType"] = "teamMemberAdded"
    assert edge.post(team).status_code == 200
    [welcome] = teams_api.wait_for("send")
    assert "Hi! Ask me what a term means, e.g. **what is an MQL?**" in texts(welcome.cards[0])
    assert stored == [(teams_api.service_url, "a:personal-ana", TENANT_ID),
                      (teams_api.service_url, CHANNEL, TENANT_ID)]

    async def notify() -> str:
        # Its own HTTP client: the App's pools connections on the server's event loop.
        client = Client(ClientOptions(timeout=10))
        try:
            for service_url, conversation, _tenant in stored:
                api = ApiClient(service_url, client, token_provider=app.token_provider)
                sent = await api.conversations.create_activity(
                    conversation, MessageActivityInput().add_card(
                        message_card("*MQL* changed: now version 3.1")))
        finally:
            await client.http.aclose()
        return sent.id

    sent_id = asyncio.run(notify())
    notices = teams_api.wait_for("send", count=3)[1:]
    assert [c.conversation_id for c in notices] == ["a:personal-ana", CHANNEL]
    assert all(texts(c.cards[0]) == ["**MQL** changed: now version 3.1"] for c in notices)
    assert sent_id == teams_api.activities[CHANNEL][0]["id"]


def test_with_credentials_an_unsigned_request_is_refused_and_nothing_is_sent(serve, teams_api):
    adapter, questions = AsgiAdapter(), []
    app = App(http_server_adapter=adapter, client_id="00000000-0000-0000-0000-00000000b07",
              client_secret="not-a-real-secret", tenant_id=TENANT_ID,
              dangerously_allow_unauthenticated_requests=False)

    @app.on_message
    async def on_message(ctx: ActivityContext[MessageActivity]) -> None:
        questions.append(ctx.activity.text)
        await ctx.send("should never be sent")

    edge = serve(app, adapter)
    response = edge.post(personal(teams_api, "what is an MQL?"))
    assert response.status_code == 401
    assert questions == [] and teams_api.calls == []


def test_the_edge_refuses_what_is_not_an_activity(serve, teams_api):
    adapter, questions = AsgiAdapter(), []
    edge = serve(answering_app(adapter, questions), adapter)
    not_json = edge.http.post(MESSAGES_PATH, content=b"{not json",
                              headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    assert edge.post([personal(teams_api, "what is an MQL?")]).status_code == 400
    too_big = edge.http.post(MESSAGES_PATH, content=b" " * (MAX_BODY + 1))
    assert too_big.status_code == 413
    assert edge.http.get(MESSAGES_PATH).status_code == 405
    assert edge.post(personal(teams_api, "hi"), path="/api/other").status_code == 404
    assert edge.http.get("/healthz").text == "ok"
    assert questions == [] and teams_api.calls == []


def test_a_reply_the_connector_refuses_fails_the_request(serve, teams_api):
    """The SDK awaits the handler before answering Teams, and retries no failed send."""
    adapter, questions = AsgiAdapter(), []
    edge = serve(answering_app(adapter, questions), adapter)
    teams_api.throttle("send", times=1, retry_after=3)
    response = edge.post(personal(teams_api, "what is an MQL?"))
    assert response.status_code == 500
    assert [c.status for c in teams_api.calls_to("send")] == [429]


def test_proactive_sends_with_credentials_carry_the_apps_token(teams_api):
    asked_for: list[tuple[str, str | None]] = []
    # The SDK reads the claims of what a provider returns, so it must be a JWT.
    issued = jwt.encode({"aud": "https://api.botframework.com", "appid": "ssot"},
                        "a test signing key of thirty-two bytes", algorithm="HS256")

    def token(scope: str, tenant_id: str | None = None) -> str:
        asked_for.append((scope, tenant_id))
        return issued

    app = App(http_server_adapter=AsgiAdapter(), client_id="00000000-0000-0000-0000-00000000b07",
              tenant_id=TENANT_ID, token=token, client=ClientOptions(timeout=10))

    async def send() -> str:
        await app.initialize()
        sent = await app.send("a:personal-ana", message_card("*MQL* changed"),
                              service_url=teams_api.service_url)
        return sent.id

    sent_id = asyncio.run(send())
    [call] = teams_api.wait_for("send")
    assert call.authorization == f"Bearer {issued}"
    assert asked_for == [("https://api.botframework.com/.default", TENANT_ID)]
    assert texts(call.cards[0]) == ["**MQL** changed"]
    assert sent_id == teams_api.activities["a:personal-ana"][0]["id"]


def test_without_credentials_app_send_refuses_so_notifications_use_the_api_client(teams_api):
    app = dev_app(AsgiAdapter())

    async def send() -> None:
        await app.initialize()
        await app.send("a:personal-ana", "hello", service_url=teams_api.service_url)

    with pytest.raises(ValueError, match="credentials"):
        asyncio.run(send())
    assert teams_api.calls == []
