"""Measure definition sync and notification delivery against a loopback Slack stand-in.

Prints one line per figure: sync times (baseline, no change, one change fanned out to N
channels) and delivery throughput with one and two workers, on SQLite and, when
TEST_POSTGRES_URL is set, PostgreSQL. Run: .venv/bin/python benchmarks/bench_notify.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.slack.notifier import SlackNotifier, notification_client  # noqa: E402
from bot.state.delivery import deliver_pending  # noqa: E402
from bot.state.store import StateStore  # noqa: E402
from bot.state.sync import sync  # noqa: E402
from tests.slack_standin import SlackStandIn  # noqa: E402

METRICS = ROOT / "metrics" / "definitions"
CHANNELS = 500


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def prepare(url: str, schema: str | None, docs: Path) -> StateStore:
    store = StateStore.from_url(url, schema_name=schema)
    _, baseline = timed(lambda: sync(store, docs, METRICS))
    _, unchanged = timed(lambda: sync(store, docs, METRICS))
    for n in range(CHANNELS):
        store.subscribe(f"C{n:05d}", "all")
    mql = docs / "terms" / "mql.md"
    mql.write_text(mql.read_text().replace("65 or more", "70 or more"), encoding="utf-8")
    report, changed = timed(lambda: sync(store, docs, METRICS))
    print(f"  sync: baseline of 74 definitions {baseline * 1000:.0f} ms, no change "
          f"{unchanged * 1000:.0f} ms, one change queued to {report.queued} channels "
          f"{changed * 1000:.0f} ms")
    return store


def deliver(stores: list[StateStore], api: SlackStandIn) -> float:
    def work(store: StateStore) -> None:
        deliver_pending(store, SlackNotifier(notification_client("xoxb-bench", api.api_url)),
                        limit=10_000)

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def run(label: str, url: str, schema: str | None, workers: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    try:
        docs = tmp / "glossary_docs"
        shutil.copytree(ROOT / "glossary_docs", docs)
        if url.startswith("sqlite"):
            url = url.format(tmp=tmp)
        print(f"{label}, {workers} worker(s):")
        store = prepare(url, schema, docs)
        api = SlackStandIn().start()
        stores = [StateStore.from_url(url, schema_name=schema) for _ in range(workers)]
        seconds = deliver(stores, api)
        posts = Counter(c.value("metadata")["event_payload"]["notification_id"]
                        for c in api.delivered("chat.postMessage"))
        once = sum(1 for n in posts.values() if n == 1)
        print(f"  delivery: {len(posts)} notifications in {seconds:.2f} s = "
              f"{len(posts) / seconds:.0f}/s; posted exactly once: {once}/{CHANNELS}")
        api.stop()
        for s in [store, *stores]:
            s.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if schema:
            from sqlalchemy import create_engine

            engine = create_engine(url)
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            engine.dispose()


def main() -> None:
    for workers in (1, 2):
        run("SQLite", "sqlite:///{tmp}/ssot.db", None, workers)
    pg = os.environ.get("TEST_POSTGRES_URL")
    if pg:
        for workers in (1, 2):
            run("PostgreSQL", pg, f"ssot_bench_{os.getpid()}_{workers}", workers)
    else:
        print("PostgreSQL: skipped (set TEST_POSTGRES_URL)")


if __name__ == "__main__":
    main()
