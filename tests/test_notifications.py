"""Definition-change notifications: sync → outbox → chat.postMessage, against real stores."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.settings import Settings
from bot.slack.notification_blocks import notification_message
from bot.slack.notifier import SlackNotifier, notification_client
from bot.state import schema
from bot.state.delivery import claim, deliver, deliver_pending
from bot.state.errors import SyncRefused
from bot.state.models import Change
from bot.state.runner import start_background
from bot.state.store import StateStore
from bot.state.sync import sync
from tests.conftest import ROOT
from tests.slack_standin import Reply
from tests.state_support import METRICS, copy_metrics, edit, open_store
from tests.test_state_store import term_file

SSOT = str(Path(sys.executable).parent / "ssot")
LATER = dt.timedelta(hours=2)  # past any backoff or lease
MQL_OLD, MQL_NEW = "reached 65 or more", "reached 70 or more"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    with open_store(request.param, tmp_path) as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path):
    with open_store("sqlite", tmp_path) as opened:
        yield opened


def client_for(slack_api, **kwargs):
    return SlackNotifier(notification_client("xoxb-test", slack_api.api_url,
                                             **{"backoff_s": 0.01, **kwargs}))


def outbox(store) -> list[tuple[str, str]]:
    """(channel, definition id) of every queued notification."""
    o, v = schema.outbox, schema.versions
    query = (select(o.c.channel, v.c.definition_id).join(v, v.c.id == o.c.version_id)
             .order_by(o.c.channel))
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def rows(store, table) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


def posts_per_notification(slack_api) -> Counter:
    """How many times Slack accepted each notification, by the id in the message metadata."""
    return Counter(c.value("metadata")["event_payload"]["notification_id"]
                   for c in slack_api.delivered("chat.postMessage"))


def mql_changed(docs: Path) -> None:
    edit(docs / "terms" / "mql.md", MQL_OLD, MQL_NEW)
    edit(docs / "terms" / "mql.md", 'version: "3.0"', 'version: "3.1"')


def test_first_sync_is_a_silent_baseline_and_a_second_writes_nothing(sqlite_store, docs):
    sqlite_store.subscribe("C1", "all")
    first = sync(sqlite_store, docs, METRICS, notify_channel="CNOTIFY")
    assert first.baseline and len(first.changes) == first.definitions == 88
    assert first.queued == 0 and outbox(sqlite_store) == []
    again = sync(sqlite_store, docs, METRICS, notify_channel="CNOTIFY")
    assert (again.baseline, again.changes, again.queued) == (False, [], 0)
    assert rows(sqlite_store, schema.versions) == 88


def test_an_edit_queues_one_notification_per_matching_channel(store, docs):
    sync(store, docs, METRICS)
    for channel, target in [("CTERM", "mql"), ("CDOMAIN", "lifecycle"), ("CALL", "all"),
                            ("CTWICE", "mql"), ("CTWICE", "all"), ("CTWICE", "lifecycle"),
                            ("COTHER", "pipeline"), ("COTHER", "sql")]:
        store.subscribe(channel, target)
    mql_changed(docs)
    report = sync(store, docs, METRICS, notify_channel="CNOTIFY")
    assert [(c.definition_id, c.change, c.previous_version, c.version)
            for c in report.changes] == [("mql", "changed", "3.0", "3.1")]
    assert report.changes[0].diff.count("[-65-]{+70+}") == 1
    assert outbox(store) == [("CALL", "mql"), ("CDOMAIN", "mql"), ("CNOTIFY", "mql"),
                             ("CTERM", "mql"), ("CTWICE", "mql")]
    assert sync(store, docs, METRICS, notify_channel="CNOTIFY").queued == 0


def test_drafts_stay_quiet_while_approval_deprecation_and_removal_notify(sqlite_store, docs):
    sqlite_store.subscribe("CALL", "all")
    sync(sqlite_store, docs, METRICS)

    def step() -> tuple[str, int]:
        report = sync(sqlite_store, docs, METRICS)
        return report.changes[0].change, report.queued

    path = term_file(docs)
    assert step() == ("added", 0)
    term_file(docs, text="an early warning")
    assert step() == ("changed", 0)
    term_file(docs, status="approved", version="1.0", text="an early warning")
    assert step() == ("approved", 1)
    term_file(docs, status="deprecated", version="1.1", text="an early warning",
              extra="\nreplaced_by: mql")
    assert step() == ("deprecated", 1)
    path.unlink()
    assert step() == ("removed", 1)
    assert [v.change for v in sqlite_store.history("churn_signal")][-1] == "removed"


def test_a_metric_change_reaches_the_subscribers_of_its_term(sqlite_store, docs, tmp_path):
    metrics = copy_metrics(tmp_path / "metrics" / "definitions")
    sync(sqlite_store, docs, metrics)
    sqlite_store.subscribe("CMQL", "mql")
    edit(metrics / "mql_count.yml", "value: 500", "value: 600")
    report = sync(sqlite_store, docs, metrics)
    change = report.changes[0]
    assert (change.kind, change.definition_id, change.change) == ("metric", "mql_count", "changed")
    assert "[-500-]{+600+}" in change.diff
    assert outbox(sqlite_store) == [("CMQL", "mql_count")]


@pytest.mark.parametrize("first_sync", [True, False])
def test_an_invalid_glossary_is_refused_with_nothing_written(sqlite_store, docs, first_sync):
    if not first_sync:
        sync(sqlite_store, docs, METRICS)
    sqlite_store.subscribe("CALL", "all")
    before = rows(sqlite_store, schema.versions)
    mql_changed(docs)
    edit(docs / "terms" / "sal.md", "status: approved", "status: aproved")
    with pytest.raises(SyncRefused) as refused:
        sync(sqlite_store, docs, METRICS)
    assert any("sal.md" in str(issue) for issue in refused.value.issues)
    assert rows(sqlite_store, schema.versions) == before and outbox(sqlite_store) == []


def ssot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([SSOT, *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300, check=False)


def test_sync_then_notify_commands_post_once_to_each_subscribed_channel(docs, tmp_path,
                                                                         slack_api):
    env = {**os.environ, "COLUMNS": "200", "DATABASE_URL": f"sqlite:///{tmp_path}/ssot.db",
           "SSOT_GLOSSARY_DIR": str(docs), "SLACK_API_BASE_URL": slack_api.api_url,
           "SLACK_BOT_TOKEN": "xoxb-test", "SSOT_DOCS_BASE_URL": "https://git.example/glossary"}
    assert "baseline: recorded 88 definitions" in ssot(env, "sync").stdout
    for channel, target in [("CMQL", "MQLs"), ("CLIFE", "lifecycle"), ("CPIPE", "pipeline")]:
        assert ssot(env, "subscribe", channel, target).returncode == 0
    mql_changed(docs)

    synced = ssot(env, "sync")
    assert synced.returncode == 0, synced.stderr
    assert "changed    term   mql" in synced.stdout and "2 notification(s) queued" in synced.stdout
    notified = ssot(env, "notify")
    assert notified.returncode == 0, notified.stderr
    assert "delivered 2, failed 0, still pending 0" in notified.stdout

    posts = slack_api.delivered("chat.postMessage")
    assert sorted(p.value("channel") for p in posts) == ["CLIFE", "CMQL"]
    for post in posts:
        sections = [b["text"]["text"] for b in post.value("blocks") if b["type"] == "section"]
        assert sections[0].startswith("*Before* (version 3.0)") and "~65~ or more" in sections[0]
        assert sections[1].startswith("*After* (version 3.1)") and "*70* or more" in sections[1]
        assert "Before: " in post.value("text") and MQL_NEW in post.value("text")
        assert "<https://git.example/glossary/glossary_docs/terms/mql.md|" in str(
            post.value("blocks"))
    again = ssot(env, "notify")
    assert again.returncode == 0 and len(slack_api.calls_to("chat.postMessage")) == 2

    history = ssot(env, "history", "mql").stdout
    assert "3.0    approved   added" in history and "[-65-]{+70+}" in history
    no_token = ssot({k: v for k, v in env.items() if k != "SLACK_BOT_TOKEN"}, "notify")
    assert no_token.returncode == 2 and "SLACK_BOT_TOKEN" in no_token.stderr
    assert len(no_token.stderr.strip().splitlines()) == 1


def queue_notifications(store, docs: Path, channels: int) -> None:
    """A baseline, `channels` channels subscribed to everything, then one change."""
    sync(store, docs, METRICS)
    for n in range(channels):
        store.subscribe(f"C{n:04d}", "all")
    mql_changed(docs)
    assert sync(store, docs, METRICS).queued == channels


def test_rate_limits_are_waited_out_and_each_notification_posted_once(sqlite_store, docs,
                                                                        slack_api):
    queue_notifications(sqlite_store, docs, 3)
    slack_api.script("chat.postMessage",
                     Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}),
                     Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}))
    report = deliver_pending(sqlite_store, client_for(slack_api))
    assert (report.delivered, report.failed, report.pending) == (3, 0, 0)
    assert [c.status for c in slack_api.calls_to("chat.postMessage")] == [429, 429, 200, 200, 200]
    assert posts_per_notification(slack_api) == {1: 1, 2: 1, 3: 1}


def test_a_slack_outage_leaves_notifications_queued_until_a_later_run(sqlite_store, docs,
                                                                      slack_api):
    queue_notifications(sqlite_store, docs, 3)
    slack_api.fail("chat.postMessage", times=10)  # the client tries each post 4 times
    first = deliver_pending(sqlite_store, client_for(slack_api, retries=3))
    assert (first.delivered, first.failed, first.pending) == (1, 2, 2)
    assert deliver_pending(sqlite_store, client_for(slack_api)).delivered == 0  # backing off
    later = deliver_pending(sqlite_store, client_for(slack_api),
                            now=dt.datetime.now(dt.UTC) + LATER)
    assert (later.delivered, later.pending) == (2, 0)
    assert posts_per_notification(slack_api) == {1: 1, 2: 1, 3: 1}


def test_nothing_is_lost_while_slack_is_unreachable(sqlite_store, docs, slack_api):
    queue_notifications(sqlite_store, docs, 2)
    down = SlackNotifier(notification_client("xoxb-test", "http://127.0.0.1:9/api/",
                                             retries=1, backoff_s=0.01))
    report = deliver_pending(sqlite_store, down)
    assert (report.delivered, report.failed, report.pending) == (0, 2, 2)
    assert "URLError" in report.errors[0]
    # What `ssot notify` does: deliver every pending row now, backoff or not.
    report = deliver_pending(sqlite_store, client_for(slack_api), due_only=False)
    assert (report.delivered, report.pending) == (2, 0)
    assert posts_per_notification(slack_api) == {1: 1, 2: 1}


def test_a_stalled_workers_claim_is_taken_over_and_posted_once(sqlite_store, docs, slack_api):
    queue_notifications(sqlite_store, docs, 2)
    stalled = claim(sqlite_store, "stalled-worker", 10, dt.datetime.now(dt.UTC))
    assert len(stalled) == 2  # claimed, then the worker stalled before posting
    assert deliver_pending(sqlite_store, client_for(slack_api)).delivered == 0
    taken_over = deliver_pending(sqlite_store, client_for(slack_api),
                                 now=dt.datetime.now(dt.UTC) + LATER)
    assert (taken_over.delivered, taken_over.pending) == (2, 0)
    # The first worker was only slow, not dead: it must not post what was taken over.
    assert deliver(sqlite_store, client_for(slack_api), stalled).delivered == 0
    assert posts_per_notification(slack_api) == {1: 1, 2: 1}


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_two_workers_racing_post_every_notification_exactly_once(backend, docs, tmp_path,
                                                                  slack_api):
    with open_store(backend, tmp_path) as store:
        queue_notifications(store, docs, 200)
        # Each worker has its own engine and connections, as two app instances would.
        workers = [_fresh_store(store) for _ in range(2)]
        barrier = threading.Barrier(2)
        reports = []

        def work(worker_store, name: str) -> None:
            barrier.wait()
            reports.append(deliver_pending(worker_store, client_for(slack_api), limit=1000,
                                           worker=name))

        threads = [threading.Thread(target=work, args=(s, f"w{i}"))
                   for i, s in enumerate(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        counts = posts_per_notification(slack_api)
        assert len(counts) == 200 and set(counts.values()) == {1}
        assert sum(r.delivered for r in reports) == 200
        assert all(r.delivered > 0 for r in reports)  # both really took part
        assert store.outbox_counts() == {"delivered": 200}


def _fresh_store(store) -> StateStore:
    """A second store object over the same database: its own engine and connection pool."""
    schema_map = store.engine.get_execution_options().get("schema_translate_map") or {}
    url = store.engine.url.render_as_string(hide_password=False)
    return StateStore.from_url(url, schema_name=schema_map.get(None))


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_two_instances_syncing_at_once_record_and_queue_each_change_once(backend, docs,
                                                                          tmp_path):
    with open_store(backend, tmp_path) as store:
        store.subscribe("CALL", "all")
        instances = [_fresh_store(store) for _ in range(2)]

        def race() -> list:
            barrier, reports = threading.Barrier(2), []

            def run(instance) -> None:
                barrier.wait()
                reports.append(sync(instance, docs, METRICS, notify_channel="CNOTIFY"))

            threads = [threading.Thread(target=run, args=(i,)) for i in instances]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return reports

        assert sorted(len(r.changes) for r in race()) == [0, 88]  # one baseline, not two
        mql_changed(docs)
        assert sorted(r.queued for r in race()) == [0, 2]
        assert [v.version for v in store.history("mql")] == ["3.0", "3.1"]
        assert outbox(store) == [("CALL", "mql"), ("CNOTIFY", "mql")]


def test_the_background_runner_announces_a_change_made_while_it_runs(sqlite_store, docs,
                                                                     slack_api):
    sync(sqlite_store, docs, METRICS)  # the baseline, so the edit below is a change
    settings = Settings(glossary_dir=docs, metrics_dir=METRICS, notify_channel="CNOTIFY",
                        sync_interval_s=0.2)
    stop = start_background(settings, sqlite_store, client_for(slack_api))
    try:
        sqlite_store.subscribe("CMQL", "mql")
        mql_changed(docs)
        posts = slack_api.wait_for("chat.postMessage", count=2)
    finally:
        stop()
    assert sorted(p.value("channel") for p in posts) == ["CMQL", "CNOTIFY"]


def change(**fields) -> Change:
    base = dict(definition_id="mql", kind="term", name="MQL", version="3.1", status="approved",
                owner="Marketing Operations (Director)", text="Score of 70 or more.",
                recorded_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC), change="changed",
                before="Score of 65 or more.", previous_version="3.0",
                previous_status="approved", path="glossary_docs/terms/mql.md")
    return Change(**{**base, **fields})


def test_notification_blocks_mark_words_escape_and_respect_slack_limits():
    blocks, text = notification_message(change())
    sections = [b.to_dict()["text"]["text"] for b in blocks if b.type == "section"]
    assert sections == ["*Before* (version 3.0)\n>Score of ~65~ or more.",
                        "*After* (version 3.1)\n>Score of *70* or more."]
    assert text.startswith("Definition changed: MQL (version 3.1")

    escaped, _ = notification_message(change(text="Amount < 5 & more", before="Amount > 5"))
    assert "~&gt;~" in str(escaped[1].to_dict()) and "*&lt;*" in str(escaped[2].to_dict())

    huge = " ".join(["word"] * 2000)
    long_blocks, _ = notification_message(change(text=huge + " end", before=huge))
    assert all(len(b.to_dict()["text"]["text"]) <= 3000 for b in long_blocks
               if b.type == "section")

    removed, _ = notification_message(change(change="removed"))
    assert removed[0].to_dict()["text"]["text"] == "Removed: MQL"
    assert "no longer governed" in str(removed[1].to_dict())
    added, _ = notification_message(change(change="added", before=None, previous_version=None))
    assert added[0].to_dict()["text"]["text"] == "New definition: MQL"
