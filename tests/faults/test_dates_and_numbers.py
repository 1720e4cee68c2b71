"""Dates, periods and counts at the edges of the calendar and of integers: a one-line message
on every surface (a Slack reply, the console, the command line with exit 2), never silence or
a traceback; and what people type is shown by the console as typed, never read as markup."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from bot.console import respond
from bot.services import Services
from bot.state.store import StateStore
from bot.state.sync import sync
from tests.conftest import AS_OF, GLOSSARY, ROOT

SSOT = str(Path(sys.executable).parent / "ssot")
FUTURE = "is too far in the future to look up"
PAST = "is too far in the past to look up"


def test_slack_replies_say_which_date_is_out_of_range(serve, kb, metric_engine):
    running = serve(Services(knowledge=kb, metrics=metric_engine))

    def reply(command: str, text: str, name: str) -> str:
        return running.answer_to(command, text, name)["text"]

    assert f"'9999-12-31' {FUTURE}" in reply("/define", "mql as of 9999-12-31", "define-late")
    assert f"'0001-01-01' {PAST}" in reply("/define", "mql as of 0001-01-01", "define-early")
    ranged = reply("/metric", "bookings 0001-01-01..9999-12-31", "metric-range")
    assert "'0001-01" in ranged and PAST in ranged
    assert f"'9999-q4' {FUTURE}" in reply("/metric", "bookings 9999-Q4", "metric-quarter").lower()
    assert f"'0001-01-01' {PAST}" in reply("/ssot", "changes 0001-01-01", "changes")
    # and an ordinary day still answers
    assert reply("/define", "mql as of 2025-06-01", "define-ok").startswith(
        "Marketing Qualified Lead (MQL): A Marketing Qualified Lead")


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory, warehouse_url) -> dict[str, str]:
    """A synced state store and the demo warehouse; run outside the repo, so no .env is read."""
    home = tmp_path_factory.mktemp("cli-edges")
    database_url = f"sqlite:///{home / 'state.db'}"
    store = StateStore.from_url(database_url)
    sync(store, GLOSSARY, ROOT / "metrics" / "definitions",
         now=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    store.close()
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "COLUMNS": "200",
            "SSOT_CACHE_DIR": str(home / "cache"), "DATABASE_URL": database_url,
            "WAREHOUSE_URL": warehouse_url, "SSOT_AS_OF": AS_OF.isoformat(),
            "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_BASE_URL": "http://127.0.0.1:9/api/"}


@pytest.mark.parametrize(("args", "expected"), [
    (["metric", "bookings", "--period", "0001-01-01..9999-12-31"], f"'0001-01-01' {PAST}"),
    (["metric", "bookings", "--as-of", "9999-12-31"], f"'9999-12-31' {FUTURE}"),
    (["metric", "bookings", "--as-of", "0001-01-01"], f"'0001-01-01' {PAST}"),
    (["sql", "bookings", "--period", "9999-Q4"], f"'9999-Q4' {FUTURE}"),
    (["define", "mql", "--as-of", "9999-12-31"], f"'9999-12-31' {FUTURE}"),
    (["define", "mql", "--as-of", "0001-01-01"], f"'0001-01-01' {PAST}"),
    (["gaps", "--limit", "99999999999999999999"], "--limit must be from 1 to 1,000"),
    (["gaps", "--limit", "0"], "--limit must be from 1 to 1,000"),
    (["notify", "--limit", "99999999999999999999"], "--limit must be from 1 to 1,000"),
    (["serve", "--http", "--port", "99999999"], "--port must be from 0 to 65,535"),
], ids=lambda value: " ".join(value) if isinstance(value, list) else "")
def test_cli_usage_errors_are_one_line_and_exit_2(cli_env, tmp_path, args, expected):
    done = subprocess.run([SSOT, *args], capture_output=True, env=cli_env, cwd=tmp_path,
                          timeout=300, check=False)
    stderr = done.stderr.decode()
    assert "Traceback" not in stderr
    assert done.returncode == 2, stderr
    assert stderr.strip().splitlines() == [stderr.strip()] and expected in stderr


def shown(renderable) -> str:
    """What the terminal shows when `ssot chat` prints a reply."""
    console = Console(record=True, width=200)
    console.print(renderable)
    return console.export_text()


def test_console_shows_typed_text_as_typed_and_edge_dates_as_messages(kb, metric_engine):
    services = Services(knowledge=kb, metrics=metric_engine)
    assert "No governed term is called '[/x]'" in shown(respond(services, "/define [/x]"))
    assert "'[bold]mql'" in shown(respond(services, "/define [bold]mql"))
    assert "unknown command /x[/x]" in shown(respond(services, "/x[/x]"))
    ranged = shown(respond(services, "/metric bookings 0001-01-01..9999-12-31"))
    assert "'0001-01" in ranged and PAST in ranged
    assert "[period] [by DIM]" in shown(respond(services, "/help"))
