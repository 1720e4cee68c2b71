"""The state store on a real SQLite file and on the real PostgreSQL service."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.state import schema
from bot.state.as_of import answer_as_of
from bot.state.errors import NotRecorded
from bot.state.store import StateStore
from bot.state.sync import sync
from tests.state_support import METRICS, edit, open_store

BACKENDS = ["sqlite", "postgres"]
DAY = dt.timedelta(days=1)
T0 = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)

NEW_TERM = """---
id: churn_signal
name: Churn Signal
aliases: [churn risk flag]
domain: revenue
owner:
  team: Customer Success Operations
  role: Director of Customer Success
authoritative_system: support
status: {status}
version: "{version}"
updated: 2027-01-04{extra}
definition: >-
  A churn signal is {text} raised on an account by the customer health model.
---
"""


def term_file(docs: Path, status="draft", version="0.1", text="a warning", extra="") -> Path:
    path = docs / "terms" / "churn_signal.md"
    path.write_text(NEW_TERM.format(status=status, version=version, text=text, extra=extra),
                    encoding="utf-8")
    return path


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    with open_store(request.param, tmp_path) as opened:
        yield opened


def test_sqlite_store_creates_its_folder_and_keeps_state_across_restarts(tmp_path):
    url = f"sqlite:///{tmp_path / 'deep' / 'var' / 'ssot.db'}"
    first = StateStore.from_url(url)
    first.set_autoanswer("C1", True)
    first.subscribe("C1", "MQL")
    first.close()
    again = StateStore.from_url(url)  # create_all again on an existing file is harmless
    assert again.autoanswer("C1") is True and again.autoanswer("C2") is False
    assert [(s.channel, s.target) for s in again.subscriptions()] == [("C1", "mql")]


def test_an_event_is_claimed_once_even_when_threads_race(store):
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        results.append(store.claim_event("Ev0001"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert store.claim_event("Ev0002") is True


def test_gaps_group_rephrasings_and_count_not_helpful_feedback(store):
    for question in ("What is a PQL?", "what is a  pql", "WHAT IS A PQL ?"):
        store.record_unanswered(question, "U1", "C1")
    store.record_feedback("what is a pql?", "mql", helpful=False, user="U2", channel="C1")
    store.record_feedback("what is a pql?", "mql", helpful=True, user="U3", channel="C1")
    store.record_unanswered("how do I reset my VPN password", "U1", "D1")
    store.record_feedback("what's our churn?", "churn", helpful=False, user="U1", channel="C2")
    store.record_feedback("what's our churn?", "churn", helpful=False, user="U4", channel="C2")

    gaps = store.gaps()
    assert [(g.question.lower().rstrip("? "), g.count) for g in gaps] == [
        ("what is a pql", 4), ("what's our churn", 2), ("how do i reset my vpn password", 1)]
    assert gaps[0].question == "what is a pql?"  # shown as most recently asked
    assert [g.count for g in store.gaps(limit=1)] == [4]


def test_subscriptions_threads_and_autoanswer(store):
    assert store.subscribe("C1", "mql") is True
    assert store.subscribe("C1", "MQL ") is False  # the same subscription
    store.subscribe("C1", "lifecycle")
    store.subscribe("C2", "all")
    assert [(s.channel, s.target) for s in store.subscriptions()] == [
        ("C1", "lifecycle"), ("C1", "mql"), ("C2", "all")]
    assert [s.target for s in store.subscriptions("C2")] == ["all"]
    assert store.unsubscribe("C1", "mql") is True
    assert store.unsubscribe("C1", "mql") is False

    store.mark_thread("C1", "1700000000.000100")
    store.mark_thread("C1", "1700000000.000100")
    assert store.is_bot_thread("C1", "1700000000.000100")
    assert not store.is_bot_thread("C1", "1700000000.000200")
    assert not store.is_bot_thread("C2", "1700000000.000100")

    assert store.autoanswer("C1") is False
    store.set_autoanswer("C1", True)
    assert store.autoanswer("C1") is True
    store.set_autoanswer("C1", False)
    assert store.autoanswer("C1") is False


def test_history_records_every_step_and_answers_as_of_a_date(store, docs):
    assert sync(store, docs, METRICS, now=T0).baseline
    path = term_file(docs)
    sync(store, docs, METRICS, now=T0 + DAY)                       # added, as a draft
    term_file(docs, text="an early warning")
    sync(store, docs, METRICS, now=T0 + 2 * DAY)                   # draft edited
    term_file(docs, status="approved", version="1.0", text="an early warning")
    sync(store, docs, METRICS, now=T0 + 3 * DAY)                   # approved
    term_file(docs, status="deprecated", version="1.1", text="an early warning",
              extra="\nreplaced_by: mql")
    sync(store, docs, METRICS, now=T0 + 4 * DAY)                   # deprecated
    path.unlink()
    sync(store, docs, METRICS, now=T0 + 5 * DAY)                   # removed

    history = store.history("churn_signal")
    assert [(v.change, v.status, v.version) for v in history] == [
        ("added", "draft", "0.1"), ("changed", "draft", "0.1"), ("approved", "approved", "1.0"),
        ("deprecated", "deprecated", "1.1"), ("removed", "deprecated", "1.1")]

    def as_of(days: int):
        found = store.definition_as_of("churn_signal", (T0 + days * DAY).date())
        return found and (found.version, found.status)

    assert as_of(-1) is None      # not yet written
    assert as_of(2) is None       # only ever a draft so far: nothing in force
    assert as_of(3) == ("1.0", "approved")
    assert as_of(4) == ("1.1", "deprecated")
    assert as_of(5) is None       # removed

    changes = store.recent_changes(limit=3)
    assert [c.change for c in changes] == ["removed", "deprecated", "approved"]
    assert changes[2].before == "A churn signal is an early warning raised on an account by " \
                                "the customer health model."
    assert [c.change for c in store.recent_changes(since=(T0 + 4 * DAY).date())] == [
        "removed", "deprecated"]


def test_define_as_of_answers_with_the_version_in_force_that_day(store, docs):
    mql = docs / "terms" / "mql.md"
    sync(store, docs, METRICS, now=T0)
    edit(mql, "reached 65 or more", "reached 70 or more")
    edit(mql, 'version: "3.0"', 'version: "3.1"')
    sync(store, docs, METRICS, now=T0 + 10 * DAY)

    before = answer_as_of(store, "MQLs", (T0 + 9 * DAY).date())  # an alias works
    after = answer_as_of(store, "mql", (T0 + 10 * DAY).date())
    assert (before.version, after.version) == ("3.0", "3.1")
    assert "65 or more" in before.definition and "70 or more" in after.definition
    assert before.notice == "As of 2027-01-13: version 3.0, in force since 2026-09-15."
    # The baseline is in force from the date its owners put on it, not from the first sync.
    with pytest.raises(NotRecorded, match="history starts on 2026-09-15"):
        answer_as_of(store, "mql", dt.date(2025, 3, 1))
    with pytest.raises(NotRecorded, match="not in the definition history"):
        answer_as_of(store, "no such thing", dt.date(2027, 1, 1))


def test_a_term_and_its_metric_keep_separate_histories(store, docs, tmp_path):
    sync(store, docs, METRICS, now=T0)
    assert store.history("clv")[0].kind == "term"            # the term wins a shared id
    assert store.history("clv", kind="metric")[0].kind == "metric"
    assert store.resolve("mql_count").kind == "metric"
    assert store.resolve_target("Lifecycle") == "lifecycle"
    assert store.resolve_target("marketing qualified lead") == "mql"
    assert store.resolve_target("ALL") == "all"
    assert store.resolve_target("nothing like it") is None


def test_claims_older_than_a_day_are_dropped_and_recent_ones_still_refuse(store):
    assert store.claim_event("EvOld") is True and store.claim_event("EvNew") is True
    two_days_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    t = schema.processed_events
    with store.transaction() as conn:
        conn.execute(update(t).where(t.c.event_id == "EvOld").values(at=two_days_ago))

    assert store.forget_claims(dt.timedelta(days=1)) == 1
    assert store.claim_event("EvNew") is False  # a redelivery of a recent event: still refused
    assert store.claim_event("EvOld") is True  # the old claim is gone
