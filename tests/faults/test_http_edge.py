"""The HTTP edge under bad input and replays: 401 or 400, never a 500; each request answered once.

Every request goes to the real app over its HTTP endpoint; answers land on the Web API
stand-in, which records them.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pytest

from bot.services import Services
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.serving import http_server, serve_in_thread
from bot.state.store import StateStore
from bot.state.sync import sync
from tests.conftest import GLOSSARY
from tests.slack_requests import SlackSender, command_form
from tests.state_support import METRICS, open_store

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MQL_DEFINITION = "A Marketing Qualified Lead (MQL) is a lead whose lead score has reached 65"
JSON, FORM = "application/json", "application/x-www-form-urlencoded"


@dataclass
class Instance:
    """One running app: where to send requests, and the signed sender for its endpoint."""

    url: str
    slack: SlackSender


@pytest.fixture
def start(kb, metric_engine, slack_api) -> Iterator[Callable[[StateStore], Instance]]:
    """Start app instances (each over its own store object); all stopped afterwards."""
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=SECRET,
                        slack_api_base_url=slack_api.api_url)
    with ExitStack() as running:

        def started(store: StateStore) -> Instance:
            server = http_server(create_app(settings, Services(kb, metric_engine), store),
                                 "127.0.0.1", 0)
            serve_in_thread(server)
            running.callback(server.server_close)
            running.callback(server.shutdown)
            url = f"http://127.0.0.1:{server.server_port}/slack/events"
            return Instance(url, SlackSender(url, SECRET))

        yield started


@pytest.fixture
def store(tmp_path) -> Iterator[StateStore]:
    with open_store("sqlite", tmp_path) as opened:
        sync(opened, GLOSSARY, METRICS)
        yield opened


def post(url: str, body: bytes, content_type: str | None, headers: dict[str, str]) -> int:
    """POST raw bytes with exactly these headers; the response status."""
    target = urlsplit(url)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    try:
        conn.request("POST", target.path, body=body, headers={
            **({"Content-Type": content_type} if content_type else {}), **headers})
        return conn.getresponse().status
    finally:
        conn.close()


def signed(body: bytes, stamp: str | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's v0 signature headers over raw bytes, with any timestamp text."""
    stamp = str(int(time.time())) if stamp is None else stamp
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


def replays_settled(caplog, slack_api, *names: str, timeout: float = 30.0) -> None:
    """Wait until each replay was turned away (the app logs it) or answered a second time."""
    deadline = time.monotonic() + timeout
    while (sum("answered already" in r.getMessage() for r in caplog.records) < len(names)
           and not any(len(slack_api.calls_to(f"response/{n}")) > 1 for n in names)):
        assert time.monotonic() < deadline, "the replays were neither answered nor turned away"
        time.sleep(0.01)


NESTED = b"[" * 100_000 + b"]" * 100_000
EVENT = json.dumps({"type": "event_callback", "event_id": "Ev0EDGE", "team_id": "T0001",
                    "event": {"type": "app_mention", "user": "U0ALICE", "channel": "C0GENERAL",
                              "text": "<@UBOT> what is an MQL?", "ts": "1700000500.000100"}})
MALFORMED = [
    (b"[1]", JSON), (b"null", JSON), (b"17", JSON), (b'"text"', JSON), (NESTED, JSON),
    (b'{"authorizations": 5}', JSON), (b'{"team": 5}', JSON), (b"{not json", JSON),
    (b"\xff\xfe{}", JSON), (b"payload=%5B1%5D", FORM), (b"payload=null", FORM),
    (b"payload=not+json", FORM), (b"payload=" + NESTED, FORM),
    (EVENT.encode(), "text/plain"), (EVENT.encode(), None),
    # JSON objects, but not shaped as Slack shapes them where Bolt and the listeners look.
    (b'{"type": "event_callback", "event_id": "Ev0BAD", "event": "app_mention"}', JSON),
    (b'{"type": "event_callback", "event": {"type": "app_mention", "text": 5}}', JSON),
    (b'payload={"type": "block_actions", "actions": "related_term_1"}', FORM),
    (b'payload={"type": "view_submission", "view": [1]}', FORM),
    (b"command=%2Fdefine&text=mql", FORM),  # no response_url to answer on
]


