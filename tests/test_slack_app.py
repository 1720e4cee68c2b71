"""The real Bolt app over its real HTTP endpoint, with signed Slack-shaped requests.

Replies land on the loopback Web API stand-in (`slack_api`), which records every call.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass

import pytest

from bot.chat.asked import Asked
from bot.services import Services
from bot.settings import Settings
from bot.slack import blocks
from bot.slack.app import SlackConfigError, create_app
from bot.slack.serving import http_server, serve_in_thread
from bot.state.store import StateStore
from bot.state.sync import sync
from metrics import charts
from tests.conftest import GLOSSARY, ROOT
from tests.serving_support import wait_until
from tests.slack_requests import SlackSender, message_event
from tests.slack_standin import Reply, SlackStandIn

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
OWNER = "U0OWNER"  # the one glossary owner (SSOT_OWNERS)
MQL = (GLOSSARY / "terms" / "mql.md").read_text(encoding="utf-8")
MQL_DEFINITION = (
    "A Marketing Qualified Lead (MQL) is a lead whose lead score has reached 65 or more and "
    "whose account meets the Ideal Customer Profile (ICP) fit criteria; both conditions must be "
    "true at the same moment."
)


@dataclass
class Running:
    slack: SlackSender
    api: SlackStandIn
    store: StateStore
    base_url: str


@pytest.fixture
def running(kb, metric_engine, slack_api, tmp_path):
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=SECRET,
                        slack_api_base_url=slack_api.api_url,
                        database_url=f"sqlite:///{tmp_path / 'state.db'}", owners=OWNER)
    store = StateStore.from_url(settings.database_url)
    # History recorded "last year", so `/define mql as of` a past day has an answer.
    sync(store, GLOSSARY, ROOT / "metrics" / "definitions",
         now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    app = create_app(settings, Services(kb, metric_engine), store)
    server = http_server(app, "127.0.0.1", 0)
    serve_in_thread(server)
    base = f"http://127.0.0.1:{server.server_port}"
    yield Running(SlackSender(f"{base}/slack/events", SECRET), slack_api, store, base)
    server.shutdown()
    server.server_close()
    store.close()


def texts(call) -> str:
    """Every piece of text a message would show, joined (to assert on what people see)."""
    return json.dumps(call.value("blocks") or [], ensure_ascii=False)


def settle(api: SlackStandIn, method: str, count: int) -> list:
    """Wait for `count` calls, then briefly for any unwanted extra one."""
    api.wait_for(method, count)
    time.sleep(0.5)  # a duplicate would have been posted by now; the assertion is on the count
    return api.calls_to(method)



def test_health_and_url_verification(running):
    import urllib.request

    with urllib.request.urlopen(f"{running.base_url}/healthz") as response:
        assert response.status == 200
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "legacy"})
    status, text = running.slack.post(body, "application/json")
    assert status == 200 and "c-123" in text


def test_other_paths_methods_and_oversized_bodies_are_refused_without_dispatch(running):
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(running.base_url)

    def request(method: str, path: str, body: bytes = b"") -> int:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        try:
            conn.request(method, path, body=body)
            return conn.getresponse().status
        finally:
            conn.close()

    assert request("GET", "/slack/events") == 405
    assert request("POST", "/other") == 404
    assert request("POST", "/slack/events", b"x" * 1_000_001) == 413
    # A signed request that is too large is refused the same way, and answered by nothing.
    status, _ = running.slack.command("/define", "mql " + "x" * 1_000_000,
                                      running.api.response_url("big"))
    assert status == 413
    time.sleep(0.3)
    assert not running.api.calls_to("response/big")


def test_define_answers_ephemerally_through_the_response_url(running):
    url = running.api.response_url("define")
    status, body = running.slack.command("/define", "mql", url)
    assert status == 200 and body == ""  # the ack is empty; the answer follows
    [reply] = running.api.wait_for("response/define")
    assert reply.body["response_type"] == "ephemeral"
    shown = texts(reply)
    assert MQL_DEFINITION in shown
    for expected in ("Marketing Operations (Director of Marketing Operations)", "approved",
                     "3.0", "glossary_docs/terms/mql.md", "Share in channel", "Helpful",
                     "Sales Accepted Lead (SAL)"):
        assert expected in shown
    assert running.api.calls_to("chat.postMessage") == []


def test_a_command_whose_text_says_payload_is_still_answered(running):
    """Bolt reads any form body containing "payload" as an interaction payload."""
    url = running.api.response_url("payload")
    status, _ = running.slack.command("/define", "payload", url)
    assert status == 200
    [reply] = running.api.wait_for("response/payload")
    assert "payload" in texts(reply).lower()  # the reply names the term it does not know


def test_mention_is_answered_in_its_thread_and_follow_ups_there_too(running):
    ts = "1700000100.000100"
    status, _ = running.slack.event({"type": "app_mention", "user": "U0ALICE", "ts": ts,
                                     "text": "<@UBOT> whats an mql?", "channel": "C0GENERAL"})
    assert status == 200
    [answer] = running.api.wait_for("chat.postMessage")
    assert answer.body["channel"] == "C0GENERAL" and answer.body["thread_ts"] == ts
    assert MQL_DEFINITION in texts(answer)

    wait_until(lambda: running.store.is_bot_thread("C0GENERAL", ts), 10)  # after the post
    running.slack.event(message_event("and what about SAL?", "1700000100.000200", thread_ts=ts))
    follow_up = running.api.wait_for("chat.postMessage", 2)[1]
    assert follow_up.body["thread_ts"] == ts
    assert "Sales Accepted Lead" in texts(follow_up)


def test_messages_outside_the_bots_threads_are_left_alone(running):
    running.slack.event(message_event("what is an MQL?", "1700000200.000200",
                                      thread_ts="1700000200.000100"))  # someone else's thread
    running.slack.event(message_event("what is an MQL?", "1700000200.000300",
                                      subtype="message_changed"))
    running.slack.event(message_event("what is an MQL?", "1700000200.000400", bot_id="B0OTHER"))
    running.slack.event(message_event("<@UBOT> what is an MQL?", "1700000200.000500"))
    # A DM is always answered: once it is in, the ignored events had their chance.
    running.slack.event(message_event("what is an SQL?", "1700000200.000600", channel="D0ALICE",
                                      channel_type="im"))
    calls = settle(running.api, "chat.postMessage", 1)
    assert [c.body["channel"] for c in calls] == ["D0ALICE"]
    assert "Sales Qualified Lead" in texts(calls[0]) and "thread_ts" not in calls[0].body


def test_a_retried_event_is_answered_once(running):
    event = {"type": "app_mention", "user": "U0ALICE", "ts": "1700000300.000100",
             "text": "<@UBOT> define pipeline coverage", "channel": "C0GENERAL"}
    assert running.slack.event(event, event_id="Ev0RETRY")[0] == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert running.slack.event(event, event_id="Ev0RETRY", headers=retry)[0] == 200
    calls = settle(running.api, "chat.postMessage", 1)
    assert len(calls) == 1 and "Pipeline Coverage" in texts(calls[0])


def test_a_redelivery_that_overtakes_the_first_delivery_is_still_answered_once(running):
    event = {"type": "app_mention", "user": "U0ALICE", "ts": "1700000300.000200",
             "text": "<@UBOT> what is an MQL?", "channel": "C0GENERAL"}
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert running.slack.event(event, event_id="Ev0LATE", headers=retry)[0] == 200
    running.api.wait_for("chat.postMessage")
    assert running.slack.event(event, event_id="Ev0LATE")[0] == 200  # the original, late
    calls = settle(running.api, "chat.postMessage", 1)
    assert len(calls) == 1 and MQL_DEFINITION in texts(calls[0])


def test_bad_or_stale_signatures_get_401_and_no_answer(running):
    url = running.api.response_url("forged")
    assert running.slack.command("/define", "mql", url, secret="not-the-secret")[0] == 401
    stale = int(time.time()) - 6 * 60
    assert running.slack.command("/define", "mql", url, timestamp=stale)[0] == 401
    event = {"type": "app_mention", "user": "U0ALICE", "ts": "1700000400.000100",
             "text": "<@UBOT> what is an MQL?", "channel": "C0GENERAL"}
    assert running.slack.event(event, secret="not-the-secret")[0] == 401
    time.sleep(0.5)
    assert running.api.calls_to("response/forged") == []
    assert running.api.calls_to("chat.postMessage") == []


def test_no_answer_offers_did_you_mean_and_counts_as_a_gap(running):
    url = running.api.response_url("vpn")
    running.slack.command("/define", "mqll", url)
    [reply] = running.api.wait_for("response/vpn")
    shown = texts(reply)
    assert "No governed term is called 'mqll'" in shown and blocks.DID_YOU_MEAN in shown
    assert "Marketing Qualified Lead (MQL)" in shown
    # Recorded after the reply, so it never holds the reply up.
    wait_until(lambda: [g.question for g in running.store.gaps()] == ["mqll"], 10)


def test_only_glossary_owners_see_the_unanswered_questions(running):
    running.slack.command("/define", "mqll", running.api.response_url("gap"))
    running.api.wait_for("response/gap")
    wait_until(lambda: running.store.gaps(), 10)

    running.slack.command("/ssot", "gaps", running.api.response_url("owner"), user=OWNER)
    [owner] = running.api.wait_for("response/owner")
    assert owner.body["response_type"] == "ephemeral" and "1×  mqll" in owner.body["text"]

    running.slack.command("/ssot", "gaps", running.api.response_url("other"), user="U0BOB")
    [other] = running.api.wait_for("response/other")
    assert other.body["response_type"] == "ephemeral" and "mqll" not in texts(other)
    assert f"Only glossary owners can see the unanswered questions: <@{OWNER}>" in \
        other.body["text"]


def test_buttons_related_term_feedback_and_share(running):
    running.slack.command("/define", "mql", running.api.response_url("first"))
    [first] = running.api.wait_for("response/first")
    elements = [e for b in first.value("blocks") if b["type"] == "actions" for e in b["elements"]]
    by_id = {e["action_id"]: e["value"] for e in elements}

    related = next(v for k, v in by_id.items() if k.startswith(blocks.RELATED) and v == "sal")
    running.slack.button("related_term_1", related, running.api.response_url("related"))
    [sal] = running.api.wait_for("response/related")
    assert "Sales Accepted Lead (SAL)" in texts(sal) and sal.body["replace_original"] is False

    running.slack.button(blocks.NOT_HELPFUL, by_id[blocks.NOT_HELPFUL],
                         running.api.response_url("rated"))
    running.api.wait_for("response/rated")
    wait_until(lambda: [(g.question, g.count) for g in running.store.gaps()] == [("mql", 1)],
               10)

    running.slack.button(blocks.SHARE, by_id[blocks.SHARE], running.api.response_url("share"))
    shared, deleted = running.api.wait_for("response/share", 2)
    assert shared.body["response_type"] == "in_channel" and MQL_DEFINITION in texts(shared)
    assert "Share in channel" not in texts(shared)
    assert deleted.body["delete_original"] is True


def test_define_as_of_a_past_day_uses_the_recorded_history(running):
    running.slack.command("/define", "mql as of 2025-03-01", running.api.response_url("asof"))
    [reply] = running.api.wait_for("response/asof")
    assert "As of 2025-03-01: version 3.0" in texts(reply) and MQL_DEFINITION in texts(reply)
    running.slack.command("/define", "mql as of 2024-03-01", running.api.response_url("before"))
    [none] = running.api.wait_for("response/before")
    assert "history starts on 2025-01-01" in none.body["text"]


def test_explain_terms_shortcut_is_case_aware(running):
    running.slack.interaction({
        "type": "message_action", "callback_id": "explain_terms",
        "user": {"id": "U0ALICE"}, "channel": {"id": "C0GENERAL", "name": "general"},
        "message": {"type": "message", "ts": "1700000500.000100",
                    "text": "Our MQLs doubled; can you run the sql for ARR by segment?"},
        "response_url": running.api.response_url("explain"), "message_ts": "1700000500.000100",
    })
    [reply] = running.api.wait_for("response/explain")
    shown = reply.body["text"]
    assert "*Marketing Qualified Lead (MQL)*: " + MQL_DEFINITION.split(";")[0] in shown
    assert "*Annual Recurring Revenue (ARR)*" in shown
    assert "Sales Qualified Lead" not in shown  # "the sql" is a query, not a lead stage


def test_ssot_subscribe_history_and_autoanswer(running):
    def ssot(text: str) -> str:
        name = f"ssot{time.monotonic_ns()}"
        running.slack.command("/ssot", text, running.api.response_url(name))
        return running.api.wait_for(f"response/{name}")[0].body["text"]

    assert "Subscribed" in ssot("subscribe MQLs")
    assert "`mql`" in ssot("subscriptions")
    assert "3.0" in ssot("history mql")
    assert "/ssot glossary" in ssot("help")
    assert "Unknown domain" in ssot("glossary astrology")
    assert "Autoanswer is on" in ssot("autoanswer on")

    running.slack.event(message_event("lunch at noon?", "1700000600.000050"))
    running.slack.event(message_event("what's the definition of SAL?", "1700000600.000100"))
    calls = settle(running.api, "chat.postMessage", 1)
    assert len(calls) == 1 and calls[0].body["thread_ts"] == "1700000600.000100"
    assert "Sales Accepted Lead" in texts(calls[0])


def test_app_home_shows_glossary_changes_and_subscriptions(running):
    running.store.subscribe("C0GENERAL", "mql")
    running.api.script("users.conversations")  # the default: no channels
    running.slack.event({"type": "app_home_opened", "user": "U0ALICE", "tab": "home",
                         "channel": "D0ALICE", "event_ts": "1700000700.000100"})
    [published] = running.api.wait_for("views.publish")
    view = json.dumps(published.value("view"))
    assert published.body["user_id"] == "U0ALICE"
    for expected in ("Glossary by domain", "Marketing Qualified Lead (MQL)",
                     "Recent definition changes", "None of your channels is subscribed"):
        assert expected in view


def test_metric_command_answers_ephemerally_with_value_rows_and_sql(running, metric_engine):
    running.slack.command("/metric", "win_rate last_quarter by segment where region=emea",
                          running.api.response_url("metric"))
    [reply] = running.api.wait_for("response/metric")
    assert reply.body["response_type"] == "ephemeral"
    expected = metric_engine.run(metric_engine.plan(
        "win_rate", "last_quarter", ["segment"], {"region": "EMEA"}))
    shown = texts(reply)
    assert expected.formatted in shown and "Q3 2026" in shown and "region = EMEA" in shown
    for row in expected.rows:
        assert row.formatted in shown
    elements = [e for b in reply.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    show_sql = next(e for e in elements if e["action_id"] == blocks.SHOW_SQL)
    running.slack.button(blocks.SHOW_SQL, show_sql["value"], running.api.response_url("sql"))
    [sql] = running.api.wait_for("response/sql")
    assert "opportunities.region = 'EMEA'" in texts(sql)


def test_a_restricted_metric_is_refused_outside_its_channels(running):
    running.slack.command("/metric", "cac this quarter", running.api.response_url("cac"))
    [reply] = running.api.wait_for("response/cac")
    assert "restricted to #finance" in texts(reply)


def ask_cac(running: Running, channel: str, user: str) -> str:
    """What a person sees after asking for CAC with an @mention in a channel."""
    before = len(running.api.calls_to("chat.postMessage"))
    running.slack.event({"type": "app_mention", "user": user, "channel": channel,
                         "ts": f"1700000300.{before:06d}", "text": "<@UBOT> cac last quarter"})
    return texts(running.api.wait_for("chat.postMessage", before + 1)[before])


def test_a_restricted_metric_is_answered_in_its_channel_and_to_its_user_groups(running):
    running.api.channels.update({"C0FIN": "finance", "C0GENERAL": "general"})
    running.api.user_groups["finance"] = ["U0FINN"]
    in_channel = ask_cac(running, "C0FIN", "U0ALICE")
    assert "Customer acquisition cost (CAC)" in in_channel and "Show SQL" in in_channel
    assert "restricted" not in in_channel
    # A finance member in #general gets the number, but only they see it.
    before = len(running.api.calls_to("chat.postMessage"))
    running.slack.event({"type": "app_mention", "user": "U0FINN", "channel": "C0GENERAL",
                         "ts": "1700000300.999999", "text": "<@UBOT> cac last quarter"})
    private = running.api.wait_for("chat.postEphemeral", 1)[0]
    assert "Show SQL" in texts(private) and private.value("user") == "U0FINN"
    assert len(running.api.calls_to("chat.postMessage")) == before
    assert "restricted to #finance" in ask_cac(running, "C0GENERAL", "U0ALICE")
    # Looked up once and kept: a question does not cost a Web API call each time.
    assert len(running.api.calls_to("usergroups.list")) == 1
    assert len(running.api.calls_to("conversations.info")) == 2


def test_user_groups_that_cannot_be_listed_grant_nothing(running):
    running.api.channels.update({"C0FIN": "finance", "C0GENERAL": "general"})
    running.api.user_groups["finance"] = ["U0FINN"]
    running.api.script("usergroups.list", Reply(200, {"ok": False, "error": "missing_scope"}))
    assert "restricted to #finance" in ask_cac(running, "C0GENERAL", "U0FINN")
    assert "Show SQL" in ask_cac(running, "C0FIN", "U0FINN")


def test_missing_credentials_name_the_variable(kb, tmp_path):
    store = StateStore.from_url(f"sqlite:///{tmp_path / 'state.db'}")
    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN"):
        create_app(Settings(slack_signing_secret=SECRET), Services(knowledge=kb), store)
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        create_app(Settings(slack_bot_token="xoxb-test", slack_signing_secret=" "),
                   Services(knowledge=kb), store)


def test_button_values_survive_long_questions():
    asked = Asked(via="ask", text="why " * 600, answer_id="mql")
    value = asked.encode()
    assert len(value) <= 2000 and Asked.decode(value).answer_id == "mql"
    assert Asked.decode("not json") is None


def ask_by_month(running: Running, ts: str, *, channel: str = "C0GENERAL",
                 user: str = "U0ALICE", metric: str = "bookings") -> None:
    running.slack.event({"type": "app_mention", "user": user, "channel": channel, "ts": ts,
                         "text": f"<@UBOT> {metric} by month this year"})


def test_a_by_month_answer_has_its_chart_uploaded_into_its_thread(running, metric_engine):
    ts = "1700000600.000100"
    ask_by_month(running, ts)
    [upload] = running.api.wait_for_uploads(1)
    [answer] = running.api.calls_to("chat.postMessage")
    expected = metric_engine.run(metric_engine.plan("bookings", "this_year", ["month"]))
    assert answer.body["thread_ts"] == ts
    assert expected.interpretation.startswith("Bookings · 2026")
    assert expected.interpretation in texts(answer)
    assert (upload.channel, upload.thread_ts) == ("C0GENERAL", ts)
    assert upload.filename == "bookings-by-month.png" and upload.title == expected.interpretation
    # The chart of exactly the numbers in the reply, posted after the reply.
    assert upload.content == charts.draw(expected) and len(upload.content) < 100_000
    methods = [c.method for c in running.api.calls]
    assert methods.index("chat.postMessage") < methods.index("files.getUploadURLExternal")


@pytest.mark.parametrize(("step", "reply", "logged"), [
    ("files.getUploadURLExternal", Reply(200, {"ok": False, "error": "missing_scope"}),
     "missing_scope (the app needs the files:write scope)"),
    ("upload", Reply(500, {"ok": False, "error": "internal_error"}), "500"),
])
def test_a_chart_that_cannot_be_uploaded_leaves_the_reply_standing(running, caplog, step,
                                                                   reply, logged):
    running.api.script(step, reply)
    ts = "1700000700.000100"
    with caplog.at_level(logging.WARNING, logger="bot.slack.charts"):
        ask_by_month(running, ts)
        wait_until(lambda: any("chart of bookings was not uploaded" in r.getMessage()
                               for r in caplog.records))
    [answer] = settle(running.api, "chat.postMessage", 1)  # the reply, and no apology after it
    assert answer.body["thread_ts"] == ts and "Bookings · 2026" in texts(answer)
    assert running.api.uploads == []
    assert any(logged in r.getMessage() for r in caplog.records)


def test_a_restricted_by_month_answer_given_privately_gets_no_chart(running):
    running.api.channels.update({"C0FIN": "finance", "C0GENERAL": "general"})
    running.api.user_groups["finance"] = ["U0FINN"]
    ask_by_month(running, "1700000800.000100", user="U0FINN", metric="cac")
    [private] = running.api.wait_for("chat.postEphemeral")
    assert "Customer acquisition cost (CAC)" in texts(private)
    ask_by_month(running, "1700000800.000200", channel="C0FIN", metric="cac")  # its channel
    [shared] = settle(running.api, "files.completeUploadExternal", 1)
    assert (shared.value("channel_id"), shared.value("thread_ts")) == ("C0FIN",
                                                                       "1700000800.000200")
    assert [u.channel for u in running.api.uploads] == ["C0FIN"]
