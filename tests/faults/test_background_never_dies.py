"""Finding 2: an unreadable glossary entry is a validation issue, and the loop goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.periodic import every
from bot.services import Services
from tests.serving_support import wait_until

SSOT = str(Path(sys.executable).parent / "ssot")


def unreadable_entries(docs) -> None:
    (docs / "terms" / "x.md").mkdir()
    loop = docs / "terms" / "loop.md"
    os.symlink(loop, loop)  # a symlink to itself: reading it loops


def test_the_sync_loop_survives_unreadable_entries_and_keeps_announcing(
        serve, own_kb, metric_engine, docs):
    running = serve(Services(own_kb, metric_engine), background=True, sync_interval_s=0.3)
    running.store.subscribe("C0REVOPS", "mql")
    unreadable_entries(docs)
    wait_until(lambda: running.health.last_sync is not None)
    seen = running.health.last_sync
    wait_until(lambda: running.health.last_sync != seen)
    status, ready = running.get("/readyz")
    assert status == 200 and ready["checks"]["sync"]["ok"], ready

    # The bad entries are fixed; the next edit is recorded, announced and served.
    (docs / "terms" / "x.md").rmdir()
    (docs / "terms" / "loop.md").unlink()
    mql = docs / "terms" / "mql.md"
    mql.write_text(mql.read_text(encoding="utf-8").replace("65 or more", "70 or more")
                   .replace('version: "3.0"', 'version: "3.1"'), encoding="utf-8")
    [notice] = running.api.wait_for("chat.postMessage", 1)
    assert notice.body["channel"] == "C0REVOPS"
    assert "70 or more" in json.dumps(running.answer_to("/define", "mql", "after"))


@pytest.mark.parametrize("command", [["validate"], ["sync"]])
def test_the_command_line_names_the_unreadable_files(docs, tmp_path, command):
    unreadable_entries(docs)
    args = [*command, str(docs)] if command == ["validate"] else [*command, "--glossary",
                                                                  str(docs)]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'state.db'}",
           "SSOT_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([SSOT, *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    shown = done.stdout + done.stderr
    assert "terms/x.md:0: -: cannot be read" in shown
    assert "terms/loop.md:0: -: cannot be read" in shown


def test_a_round_that_raises_does_not_end_the_loop(caplog):
    rounds: list[int] = []
    third = threading.Event()

    def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise OSError("the disk went away for a moment")
        if len(rounds) == 3:
            third.set()

    stop = every(0.01, work, "test-loop")
    try:
        assert third.wait(10), "the loop stopped after a failed round"
    finally:
        stop()
    assert "the disk went away" in caplog.text


def test_readiness_fails_with_a_reason_when_the_state_store_is_gone(serve, kb, metric_engine,
                                                                    tmp_path):
    running = serve(Services(kb, metric_engine))
    running.health.synced()
    assert running.get("/readyz")[0] == 200
    running.store.engine.dispose()
    (tmp_path / "state.db").unlink()
    (tmp_path / "state.db").mkdir()  # nothing can open it now
    status, ready = running.get("/readyz")
    assert status == 503 and not ready["ready"]
    assert not ready["checks"]["state_store"]["ok"]
    assert ready["checks"]["state_store"]["detail"].startswith("does not answer")
    assert running.get("/healthz") == (200, "ok")  # alive, just not ready
