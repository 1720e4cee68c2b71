"""One question, one answer: the command line, the console, Slack and Teams give the same
governed text and the same number, because they all ask the same core.

Slack and Teams are served by one HTTP server, as `ssot serve --http` serves them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from bot.chat.asked import Asked
from bot.console import respond
from bot.services import Services
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.serving import http_server, serve_in_thread
from bot.state.store import StateStore
from bot.teams.adapter import MESSAGES_PATH
from bot.teams.app import create_teams_bot
from tests.slack_requests import SlackSender
from tests.teams_requests import buttons, personal, texts
from tests.teams_standin import TeamsStandIn

from conftest import AS_OF, ROOT, seed_onnx

SSOT = str(Path(sys.executable).parent / "ssot")
SECRET = "same-answer-signing-secret"
QUESTIONS = ["what is an MQL?", "bookings this quarter"]


@pytest.fixture(scope="module")
def surfaces(kb, metric_engine, tmp_path_factory):
    """Slack and Teams on one server, over one `Services`; the stand-ins they post to."""
    from tests.slack_standin import SlackStandIn

    slack_api, teams_api = SlackStandIn().start(), TeamsStandIn().start()
    state = tmp_path_factory.mktemp("same-answer")
    settings = Settings(slack_bot_token="xoxb-test", slack_signing_secret=SECRET,
                        slack_api_base_url=slack_api.api_url, teams_dev=True,
                        database_url=f"sqlite:///{state / 'state.db'}")
    store = StateStore.from_url(settings.database_url)
    services = Services(kb, metric_engine)
    teams = create_teams_bot(settings, services, store)
    server = http_server(create_app(settings, services, store), "127.0.0.1", 0,
                         routes={MESSAGES_PATH: teams.route})
    serve_in_thread(server)
    base = f"http://127.0.0.1:{server.server_port}"
    yield services, SlackSender(f"{base}/slack/events", SECRET), slack_api, base, teams_api
    server.shutdown()
    server.server_close()
    slack_api.stop()
    teams_api.stop()
    store.close()


@pytest.fixture(scope="module")
def cli_answers(tmp_path_factory, warehouse_url, shared_cache) -> dict[str, dict]:
    cache = tmp_path_factory.mktemp("same-answer-cache")
    seed_onnx(shared_cache, cache)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cache), "SSOT_CACHE_DIR": str(cache),
           "WAREHOUSE_URL": warehouse_url, "SSOT_AS_OF": AS_OF.isoformat(),
           "DATABASE_URL": f"sqlite:///{cache / 'state.db'}", "HF_HUB_OFFLINE": "1"}
    answers = {}
    for question in QUESTIONS:
        run = subprocess.run([SSOT, "ask", "--json", question], capture_output=True, env=env,
                             cwd=ROOT, timeout=300, check=False)
        assert run.returncode == 0, run.stderr.decode()
        answers[question] = json.loads(run.stdout)
    return answers


def expected(services: Services, question: str) -> tuple[str, str, str | None]:
    """(answer id, the governed text's first line, the number shown) from the core itself."""
    answer = services.ask(question)
    value = answer.result.formatted if answer.result else None
    return answer.id, (answer.definition or "").splitlines()[0], value


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_command_line_gives_the_cores_answer(surfaces, cli_answers, question):
    services = surfaces[0]
    answer_id, text, value = expected(services, question)
    got = cli_answers[question]
    assert got["id"] == answer_id and got["definition"].splitlines()[0] == text
    if value is not None:
        assert got["result"]["formatted"] == value


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_console_gives_the_cores_answer(surfaces, question):
    services = surfaces[0]
    seen = []
    respond(services, question, seen.append)
    [answer] = seen
    value = answer.result.formatted if answer.result else None
    assert (answer.id, (answer.definition or "").splitlines()[0], value) == expected(
        services, question)


@pytest.mark.parametrize("n,question", list(enumerate(QUESTIONS)))
def test_slack_and_teams_show_the_cores_answer(surfaces, n, question):
    services, slack, slack_api, base, teams_api = surfaces
    answer_id, text, value = expected(services, question)

    ts = f"1700000900.00010{n}"
    slack.event({"type": "app_mention", "user": "U0ALICE", "ts": ts, "channel": "C0GENERAL",
                 "text": f"<@UBOT> {question}"})
    posted = slack_api.wait_for("chat.postMessage", n + 1)[n]
    blocks = json.dumps(posted.body["blocks"], ensure_ascii=False)
    assert json.dumps(text, ensure_ascii=False)[1:-1] in blocks or text in blocks
    helpful = next(e["value"] for b in posted.body["blocks"] if b["type"] == "actions"
                   for e in b["elements"] if e["action_id"] == "feedback_helpful")
    assert Asked.decode(helpful).answer_id == answer_id

    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.post(MESSAGES_PATH, json=personal(
            teams_api, question, f"177000000090{n}")).status_code == 200
    card = teams_api.wait_for("send", n + 1)[n].cards[0]
    assert text in texts(card)
    assert Asked.decode(buttons(card)["Helpful"]["asked"]).answer_id == answer_id
    if value is not None:
        assert value in blocks
        assert any(value in t for t in texts(card))


def test_one_process_serves_both_platforms_side_by_side(surfaces):
    _, slack, _, base, teams_api = surfaces
    done = []

    def teams_question() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            done.append(client.post(MESSAGES_PATH, json=personal(
                teams_api, "what is an SQL?", "1770000000999")).status_code)

    thread = threading.Thread(target=teams_question)
    thread.start()
    status, _ = slack.event({"type": "app_mention", "user": "U0ALICE", "channel": "C0GENERAL",
                             "ts": "1700000999.000100", "text": "<@UBOT> what is an SQL?"})
    thread.join()
    assert (status, done) == (200, [200])
