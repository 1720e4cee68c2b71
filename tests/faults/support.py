"""A running Slack app (HTTP, signed requests, Web API stand-in) with its background loop."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.health import Health, readiness, report
from bot.services import Services
from bot.settings import Settings
from bot.slack.app import create_app
from bot.slack.notifier import SlackNotifier
from bot.slack.serving import http_server, serve_in_thread
from bot.state.runner import start_background
from bot.state.store import StateStore
from bot.state.sync import sync
from knowledge.service import KnowledgeBase
from metrics.catalog import metric_ids
from tests.conftest import ROOT
from tests.slack_requests import SlackSender
from tests.slack_standin import SlackStandIn

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
METRICS = ROOT / "metrics" / "definitions"


@dataclass
class Running:
    """One app under test: send it signed requests, read what it posted."""

    slack: SlackSender
    api: SlackStandIn
    store: StateStore
    services: Services
    base_url: str
    health: Health
    stops: list[Callable[[], None]] = field(default_factory=list)

    def get(self, path: str) -> tuple[int, dict | str]:
        """GET a path of the app's HTTP server: (status, JSON body or text)."""
        import http.client
        from urllib.parse import urlsplit

        url = urlsplit(self.base_url)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read().decode()
        finally:
            conn.close()
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, body

    def answer_to(self, command: str, text: str, name: str, **kw) -> dict:
        """Run a slash command and return what arrived at its response_url."""
        url = self.api.response_url(name)
        status, _ = self.slack.command(command, text, url, **kw)
        assert status == 200
        return self.api.wait_for(f"response/{name}")[0].body


@pytest.fixture
def serve(slack_api, tmp_path) -> Iterator[Callable[..., Running]]:
    """`serve(services, **settings)`: start the app, with its background loop if asked."""
    started: list[Running] = []

    def start(services: Services, *, background: bool = False, baseline: bool = True,
              store: StateStore | None = None, glossary_dir: Path | None = None,
              **overrides) -> Running:
        settings = Settings(
            slack_bot_token="xoxb-test", slack_signing_secret=SECRET,
            slack_api_base_url=slack_api.api_url,
            database_url=f"sqlite:///{tmp_path / 'state.db'}",
            glossary_dir=glossary_dir or services.knowledge.root, metrics_dir=METRICS,
            **overrides)
        store = store or StateStore.from_url(settings.database_url)
        if baseline:
            sync(store, settings.glossary_dir, settings.metrics_dir,
                 now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        app = create_app(settings, services, store)
        health = Health()
        ready = lambda: report(readiness(  # noqa: E731
            health, store, settings.sync_interval_s,
            services.metrics.ping if services.metrics else None))
        server = http_server(app, "127.0.0.1", 0, ready)
        serve_in_thread(server)
        base = f"http://127.0.0.1:{server.server_port}"
        running = Running(SlackSender(f"{base}/slack/events", SECRET), slack_api, store,
                          services, base, health)
        running.stops.append(lambda: (server.shutdown(), server.server_close()))
        if background:
            notifier = SlackNotifier.like(app.client)
            running.stops.append(start_background(settings, store, notifier, services, health))
        started.append(running)
        return running

    yield start
    for running in started:
        for stop in reversed(running.stops):
            stop()
        running.store.close()


@pytest.fixture
def own_kb(docs, model, kb) -> KnowledgeBase:
    """A knowledge base over an editable copy of the glossary (vectors from the shared cache)."""
    return KnowledgeBase(docs, model, kb.cache_dir, metric_ids=metric_ids)
