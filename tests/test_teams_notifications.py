"""Definition changes reach subscribed Teams conversations through the same outbox as Slack:
retried on 429 and 5xx (Retry-After honoured), kept while Teams is unreachable, and posted
exactly once however many workers deliver."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from bot.state.delivery import deliver_pending
from bot.state.store import StateStore
from bot.state.sync import sync
from bot.teams.notifier import TeamsNotifier
from tests.state_support import METRICS, edit, open_store
from tests.teams_requests import CHANNEL, texts
from tests.teams_standin import TENANT_ID, TeamsStandIn


def subscribe_teams(store: StateStore, api: TeamsStandIn, channels: list[str]) -> None:
    """Teams channels subscribed to MQL, each as installing the bot there records it."""
    for channel in channels:
        store.remember_conversation("teams", channel, service_url=api.service_url,
                                    tenant_id=TENANT_ID, kind="channel")
        store.subscribe(channel, "mql", surface="teams")


def change_mql_files(docs: Path) -> None:
    edit(docs / "terms" / "mql.md", "reached 65 or more", "reached 70 or more")
    edit(docs / "terms" / "mql.md", 'version: "3.0"', 'version: "3.1"')


def change_mql(store: StateStore, docs: Path, queued: int) -> None:
    change_mql_files(docs)
    assert sync(store, docs, METRICS).queued == queued


def notifier(store: StateStore) -> TeamsNotifier:
    return TeamsNotifier(store, retries=2, backoff_s=0.01)


def test_a_change_reaches_a_subscribed_teams_channel_once_after_a_429(tmp_path, docs,
                                                                      teams_api):
    with open_store("sqlite", tmp_path) as store:
        sync(store, docs, METRICS)
        subscribe_teams(store, teams_api, [CHANNEL])
        store.subscribe("C0SLACK", "mql")  # a Slack channel: not Teams' to deliver
        change_mql(store, docs, 2)
        teams_api.throttle("send", times=1, retry_after=1)
        report = deliver_pending(store, {"teams": notifier(store)})
        assert (report.delivered, report.failed) == (1, 0)
        assert [c.status for c in teams_api.calls_to("send")] == [429, 200]
        [posted] = teams_api.activities[CHANNEL]
        shown = texts(posted["attachments"][0]["content"])
        assert "Definition changed: Marketing Qualified Lead (MQL)" in shown[0]
        assert any("reached 70 or more" in t for t in shown)
        assert "Version: 3.0 → 3.1" in shown
        assert store.outbox_counts(surface="slack") == {"pending": 1}  # left for Slack


def test_nothing_is_lost_while_teams_answers_500_for_a_while(tmp_path, docs, teams_api):
    with open_store("sqlite", tmp_path) as store:
        sync(store, docs, METRICS)
        subscribe_teams(store, teams_api, [CHANNEL])
        change_mql(store, docs, 1)
        teams_api.fail("send", times=3)  # every try of the first run
        first = deliver_pending(store, {"teams": notifier(store)})
        assert (first.delivered, first.failed, first.pending) == (0, 1, 1)
        assert "HTTP 500" in first.errors[0]
        assert teams_api.activities[CHANNEL] == []
        later = deliver_pending(store, {"teams": notifier(store)}, due_only=False)
        assert (later.delivered, later.pending) == (1, 0)
        assert len(teams_api.activities[CHANNEL]) == 1


def test_a_conversation_the_bot_was_removed_from_fails_for_good_and_says_why(tmp_path, docs,
                                                                             teams_api):
    from bot.state.delivery import failing

    with open_store("sqlite", tmp_path) as store:
        sync(store, docs, METRICS)
        subscribe_teams(store, teams_api, [CHANNEL])
        change_mql(store, docs, 1)
        teams_api.fail("send", times=1, status=403)
        report = deliver_pending(store, {"teams": notifier(store)})
        assert (report.delivered, report.failed, report.pending) == (0, 1, 0)
        assert "removed from this conversation" in failing(store, surface="teams")[CHANNEL]


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_two_workers_racing_post_each_teams_notification_exactly_once(backend, docs, tmp_path,
                                                                      teams_api):
    channels = [f"19:channel-{n:03d}@thread.tacv2" for n in range(60)]
    with open_store(backend, tmp_path) as store:
        sync(store, docs, METRICS)
        subscribe_teams(store, teams_api, channels)
        change_mql(store, docs, len(channels))
        schema_map = store.engine.get_execution_options().get("schema_translate_map") or {}
        url = store.engine.url.render_as_string(hide_password=False)
        workers = [StateStore.from_url(url, schema_name=schema_map.get(None)) for _ in range(2)]
        barrier, reports = threading.Barrier(2), []

        def work(worker_store: StateStore, name: str) -> None:
            barrier.wait()
            reports.append(deliver_pending(worker_store, {"teams": notifier(worker_store)},
                                           limit=1000, worker=name))

        threads = [threading.Thread(target=work, args=(s, f"w{i}"))
                   for i, s in enumerate(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        posts = Counter(c.conversation_id for c in teams_api.delivered("send"))
        assert len(posts) == len(channels) and set(posts.values()) == {1}
        assert sum(r.delivered for r in reports) == len(channels)
        assert all(r.delivered > 0 for r in reports)
        assert store.outbox_counts(surface="teams") == {"delivered": len(channels)}
        for worker in workers:
            worker.close()


def test_the_notify_command_posts_to_teams_channels_subscribed_from_the_command_line(
        tmp_path, docs, teams_api):
    """What an admin without Slack does: subscribe a Teams channel, sync, notify."""
    ssot = str(Path(sys.executable).parent / "ssot")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "COLUMNS": "200",
           "DATABASE_URL": f"sqlite:///{tmp_path}/ssot.db", "SSOT_GLOSSARY_DIR": str(docs)}

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([ssot, *args], capture_output=True, text=True, cwd=tmp_path,
                              env={**env, **extra}, timeout=300, check=False)

    assert run("sync").returncode == 0
    subscribed = run("subscribe", CHANNEL, "MQLs", "--surface", "teams")
    assert subscribed.returncode == 0 and f"{CHANNEL} now hears about mql" in subscribed.stdout
    assert "has not been added" in subscribed.stderr
    store = StateStore.from_url(env["DATABASE_URL"])  # as installing the bot there does
    store.remember_conversation("teams", CHANNEL, service_url=teams_api.service_url,
                                tenant_id=TENANT_ID, kind="channel")
    store.close()
    change_mql_files(docs)
    assert "1 notification(s) queued" in run("sync").stdout

    unconfigured = run("notify")
    assert unconfigured.returncode == 2 and "TEAMS_CLIENT_ID" in unconfigured.stderr
    notified = run("notify", TEAMS_DEV="1")
    assert notified.returncode == 0, notified.stderr
    assert "delivered 1, failed 0, still pending 0" in notified.stdout
    [posted] = teams_api.activities[CHANNEL]
    assert any("reached 70 or more" in t for t in texts(posted["attachments"][0]["content"]))
    assert run("notify", TEAMS_DEV="1").stdout.startswith("delivered 0")
    assert len(teams_api.activities[CHANNEL]) == 1
