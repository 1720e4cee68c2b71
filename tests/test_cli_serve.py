"""`ssot serve`: clear one-line errors without credentials; a working app with them, over HTTP
and over Socket Mode."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.serving_support import free_port, wait_healthy
from tests.slack_requests import SlackSender, command_form, event_callback
from tests.socket_standin import SocketModeStandIn

SSOT = str(Path(sys.executable).parent / "ssot")
SECRET = "serve-test-secret"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


@pytest.mark.parametrize(("args", "env", "variable"), [
    (["serve"], {}, "SLACK_APP_TOKEN"),
    (["serve"], {"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
    (["serve", "--http"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
])
def test_missing_credentials_are_one_line_errors(args, env, variable, tmp_path):
    done = subprocess.run([SSOT, *args], env=clean_env(**env), capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0] and lines[0].startswith("error:")


def test_serve_http_answers_signed_commands_and_syncs_at_start(kb, slack_api, tmp_path):
    port = free_port()
    env = clean_env(SLACK_BOT_TOKEN="xoxb-serve", SLACK_SIGNING_SECRET=SECRET,
                    SLACK_API_BASE_URL=slack_api.api_url, SSOT_CACHE_DIR=str(kb.cache_dir),
                    DATABASE_URL=f"sqlite:///{tmp_path / 'state.db'}")
    server = subprocess.Popen([SSOT, "serve", "--http", "--host", "127.0.0.1", "--port",
                               str(port)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", server, server.stdout.read)
        slack = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET)
        slack.command("/define", "ARR", slack_api.response_url("arr"))
        [answer] = slack_api.wait_for("response/arr", timeout=60)
        assert "Annual Recurring Revenue (ARR)" in answer.body["text"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the start-up sync runs beside the server
            slack.command("/ssot", "history mql", slack_api.response_url("history"))
            text = slack_api.wait_for("response/history")[-1].body["text"]
            if "History of Marketing Qualified Lead (MQL)" in text:
                break
            slack_api.clear()
            time.sleep(0.5)
        assert "v3.0" in text
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_port_in_use_is_a_one_line_error(kb, slack_api, tmp_path):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        env = clean_env(SLACK_BOT_TOKEN="xoxb-serve", SLACK_SIGNING_SECRET=SECRET,
                        SLACK_API_BASE_URL=slack_api.api_url, SSOT_CACHE_DIR=str(kb.cache_dir),
                        DATABASE_URL=f"sqlite:///{tmp_path / 'state.db'}")
        done = subprocess.run([SSOT, "serve", "--http", "--host", "127.0.0.1", "--port",
                               str(port)], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_serve_socket_mode_answers_over_the_apps_own_connection(kb, slack_api, tmp_path):
    sockets = SocketModeStandIn().start()
    slack_api.socket_url = sockets.url
    env = clean_env(SLACK_BOT_TOKEN="xoxb-serve", SLACK_APP_TOKEN="xapp-serve",
                    SLACK_API_BASE_URL=slack_api.api_url, SSOT_CACHE_DIR=str(kb.cache_dir),
                    DATABASE_URL=f"sqlite:///{tmp_path / 'state.db'}")
    log = tmp_path / "serve.log"
    with log.open("w") as output:  # a file, not a pipe nobody drains while the app runs
        server = subprocess.Popen([SSOT, "serve"], env=env, cwd=ROOT, stdout=output,
                                  stderr=subprocess.STDOUT)
    try:
        _wait_connected(sockets, server, log)
        opened = slack_api.calls_to("apps.connections.open")
        assert opened and {c.headers["authorization"] for c in opened} == {"Bearer xapp-serve"}

        mention = event_callback({"type": "app_mention", "user": "U0ALICE", "channel": "C0SOCK",
                                  "text": "<@UBOT> what's an MQL?", "ts": "1800000000.000100"})
        first = sockets.push("events_api", mention)
        assert sockets.wait_for_ack(first) == {"envelope_id": first}
        [post] = slack_api.wait_for("chat.postMessage", timeout=60)
        assert post.body["channel"] == "C0SOCK" and post.body["thread_ts"] == "1800000000.000100"
        assert "Marketing Qualified Lead (MQL)" in post.body["text"]

        # Slack redelivers an event it thinks was missed: acknowledged, not answered again.
        retry = sockets.push("events_api", mention, retry_attempt=1)
        sockets.wait_for_ack(retry)
        command = sockets.push("slash_commands",
                               command_form("/define", "ARR", slack_api.response_url("arr")))
        sockets.wait_for_ack(command)
        [answer] = slack_api.wait_for("response/arr", timeout=60)
        assert "Annual Recurring Revenue (ARR)" in answer.body["text"]
        assert answer.body["response_type"] == "ephemeral"
        assert len(slack_api.calls_to("chat.postMessage")) == 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        sockets.stop()


def _wait_connected(sockets: SocketModeStandIn, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"ssot serve exited: {log.read_text()[-2000:]}")
        try:
            sockets.wait_connected(timeout=0.5)
            return
        except AssertionError:
            continue
    pytest.fail("ssot serve did not connect over Socket Mode")