def test_unsigned_and_malformed_requests_get_401_or_400_never_500_or_a_traceback(
        start, store, slack_api, caplog):
    caplog.set_level(logging.INFO)
    app = start(store)
    for body, content_type in MALFORMED:
        # Unsigned, or signed in any way but Slack's: refused before the body is looked at.
        for headers in ({}, signed(body, secret="not-the-secret"),
                        signed(body, stamp=str(int(time.time()) - 6 * 60)),
                        signed(body, stamp="17e8"), signed(body, stamp="[1]"),
                        signed(body, stamp="null"), signed(body, stamp=""),
                        {"X-Slack-Signature": signed(body)["X-Slack-Signature"]}):
            assert post(app.url, body, content_type, headers) == 401, (body[:40], headers)
        # Signed by Slack, but not a payload anyone could answer.
        assert post(app.url, body, content_type, signed(body)) == 400, (body[:40], content_type)

    # Slack's certificate check comes unsigned and asks for nothing: an empty 200, no dispatch.
    smuggled = f"ssl_check=1&command=%2Fdefine&text=mql&response_url={slack_api.response_url()}"
    assert post(app.url, smuggled.encode(), FORM, {}) == 200
    assert post(app.url, smuggled.replace("=1", "=0").encode(), FORM, {}) == 401

    # The well-formed event is answered once it says what it is.
    assert post(app.url, EVENT.encode(), JSON, signed(EVENT.encode())) == 200
    [answer] = slack_api.wait_for("chat.postMessage")
    assert MQL_DEFINITION in json.dumps(answer.value("blocks"))
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not slack_api.calls_to("response/default")


@contextmanager
def two_stores(backend: str, tmp_path) -> Iterator[tuple[StateStore, StateStore]]:
    """The same state store opened twice, as two app instances would."""
    with open_store(backend, tmp_path) as first:
        sync(first, GLOSSARY, METRICS)
        names = first.engine.get_execution_options().get("schema_translate_map") or {}
        second = StateStore.from_url(first.engine.url.render_as_string(hide_password=False),
                                     schema_name=names.get(None))
        try:
            yield first, second
        finally:
            second.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_replayed_slash_command_is_answered_once_by_any_instance(backend, start, slack_api,
                                                                   tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="bot.slack.once")
    with two_stores(backend, tmp_path) as (one, other):
        first, second = start(one), start(other)
        body = urlencode(command_form("/define", "mql", slack_api.response_url("define")))
        stamp = int(time.time())
        assert first.slack.post(body, FORM, timestamp=stamp)[0] == 200
        assert second.slack.post(body, FORM, timestamp=stamp)[0] == 200  # the same request
        replays_settled(caplog, slack_api, "define")
        answers = slack_api.wait_for("response/define")
        assert len(answers) == 1, "the replayed command was answered twice"
        assert MQL_DEFINITION in json.dumps(answers[0].value("blocks"))

        # The same command typed again is a new request (a new signature): answered again.
        assert second.slack.post(body, FORM, timestamp=stamp + 1)[0] == 200
        assert len(slack_api.wait_for("response/define", 2)) == 2
        assert len(slack_api.calls_to("response/define")) == 2


def test_a_replayed_button_click_and_shortcut_are_answered_once(start, store, slack_api,
                                                                caplog):
    caplog.set_level(logging.DEBUG, logger="bot.slack.once")
    app = start(store)
    click = {"type": "block_actions", "user": {"id": "U0ALICE"}, "team": {"id": "T0001"},
             "channel": {"id": "C0GENERAL"}, "response_url": slack_api.response_url("click"),
             "container": {"type": "message", "channel_id": "C0GENERAL"},
             "actions": [{"type": "button", "action_id": "related_term_1", "block_id": "b",
                          "value": "sal", "action_ts": "1700000600.000100"}]}
    shortcut = {"type": "message_action", "callback_id": "explain_terms",
                "user": {"id": "U0ALICE"}, "team": {"id": "T0001"}, "trigger_id": "t.1",
                "channel": {"id": "C0GENERAL"}, "response_url": slack_api.response_url("explain"),
                "message": {"text": "Is this MQL an SQL yet?", "ts": "1700000600.000200"}}
    stamp = int(time.time())
    for payload in (click, shortcut):
        body = urlencode({"payload": json.dumps(payload)})
        for _ in range(2):
            assert app.slack.post(body, FORM, timestamp=stamp)[0] == 200
    replays_settled(caplog, slack_api, "click", "explain")
    clicked, explained = slack_api.wait_for("response/click"), slack_api.wait_for(
        "response/explain")
    assert (len(clicked), len(explained)) == (1, 1), "a replay was answered twice"
    assert "Sales Accepted Lead" in json.dumps(clicked[0].value("blocks"))
    assert "Marketing Qualified Lead" in json.dumps(explained[0].body)


def test_a_replayed_or_retried_event_is_still_answered_once(start, store, slack_api):
    app = start(store)
    body, stamp = EVENT.encode(), str(int(time.time()))
    assert post(app.url, body, JSON, signed(body, stamp)) == 200
    assert post(app.url, body, JSON, signed(body, stamp)) == 200  # replayed as it was
    retry = {**signed(body, str(int(stamp) + 1)), "X-Slack-Retry-Num": "1",
             "X-Slack-Retry-Reason": "http_timeout"}
    assert post(app.url, body, JSON, retry) == 200  # Slack's own retry: a new signature
    slack_api.wait_for("chat.postMessage")
    time.sleep(0.5)  # nothing marks a duplicate not being sent: give one the time to show up
    [answer] = slack_api.calls_to("chat.postMessage")
    assert MQL_DEFINITION in json.dumps(answer.value("blocks"))
