"""Several `ssot serve --http` instances on one PostgreSQL state store, from the first deploy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import ROOT
from tests.serving_support import free_port, wait_healthy
from tests.slack_requests import SlackSender
from tests.state_support import fresh_database

SSOT = str(Path(sys.executable).parent / "ssot")
SECRET = "several-instances-secret"
ROUNDS = 3  # the race lost 2 starts in 4 before the schema was created under a lock





@pytest.fixture
def fresh_pg_url():
    """A new, empty PostgreSQL database: what the very first deploy starts on."""
    with fresh_database("ssot_instances") as database:
        yield database.url


def start_two(env: dict[str, str], cwd: Path) -> list[tuple[subprocess.Popen, int]]:
    """Two instances, started back to back as a platform scaling `web` to 2 would."""
    started = []
    for _ in range(2):
        port = free_port()
        proc = subprocess.Popen([SSOT, "serve", "--http", "--host", "127.0.0.1", "--port",
                                 str(port)], env=env, cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        started.append((proc, port))
    return started




@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_two_instances_start_together_and_answer_each_request_once(
        attempt, fresh_pg_url, kb, warehouse_url, slack_api, tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "SLACK_BOT_TOKEN": "xoxb-several", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_BASE_URL": slack_api.api_url, "DATABASE_URL": fresh_pg_url,
           "WAREHOUSE_URL": warehouse_url, "SSOT_CACHE_DIR": str(kb.cache_dir),
           "SSOT_AS_OF": "2026-11-15"}
    instances = start_two(env, tmp_path)
    try:
        for proc, port in instances:
            wait_healthy(f"http://127.0.0.1:{port}/healthz", proc, proc.stdout.read)
        first, second = (SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET)
                         for _, port in instances)
        # An event delivered to one instance, and Slack's retry of it to the other.
        mention = {"type": "app_mention", "user": "U0ALICE", "channel": "C0GENERAL",
                   "ts": "1700002000.000100", "text": "<@UBOT> what is an MQL?"}
        first.event(mention, event_id="EvSEVERAL1")
        second.event(mention, event_id="EvSEVERAL1", headers={"X-Slack-Retry-Num": "1",
                                                              "X-Slack-Retry-Reason": "timeout"})
        # A slash command to each.
        first.command("/define", "mql", slack_api.response_url("one"))
        second.command("/define", "sql", slack_api.response_url("two"))
        [one] = slack_api.wait_for("response/one", timeout=60)
        [two] = slack_api.wait_for("response/two", timeout=60)
        assert "Marketing Qualified Lead" in json.dumps(one.body)
        assert "Sales Qualified Lead" in json.dumps(two.body)
        [posted] = slack_api.wait_for("chat.postMessage", 1, timeout=60)
        assert "Marketing Qualified Lead" in json.dumps(posted.body)
        time.sleep(1.0)  # a duplicate would have arrived by now; the assertion is on counts
        assert len(slack_api.calls_to("chat.postMessage")) == 1
        assert [len(slack_api.calls_to(f"response/{n}")) for n in ("one", "two")] == [1, 1]
    finally:
        for proc, _ in instances:
            proc.terminate()
        for proc, _ in instances:
            proc.wait(timeout=30)
    # The schema was created once: both instances' start-up syncs recorded one baseline.
    engine = sa.create_engine(fresh_pg_url)
    with engine.connect() as conn:
        versions = conn.exec_driver_sql(
            "SELECT count(*), count(DISTINCT (kind, definition_id)) "
            "FROM ssot_definition_versions").one()
    engine.dispose()
    assert versions[0] == versions[1] > 0


OPEN_AT = """
import sys, time
from bot.state.store import StateStore
start = float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
StateStore.from_url(sys.argv[1]).close()
print("opened")
"""


@pytest.mark.parametrize("attempt", range(ROUNDS))
def test_many_processes_creating_the_schema_at_the_same_instant_all_succeed(
        attempt, fresh_pg_url):
    # What the two instances above race on, made to collide every time: eight processes
    # opening a fresh store at the same wall-clock instant.
    at = time.time() + 3.0
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT, fresh_pg_url, str(at)],
                              cwd=ROOT, env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(8)]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert all(out.strip().endswith("opened") for out in outputs), "\n".join(outputs)
