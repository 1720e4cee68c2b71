"""Finding 6: a black-holed warehouse or a slow Web API costs one bounded wait, not every answer."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time

import pytest

from bot.services import Services
from metrics.breaker import Breaker
from metrics.catalog import load_catalog
from metrics.engine import MetricEngine
from metrics.errors import WarehouseUnavailable
from metrics.periods import Calendar
from metrics.warehouse import open_warehouse
from tests.conftest import AS_OF, ROOT
from tests.slack_standin import Reply


class BlackHole:
    """A TCP server that accepts every connection and never says a word."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._socket.accept()
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)

    def close(self) -> None:
        self._socket.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def black_hole():
    hole = BlackHole()
    yield hole
    hole.close()


def test_a_black_holed_warehouse_is_waited_on_once(serve, kb, black_hole):
    url = f"postgresql://reader@127.0.0.1:{black_hole.port}/warehouse"
    engine = MetricEngine(load_catalog(ROOT / "metrics" / "definitions"),
                          open_warehouse(url, timeout_s=1), lambda: Calendar(AS_OF),
                          breaker=Breaker(timeout_s=1, cooldown_s=600))
    running = serve(Services(kb, engine))
    first = json.dumps(running.answer_to("/metric", "bookings last quarter", "first"))
    assert "no reply within 1 s" in first
    tried = black_hole.accepted
    assert tried >= 1
    # Known down: the next questions answer at once, without going near the warehouse.
    for n in range(5):
        later = json.dumps(running.answer_to("/metric", "win rate last quarter", f"later{n}"))
        assert "unavailable" in later
    definition = json.dumps(running.answer_to("/define", "pipeline coverage", "define"))
    assert "Pipeline Coverage" in definition and "No current value" in definition
    assert black_hole.accepted == tried


def test_one_slow_channel_lookup_does_not_hold_up_other_channels(serve, kb, metric_engine,
                                                                 slack_api):
    slack_api.channels.update({"C0SLOW": "slow", "C0FAST": "fast"})
    # The first lookup (C0SLOW's) hangs far longer than anyone should wait.
    slack_api.script("conversations.info", Reply(delay_s=10))
    running = serve(Services(kb, metric_engine))
    running.slack.event({"type": "app_mention", "user": "U0ALICE", "channel": "C0SLOW",
                         "ts": "1700001100.000100", "text": "<@UBOT> what is an MQL?"})
    slack_api.wait_for("conversations.info", 1)  # C0SLOW's lookup is in flight
    running.slack.event({"type": "app_mention", "user": "U0ALICE", "channel": "C0FAST",
                         "ts": "1700001100.000200", "text": "<@UBOT> what is an SQL?"})
    posts = slack_api.wait_for("chat.postMessage", 2, timeout=60)
    assert [p.body["channel"] for p in posts] == ["C0FAST", "C0SLOW"]
    assert "Sales Qualified Lead" in json.dumps(posts[0].body)
    # The slow lookup gave up and granted nothing, but its question was still answered.
    assert "Marketing Qualified Lead" in json.dumps(posts[1].body)


@pytest.fixture
def slow_duckdb(tmp_path, warehouse_url):
    """A copy of the demo warehouse whose opportunities take minutes to read."""
    import duckdb

    path = tmp_path / "slow.duckdb"
    shutil.copy(warehouse_url.removeprefix("duckdb:///"), path)
    with duckdb.connect(str(path)) as conn:
        conn.execute("ALTER TABLE opportunities RENAME TO opportunities_loaded")
        conn.execute("CREATE VIEW opportunities AS SELECT o.* FROM opportunities_loaded o "
                     "WHERE (SELECT count(*) FROM range(1000000) a, range(1000000) b) > 0")
    return f"duckdb:///{path}"


def test_a_slow_duckdb_query_is_interrupted_at_the_deadline(slow_duckdb, metric_engine):
    engine = MetricEngine(metric_engine.catalog, open_warehouse(slow_duckdb),
                          lambda: Calendar(AS_OF), breaker=Breaker(timeout_s=1, cooldown_s=0))
    started = time.monotonic()
    with pytest.raises(WarehouseUnavailable, match="no reply within 1 s"):
        engine.run(engine.plan("bookings", "last_quarter"))
    assert time.monotonic() - started < 10
    # Interrupted, not left running: the same warehouse answers the next question at once.
    started = time.monotonic()
    assert engine.run(engine.plan("freshness")).value is not None
    assert time.monotonic() - started < 5
