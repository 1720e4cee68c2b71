"""Finding 3: a warehouse that cannot be opened degrades every answer instead of silencing it."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.services import Services
from metrics.breaker import Breaker
from metrics.catalog import load_catalog
from metrics.engine import MetricEngine
from metrics.periods import Calendar
from metrics.warehouse import open_warehouse
from tests.conftest import AS_OF, ROOT

SSOT = str(Path(sys.executable).parent / "ssot")
HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])  # read-write: a loader holding the file
print("holding", flush=True)
sys.stdin.read()
"""


@pytest.fixture(params=["locked", "corrupt"])
def broken_warehouse(request, warehouse_url, tmp_path):
    """A copy of the demo warehouse held read-write by another process, or a corrupt file."""
    path = tmp_path / "warehouse.duckdb"
    if request.param == "corrupt":
        path.write_bytes(b"DUCK" + os.urandom(64 * 1024))
        yield path
        return
    shutil.copy(warehouse_url.removeprefix("duckdb:///"), path)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    yield path
    holder.stdin.close()
    holder.wait(timeout=30)


def engine_over(path: Path) -> MetricEngine:
    return MetricEngine(load_catalog(ROOT / "metrics" / "definitions"),
                        open_warehouse(f"duckdb:///{path}"), lambda: Calendar(AS_OF),
                        breaker=Breaker(timeout_s=5, cooldown_s=30))


def test_slack_answers_every_question_when_the_warehouse_cannot_be_opened(
        serve, kb, broken_warehouse):
    running = serve(Services(kb, engine_over(broken_warehouse)))
    metric = json.dumps(running.answer_to("/metric", "bookings last quarter", "metric"))
    assert "warehouse" in metric and "unavailable" in metric
    # A term that has a metric: the definition, and why its number is missing.
    definition = json.dumps(running.answer_to("/define", "pipeline coverage", "define"))
    assert "Pipeline Coverage" in definition and "No current value" in definition
    mention = {"type": "app_mention", "user": "U0ALICE", "channel": "C0GENERAL",
               "ts": "1700000600.000100", "text": "<@UBOT> win rate last quarter"}
    running.slack.event(mention)
    [posted] = running.api.wait_for("chat.postMessage", 1)
    assert "unavailable" in json.dumps(posted.body)
    status, ready = running.get("/readyz")
    assert status == 503 and not ready["checks"]["warehouse"]["ok"]


def test_the_command_line_says_so_in_one_line(broken_warehouse, tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "WAREHOUSE_URL": f"duckdb:///{broken_warehouse}", "SSOT_AS_OF": AS_OF.isoformat(),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}"}
    done = subprocess.run([SSOT, "metric", "bookings"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: the warehouse did not answer")


def test_the_current_values_thread_outlives_the_fault(broken_warehouse):
    from bot.current_values import CurrentValues

    values = CurrentValues(engine_over(broken_warehouse))
    stop = values.keep_warm(0.05)
    try:
        assert values._warm.wait(10)  # a round completed despite every metric failing
    finally:
        stop()
    assert dt.date.today()  # nothing raised out of the refresher
