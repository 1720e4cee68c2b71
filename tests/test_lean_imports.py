"""Once the ONNX export exists, answering processes start without torch or transformers,
and without matplotlib until a chart is drawn.

Each command runs in its own process through a wrapper that, as the process ends, prints
which heavy packages it imported: a start that pays for torch takes ten seconds, not one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import AS_OF, ROOT
from tests.serving_support import free_port, wait_healthy
from tests.slack_requests import SlackSender

HEAVY = ("torch", "transformers", "sentence_transformers", "matplotlib")
SECRET = "lean-test-secret"
# Runs `ssot ARGS` and, at exit (also after Ctrl-C ends a server), reports the heavy imports.
WRAPPER = f"""
import atexit, json, sys
heavy = {HEAVY!r}
atexit.register(lambda: print("IMPORTED " + json.dumps(sorted(
    m for m in sys.modules if m.split(".")[0] in heavy)), file=sys.stderr, flush=True))
sys.argv = ["ssot", *sys.argv[1:]]
from bot.cli import main
main()
"""


@pytest.fixture(scope="module")
def env(kb, warehouse_url, tmp_path_factory) -> dict[str, str]:
    """The shared cache holds the checked export and the index, as after `ssot index`."""
    state = tmp_path_factory.mktemp("lean-state")
    keep = {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "TMPDIR") or k.startswith("LC_")}
    return {**keep, "PYTHONPATH": str(ROOT), "SSOT_CACHE_DIR": str(kb.cache_dir),
            "WAREHOUSE_URL": warehouse_url, "SSOT_AS_OF": AS_OF.isoformat(),
            "DATABASE_URL": f"sqlite:///{state / 'state.db'}", "COLUMNS": "200",
            "HF_HUB_OFFLINE": "1"}


def imported(stderr: str) -> list[str]:
    [line] = [ln for ln in stderr.splitlines() if ln.startswith("IMPORTED ")]
    return json.loads(line.removeprefix("IMPORTED "))


@pytest.mark.parametrize(("args", "stdin", "shows"), [
    (["ask", "who decides when a lead is ready for sales?"], None, "Owner"),
    (["ask", "what is an MQL?"], None, "Marketing Qualified Lead"),
    (["define", "mql"], None, "Marketing Qualified Lead"),
    (["glossary"], None, "mql"),
    (["validate"], None, "ok:"),
    (["metric", "bookings"], None, "Bookings"),
    (["sql", "bookings", "--dialect", "snowflake"], None, "SELECT"),
    (["chat"], "what does churn mean\n/quit\n", "Churn"),
    (["sync"], None, "definitions"),
    (["notify"], None, "delivered"),
])
def test_commands_never_import_torch(env, args, stdin, shows, slack_api, tmp_path):
    env = {**env, "SLACK_BOT_TOKEN": "xoxb-lean", "SLACK_API_BASE_URL": slack_api.api_url}
    done = subprocess.run([sys.executable, "-c", WRAPPER, *args], input=stdin, env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert shows in done.stdout
    assert imported(done.stderr) == []


INDEX = ("onnxruntime", "tokenizers", "bm25s", "numpy")
# The wrapper, also reporting the model's and the search index's packages.
INDEX_PROBE = WRAPPER.replace('m.split(".")[0] in heavy', f'm.split(".")[0] in heavy + {INDEX!r}')


@pytest.mark.parametrize(("args", "shows"), [
    (["define", "MQL"], "Marketing Qualified Lead"),
    (["ask", "what is an MQL?"], "Marketing Qualified Lead"),
    (["ask", "define pipeline coverage"], "Pipeline Coverage"),
])
def test_naming_a_term_loads_no_model_and_builds_no_index(env, tmp_path, args, shows):
    done = subprocess.run([sys.executable, "-c", INDEX_PROBE, *args], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert shows in done.stdout
    assert imported(done.stderr) == []


def test_a_question_that_needs_searching_builds_the_index(env, tmp_path):
    done = subprocess.run([sys.executable, "-c", INDEX_PROBE, "ask", "--json",
                           "who decides when a lead is ready for sales?"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kind"] != "no_answer"
    assert {"bm25s", "onnxruntime"} <= {m.split(".")[0] for m in imported(done.stderr)}


def test_serve_answers_questions_without_torch(env, slack_api, tmp_path):
    port = free_port()
    serve_env = {**env, "SLACK_BOT_TOKEN": "xoxb-lean", "SLACK_SIGNING_SECRET": SECRET,
                 "SLACK_API_BASE_URL": slack_api.api_url}
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen([sys.executable, "-c", WRAPPER, "serve", "--http", "--host",
                                   "127.0.0.1", "--port", str(port)], env=serve_env,
                                  cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=sink)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", server, log.read_text)
        slack = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET)
        status, _ = slack.event({"type": "app_mention", "user": "U0ALICE",
                                 "ts": "1700000500.000100", "channel": "C0GENERAL",
                                 "text": "<@UBOT> who decides when a lead is ready for sales?"})
        assert status == 200
        assert slack_api.wait_for("chat.postMessage", timeout=60)
    finally:
        server.send_signal(signal.SIGINT)  # ends serve_forever; atexit then reports
        server.wait(timeout=60)
    assert imported(log.read_text()) == []
